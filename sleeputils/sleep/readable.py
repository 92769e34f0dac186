"""The readable SRC engine: the sleep equations written out step by step, dense.

See book/methods/sleep.md, eq-membrane and eq-plasticity.

Slow (it touches every weight every step) and meant to be read: the fast engine is tested
against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit

from .inputs import SpikeTrain


def plasticity_factor(w: np.ndarray) -> np.ndarray:
    """g(w) = 2 * sigmoid(-1000 w): ~2 for negative weights, ~0 above +0.005.

    See book/methods/sleep.md, eq-sigmoid-gate.
    """
    return 2.0 * expit(-1000.0 * w)


def sleep_readable(
    weights: Sequence[np.ndarray],
    alpha: Sequence[float],
    thresholds: Sequence[float],
    inc: float,
    dec: float,
    decay: float,
    spikes: SpikeTrain,
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Run SRC on copies of ``weights`` (n_out, n_in); return them, the spike count of each
    layer (input first) and the spike count of every neuron of layers 1..L."""
    W = [np.array(w, dtype=np.float64) for w in weights]
    v = [np.zeros(w.shape[0]) for w in W]
    counts = np.zeros(len(W) + 1, dtype=np.int64)
    units = [np.zeros(w.shape[0], dtype=np.int64) for w in W]
    for t in range(spikes.steps):
        pre = spikes.dense(t)
        counts[0] += int(pre.sum())
        for k in range(len(W)):
            v[k] = decay * v[k] + alpha[k] * (W[k] @ pre)
            post = v[k] >= thresholds[k]
            # post spike with pre spike: + inc * g(w); post spike without pre spike: - dec * g(w)
            W[k] += np.outer(post, inc * pre - dec * (1.0 - pre)) * plasticity_factor(W[k])
            v[k][post] = 0.0
            pre = post.astype(np.float64)
            counts[k + 1] += int(post.sum())
            units[k] += post
    return W, counts, units
