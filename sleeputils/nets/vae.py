"""The small convolutional VAE of the sleep-scheduler simulations, in PyTorch and seeded.

See book/methods/generative.md, vae-network. Encoder: input dropout 0.1 (training only), two
stride-2 3x3 convolutions (32, 64, ReLU), dense 16 (ReLU), dense ``latent`` (linear), then two
heads for the mean and log-variance of q(z | x). Decoder: dense 7*7*64 (ReLU), two stride-2 3x3
transposed convolutions (64, 32, ReLU), a 3x3 transposed convolution to one channel with a
sigmoid. "Same" padding as Keras pads it: for stride 2 the extra row and column go at the end.

The original's code exists in two versions (vae-versions), each a declared configuration in
:data:`CODE_VERSIONS`: 2024, the current code (summed absolute error, ReLU after the
convolutions), and 2023, the code of the published schedule figures (summed binary cross-entropy
computed from the decoder's pre-sigmoid outputs, as Keras computes it behind a sigmoid; leaky
ReLU of slope 0.3 after the four hidden convolutions; latent 5; no input dropout, because the
original's training step calls the encoder outside training mode; Adam's epsilon 1e-7).

Every random draw (dropout masks, the sampling noise, REM samples) comes from a
``torch.Generator`` the caller passes, so a run is reproducible on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Reconstruction terms: summed absolute error; summed binary cross-entropy of the sigmoid
#: outputs (its gradient vanishes, as the absolute error's does, where a float32 sigmoid rounds
#: to 0 or 1); the same cross-entropy from the pre-sigmoid outputs (Keras's, never vanishing).
LOSSES = ("mae", "bce", "bce_logits")
#: Activations after the hidden convolutions (the dense layers always use ReLU).
ACTIVATIONS = ("relu", "leaky_relu")
#: The original's two code versions as VAEConfig fields (book/methods/generative.md,
#: vae-versions). 2024 is ours as it stands; its latent size is the chapter's (5 or 20).
CODE_VERSIONS: dict[str, dict] = {
    "2023": {"latent": 5, "loss": "bce_logits", "activation": "leaky_relu",
             "input_dropout": 0.0, "adam_eps": 1e-7},
    "2024": {"loss": "mae", "activation": "relu", "input_dropout": 0.1, "adam_eps": 1e-8},
}
#: Slope of the 2023 code's leaky ReLU (Keras's default).
LEAKY_SLOPE = 0.3
#: Images per forward pass when measuring: the transposed convolutions run about twice as fast
#: on one thread in batches of 50 as in batches of 2000, with the same outputs to float rounding.
EVAL_BATCH = 50
#: Index of the decoder's reshape from a vector to 64 feature maps of 7 x 7.
_UNFLATTEN = 2


@dataclass(frozen=True)
class VAEConfig:
    """The VAE's size and training: ``latent`` 5 or 20 in the original, the reconstruction term
    (:data:`LOSSES`), the activation after the hidden convolutions (:data:`ACTIVATIONS`), input
    dropout while training, Adam at ``lr`` with ``adam_eps``. The defaults are the 2024 code."""

    latent: int = 5
    loss: str = "mae"
    lr: float = 1e-3
    input_dropout: float = 0.1
    kl_weight: float = 1.0
    activation: str = "relu"
    adam_eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.latent < 1:
            raise ValueError(f"latent must be >= 1, got {self.latent}")

    @classmethod
    def of(cls, version: str, **fields) -> VAEConfig:
        """The configuration of one code version of the original (:data:`CODE_VERSIONS`), with
        ``fields`` (e.g. ``lr``, or the 2024 code's ``latent``) on top."""
        if version not in CODE_VERSIONS:
            raise ValueError(f"code version must be one of {tuple(CODE_VERSIONS)}, got "
                             f"{version!r}")
        return cls(**{**CODE_VERSIONS[version], **fields})


class _SamePad(nn.Module):
    """Keras "same" padding of a stride-2 3x3 convolution on an even input: one row and one
    column of zeros at the bottom and right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 1, 0, 1))


class VAE(nn.Module):
    """Encoder, decoder and the loss of eq-vae-loss; ``fit`` trains with Adam."""

    def __init__(self, config: VAEConfig, generator: torch.Generator) -> None:
        super().__init__()
        self.config = config
        d = config.latent

        def act() -> nn.Module:  # after a hidden convolution
            return nn.ReLU() if config.activation == "relu" else nn.LeakyReLU(LEAKY_SLOPE)

        self.encoder = nn.Sequential(
            _SamePad(), nn.Conv2d(1, 32, 3, stride=2), act(),
            _SamePad(), nn.Conv2d(32, 64, 3, stride=2), act(),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 16), nn.ReLU(), nn.Linear(16, d),
        )
        self.mean, self.log_var = nn.Linear(d, d), nn.Linear(d, d)
        self.decoder = nn.Sequential(
            nn.Linear(d, 7 * 7 * 64), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), act(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), act(),
            nn.ConvTranspose2d(32, 1, 3, padding=1), nn.Sigmoid(),
        )
        self._init(generator)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=config.lr, eps=config.adam_eps)

    def _init(self, generator: torch.Generator) -> None:
        """Glorot-uniform weights and zero biases (the Keras defaults), from ``generator``."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    if isinstance(m, nn.ConvTranspose2d):
                        fan_in, fan_out = fan_out, fan_in
                    bound = float(np.sqrt(6.0 / (fan_in + fan_out)))
                    m.weight.copy_((torch.rand(m.weight.shape, generator=generator) * 2 - 1)
                                   * bound)
                    m.bias.zero_()

    def n_parameters(self) -> tuple[int, int]:
        """Trainable parameters of the encoder (with its two heads) and of the decoder."""
        enc = sum(p.numel() for m in (self.encoder, self.mean, self.log_var)
                  for p in m.parameters())
        return enc, sum(p.numel() for p in self.decoder.parameters())

    # --- the model ---------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x) for images ``x`` of shape (n, 1, 28, 28)."""
        h = self.encoder(x)
        return self.mean(h), self.log_var(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (n, 1, 28, 28) in (0, 1) for latent codes ``z``."""
        return self.decoder(z)

    def loss(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Batch loss of eq-vae-loss: corrupted input in, the clean image as the target."""
        p = self.config.input_dropout
        if p > 0:
            keep = (torch.rand(x.shape, generator=generator) >= p).to(x.dtype)
            x_in = x * keep / (1.0 - p)
        else:  # no mask drawn: the generator's stream is the sampling noise's alone
            x_in = x
        mu, log_var = self.encode(x_in)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * log_var) * eps
        if self.config.loss == "bce_logits":
            rec = reconstruction(x, self.decoder[:-1](z), "bce_logits")
        else:
            rec = reconstruction(x, self.decode(z), self.config.loss)
        return rec.mean() + self.config.kl_weight * kl_divergence(mu, log_var).mean()

    # --- training and use --------------------------------------------------------------------
    def fit(self, x: np.ndarray | torch.Tensor, epochs: int, batch_size: int,
            generator: torch.Generator, shuffle: bool = True) -> list[float]:
        """Adam for ``epochs`` passes over ``x`` in mini-batches, shuffled unless ``shuffle`` is
        False (then in the given order); mean loss per epoch."""
        x = _images(x)
        losses = []
        self.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator) if shuffle else torch.arange(len(x))
            total = 0.0
            for i in range(0, len(x), batch_size):
                batch = x[order[i : i + batch_size]]
                loss = self.loss(batch, generator)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                total += loss.item() * len(batch)
            losses.append(total / len(x))
        self.eval()
        return losses

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, batch: int = EVAL_BATCH
               ) -> torch.Tensor:
        """``n`` images decoded from z ~ N(0, I): grey levels, not binarised (REM replay).

        All codes are drawn at once, then decoded in chunks of ``batch`` to ``2 * batch - 1``
        (the remainder joins the last chunk): on one thread 2 to 3 times faster for thousands of
        images, and the same images, bit for bit, as one pass (a test checks it; passes of 1 to
        3 images round differently, which no chunk is unless ``n`` itself is).
        """
        z = torch.randn((n, self.config.latent), generator=generator)
        bounds = [*range(0, max(n // batch, 1) * batch, batch), n]
        return torch.cat([self.decode(z[a:b]) for a, b in zip(bounds[:-1], bounds[1:],
                                                                strict=True)])

    @torch.no_grad()
    def reconstruct(self, x: np.ndarray | torch.Tensor, batch: int = EVAL_BATCH) -> np.ndarray:
        """decode(mean of q(z | x)) of each clean image, as (n, 784) floats: the recall.

        Measuring runs channels-last (NHWC) tensors, which PyTorch hands to oneDNN's
        convolution kernels: about 1.5 times as fast on one thread as the default layout, with
        the same outputs to float rounding. Training keeps the default layout.
        """
        x = _images(x).contiguous(memory_format=torch.channels_last)
        out = [self._recall(x[i : i + batch]) for i in range(0, len(x), batch)]
        return torch.cat(out).reshape(len(x), -1).numpy()

    def _recall(self, x: torch.Tensor) -> torch.Tensor:
        """decode(mean of q(z | x)) with the decoder's feature maps channels-last from the
        reshape on (``_UNFLATTEN``)."""
        h = self.decoder[:_UNFLATTEN + 1](self.encode(x)[0])
        return self.decoder[_UNFLATTEN + 1 :](h.contiguous(memory_format=torch.channels_last))

    @torch.no_grad()
    def reconstruction_errors(self, x: np.ndarray | torch.Tensor, batch: int = EVAL_BATCH
                              ) -> np.ndarray:
        """Per image, sum over pixels of |x - decode(mean of q(z | x))| (eq-vae-error): the
        clean image, no sampling."""
        return absolute_errors(x, self.reconstruct(x, batch))


def absolute_errors(x: np.ndarray | torch.Tensor, recalled: np.ndarray) -> np.ndarray:
    """Per image, the sum over pixels of |x - recalled| (float64 of a float32 sum)."""
    diff = _images(x) - _images(recalled)
    return diff.abs().sum(dim=(1, 2, 3)).numpy().astype(np.float64)


def reconstruction(x: torch.Tensor, out: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image reconstruction term, summed over pixels: absolute error or binary
    cross-entropy of the sigmoid outputs ``out``, or (``"bce_logits"``) the binary
    cross-entropy of the pre-sigmoid outputs ``out``."""
    if kind == "mae":
        return (x - out).abs().sum(dim=(1, 2, 3))
    if kind == "bce_logits":
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(dim=(1, 2, 3))
    return F.binary_cross_entropy(out, x, reduction="none").sum(dim=(1, 2, 3))


def kl_divergence(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Per-image KL(q(z | x) || N(0, I)) = -1/2 sum(1 + log var - mu^2 - var)."""
    return -0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).sum(dim=1)


def _images(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(n, 784) or (n, 28, 28) or (n, 1, 28, 28) -> float32 (n, 1, 28, 28)."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32) if not torch.is_tensor(x) else x)
    return t.reshape(-1, 1, 28, 28).float()
