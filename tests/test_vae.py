"""The sleep-scheduler VAE: its size against the original's, shapes, the loss terms' closed forms,
the error metric, seeded reruns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sleeputils.nets.vae import VAE, VAEConfig, kl_divergence, reconstruction


@pytest.mark.parametrize(("latent", "encoder", "decoder"),
                         [(5, 69_153, 74_497), (20, 70_188, 121_537)])
def test_parameter_counts_match_the_original(latent: int, encoder: int, decoder: int) -> None:
    vae = VAE(VAEConfig(latent=latent), torch.Generator().manual_seed(0))
    assert vae.n_parameters() == (encoder, decoder)


def test_shapes_and_range() -> None:
    vae = VAE(VAEConfig(), torch.Generator().manual_seed(0))
    x = torch.rand(4, 1, 28, 28)
    mu, log_var = vae.encode(x)
    assert mu.shape == log_var.shape == (4, 5)
    out = vae.decode(mu)
    assert out.shape == (4, 1, 28, 28) and 0 < out.min() and out.max() < 1


def test_kl_is_zero_at_the_prior_and_matches_the_closed_form() -> None:
    assert torch.all(kl_divergence(torch.zeros(3, 5), torch.zeros(3, 5)) == 0)
    mu, log_var = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.5, -1.0]])
    expected = 0.5 * sum(np.exp(lv) + m * m - 1 - lv for m, lv in ((1, 0.5), (-2, -1.0)))
    assert torch.isclose(kl_divergence(mu, log_var), torch.tensor([expected]).float()).all()


def test_reconstruction_terms() -> None:
    x = torch.tensor([1.0, 0.0, 1.0, 0.0]).reshape(1, 1, 2, 2)
    x_hat = torch.full((1, 1, 2, 2), 0.25)
    assert torch.isclose(reconstruction(x, x_hat, "mae"), torch.tensor([0.75 * 2 + 0.25 * 2]))
    bce = -(2 * np.log(0.25) + 2 * np.log(0.75))
    assert torch.isclose(reconstruction(x, x_hat, "bce"), torch.tensor([bce], dtype=torch.float32))


def test_errors_are_the_summed_absolute_error_through_the_mean() -> None:
    vae = VAE(VAEConfig(), torch.Generator().manual_seed(1))
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    xt = torch.from_numpy(x).reshape(3, 1, 28, 28)
    with torch.no_grad():
        manual = (xt - vae.decode(vae.encode(xt)[0])).abs().sum(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(vae.reconstruction_errors(x), manual, rtol=1e-6)


def test_training_is_seeded_and_lowers_the_loss() -> None:
    x = (np.random.default_rng(0).random((64, 784)) > 0.7).astype(np.float32)
    runs = []
    for _ in range(2):
        vae = VAE(VAEConfig(), torch.Generator().manual_seed(2))
        losses = vae.fit(x, epochs=3, batch_size=16, generator=torch.Generator().manual_seed(3))
        runs.append((losses, vae.reconstruction_errors(x)))
    assert runs[0][0] == runs[1][0]  # same seeds, same numbers
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0][-1] < runs[0][0][0]


def test_recalls_do_not_depend_on_the_evaluation_batch() -> None:
    vae = VAE(VAEConfig(latent=5), torch.Generator().manual_seed(0))
    x = torch.rand(130, 784, generator=torch.Generator().manual_seed(1))
    # equal to float rounding: bit-identical on some CPUs, not on others (kernels differ by
    # batch size); a slicing mistake would move whole images
    np.testing.assert_allclose(vae.reconstruct(x, batch=50), vae.reconstruct(x, batch=130),
                               rtol=0, atol=1e-6)


def test_channels_last_recall_equals_the_default_layout() -> None:
    # reconstruct runs NHWC tensors for speed; the plain NCHW forward pass is the known answer
    vae = VAE(VAEConfig(latent=5), torch.Generator().manual_seed(0))
    x = torch.rand(130, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain = vae.decode(vae.encode(x)[0]).reshape(130, -1).numpy()
    np.testing.assert_allclose(vae.reconstruct(x), plain, rtol=0, atol=1e-6)
