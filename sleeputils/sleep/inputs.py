"""The sleep drive: Bernoulli input spikes from the mean image.

See book/methods/sleep.md, src-input (eq-input-spikes).

Each step a fresh random ``window`` x ``window`` patch of the mean image is kept (every other
pixel is 0 and never spikes); a kept pixel spikes with probability min(1, 2*dt*r_max*x). Only the
window's pixels are drawn, which has the same distribution as drawing every pixel. For feature
inputs (``window=None``) the full mean vector drives every step.

The train is stored sparsely (CSR: ``indptr``, ``indices``) so the readable and the fast engine
consume exactly the same spikes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpikeTrain:
    """Input spikes of T steps: step t fired ``indices[indptr[t]:indptr[t+1]]``."""

    indptr: np.ndarray  # int64, length T + 1
    indices: np.ndarray  # int64 input-unit indices
    n_inputs: int

    @property
    def steps(self) -> int:
        """Number of time steps T."""
        return len(self.indptr) - 1

    def dense(self, t: int) -> np.ndarray:
        """The 0/1 float64 input vector of step t."""
        s = np.zeros(self.n_inputs)
        s[self.indices[self.indptr[t] : self.indptr[t + 1]]] = 1.0
        return s


def _window_pixels(shape: tuple[int, int], window: int, rng: np.random.Generator, n: int):
    """Flat pixel indices (n, window**2) of n random windows; corners uniform over valid spots."""
    h, w = shape
    if window > min(h, w):
        raise ValueError(f"window {window} does not fit images of shape {shape}")
    rows = rng.integers(0, h - window + 1, size=n)
    cols = rng.integers(0, w - window + 1, size=n)
    dr, dc = np.divmod(np.arange(window * window), window)
    return (rows[:, None] + dr) * w + (cols[:, None] + dc)


def make_spike_train(
    mean_input: np.ndarray,
    steps: int,
    spike_gain: float,
    rng: np.random.Generator,
    window: int | None = None,
    image_shape: tuple[int, int] | None = None,
    chunk: int = 4096,
) -> SpikeTrain:
    """Draw T steps of input spikes with P(spike) = min(1, spike_gain * x).

    See book/methods/sleep.md, eq-input-spikes.
    """
    x = np.asarray(mean_input, dtype=np.float64).ravel()
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if window is not None and image_shape is None:
        raise ValueError("a windowed drive needs the image shape")
    counts, picked = [], []
    for start in range(0, steps, chunk):
        n = min(chunk, steps - start)
        if window is None:
            pix = np.broadcast_to(np.arange(x.size), (n, x.size))
        else:
            pix = _window_pixels(image_shape, window, rng, n)
        fired = rng.random(pix.shape) <= np.minimum(1.0, spike_gain * x[pix])
        fired &= x[pix] > 0  # pixels at 0 never spike (u <= 0 has probability 0 anyway)
        counts.append(fired.sum(axis=1))
        picked.append(pix[fired])
    counts_all = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(steps + 1, dtype=np.int64)
    np.cumsum(counts_all, out=indptr[1:])
    indices = np.concatenate(picked).astype(np.int64) if picked else np.zeros(0, np.int64)
    return SpikeTrain(indptr=indptr, indices=indices, n_inputs=x.size)
