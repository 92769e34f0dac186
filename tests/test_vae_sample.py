"""Sampling decodes in chunks of 50 to 99 images: the same images, bit for bit, as one pass over
the same codes (passes of 1 to 3 images round differently here, so no chunk is that small)."""

from __future__ import annotations

import pytest
import torch

from sleeputils.nets.vae import EVAL_BATCH, VAE, VAEConfig


@pytest.mark.parametrize("loss", ["mae", "bce"])
@pytest.mark.parametrize("n", [0, 1, 3, EVAL_BATCH, EVAL_BATCH + 1, 2 * EVAL_BATCH - 1, 1234])
def test_batched_sampling_equals_one_pass_over_the_same_codes(loss: str, n: int) -> None:
    vae = VAE(VAEConfig(latent=5, loss=loss), torch.Generator().manual_seed(0))
    vae.fit(torch.rand(64, 784, generator=torch.Generator().manual_seed(1)), 1, 32,
            torch.Generator().manual_seed(2))
    sampled = vae.sample(n, torch.Generator().manual_seed(3))
    with torch.no_grad():
        one_pass = vae.decode(torch.randn((n, 5), generator=torch.Generator().manual_seed(3)))
    assert sampled.shape == (n, 1, 28, 28)
    assert torch.equal(sampled, one_pass)
