"""The sleep-scheduler VAE: its size against the original's, shapes, the loss terms' closed forms,
the error metric, seeded reruns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sleeputils.nets.vae import LOSSES, VAE, VAEConfig, kl_divergence, reconstruction


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


def test_the_2024_code_version_is_the_vae_as_it_was() -> None:
    # 2024 is our VAE unchanged: the same configuration, so the same modules, draws and steps.
    assert VAEConfig.of("2024") == VAEConfig()
    assert VAEConfig.of("2024", latent=20, loss="bce") == VAEConfig(latent=20, loss="bce")
    with pytest.raises(ValueError, match="code version must be one of"):
        VAEConfig.of("2025")


@pytest.mark.parametrize(("version", "leaky", "relu", "eps"),
                         [("2023", 4, 2, 1e-7), ("2024", 0, 6, 1e-8)])
def test_code_versions_choose_the_layers_and_the_optimiser(version: str, leaky: int, relu: int,
                                                          eps: float) -> None:
    # 2023: leaky ReLU (slope 0.3) after the four hidden convolutions, ReLU after the two dense
    # layers; 2024: ReLU everywhere. A leaky unit passes -1 as -0.3.
    vae = VAE(VAEConfig.of(version), torch.Generator().manual_seed(0))
    acts = [m for m in vae.modules() if isinstance(m, torch.nn.ReLU | torch.nn.LeakyReLU)]
    leaks = [m for m in acts if isinstance(m, torch.nn.LeakyReLU)]
    assert (len(leaks), len(acts) - len(leaks)) == (leaky, relu)
    assert all(m(torch.tensor([-1.0])).item() == pytest.approx(-0.3) for m in leaks)
    assert vae.optimizer.defaults["eps"] == eps and vae.config.latent == 5
    assert vae.n_parameters() == (69_153, 74_497)  # the same layers, the original's count


def test_cross_entropy_from_logits_matches_and_never_vanishes() -> None:
    # Closed form: BCE(x, sigmoid(l)) = softplus(l) - x l; from the logits it equals the
    # cross-entropy of the sigmoid outputs where those are not rounded to 0 or 1.
    x = torch.tensor([1.0, 0.0, 0.3, 0.0]).reshape(1, 1, 2, 2)
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0]).reshape(1, 1, 2, 2)
    closed = (torch.nn.functional.softplus(logits) - x * logits).sum()
    assert torch.isclose(reconstruction(x, logits, "bce_logits"), closed)
    assert torch.isclose(reconstruction(x, logits, "bce_logits"),
                         reconstruction(x, torch.sigmoid(logits), "bce"))
    # A black pixel predicted white (logit 30, sigmoid 1.0 in float32): the gradient on the logit
    # is sigmoid(l) - x = 1 from the logits, 0 through the rounded sigmoid for the other two
    # terms: the blank page the absolute error cannot leave.
    grads = {}
    for kind in LOSSES:
        logit = torch.full((1, 1, 1, 1), 30.0, requires_grad=True)
        out = logit if kind == "bce_logits" else torch.sigmoid(logit)
        reconstruction(torch.zeros(1, 1, 1, 1), out, kind).sum().backward()
        grads[kind] = logit.grad.item()
    assert grads == {"bce_logits": 1.0, "bce": 0.0, "mae": 0.0}


def test_the_2023_code_trains_without_input_dropout() -> None:
    # No mask is drawn: the loss is the known answer computed from the clean input with the
    # same sampling noise.
    vae = VAE(VAEConfig.of("2023"), torch.Generator().manual_seed(0))
    x = (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    with torch.no_grad():
        loss = vae.loss(x, torch.Generator().manual_seed(4))
        mu, log_var = vae.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape,
                                                        generator=torch.Generator().manual_seed(4))
        logits = vae.decoder[:-1](z)
        expected = ((torch.nn.functional.softplus(logits) - x * logits).sum(dim=(1, 2, 3)).mean()
                    + kl_divergence(mu, log_var).mean())
    assert torch.isclose(loss, expected)
