"""The fast SRC engine: the same dynamics as :mod:`.readable`, event-driven.

See book/methods/sleep.md, src-engines.

Sleep activity is sparse: a dozen input spikes per step and rare hidden spikes. So instead of
dense products this kernel

* adds, for each input that spiked, one column of W_k to the input current (columns are stored
  contiguously: W_k is kept transposed, shape (n_in, n_out));
* applies plasticity only to the rows of neurons that spiked (the rule leaves other rows alone);
* decays and thresholds the membranes, the only dense work (a few thousand numbers per step).

All weight layers live in one flat float64 buffer so a single compiled function handles any depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from .inputs import SpikeTrain


@numba.njit(cache=True, inline="always")
def _g(w: float) -> float:
    """2 * sigmoid(-1000 w), computed without overflow (see readable.plasticity_factor)."""
    z = 1000.0 * w
    if z > 0.0:
        e = math.exp(-z)
        return 2.0 * e / (1.0 + e)
    return 2.0 / (1.0 + math.exp(z))


@numba.njit(cache=True)
def _sleep_kernel(
    flat: np.ndarray,  # all W_k^T, concatenated (modified in place)
    offsets: np.ndarray,  # start of W_k^T in flat, per layer
    sizes: np.ndarray,  # n_0 .. n_L
    alpha: np.ndarray,
    thresholds: np.ndarray,
    inc: float,
    dec: float,
    decay: float,
    indptr: np.ndarray,
    indices: np.ndarray,
) -> np.ndarray:
    n_layers = alpha.size
    widest = sizes.max()
    v_offsets = np.zeros(n_layers + 1, dtype=np.int64)
    for k in range(n_layers):
        v_offsets[k + 1] = v_offsets[k] + sizes[k + 1]
    v = np.zeros(v_offsets[n_layers])
    current = np.zeros(widest)
    pre = np.empty(widest, dtype=np.int64)
    post = np.empty(widest, dtype=np.int64)
    is_pre = np.zeros(widest, dtype=np.bool_)
    counts = np.zeros(n_layers + 1, dtype=np.int64)
    units = np.zeros(v_offsets[n_layers], dtype=np.int64)  # spikes per neuron, all layers
    for t in range(indptr.size - 1):
        n_pre = indptr[t + 1] - indptr[t]
        for p in range(n_pre):
            pre[p] = indices[indptr[t] + p]
        counts[0] += n_pre
        for k in range(n_layers):
            n_in = sizes[k]
            n_out = sizes[k + 1]
            base = offsets[k]
            vb = v_offsets[k]
            # I_k = alpha_k * W_k s_{k-1}: sum the columns of the inputs that spiked.
            for i in range(n_out):
                current[i] = 0.0
            for p in range(n_pre):
                col = base + pre[p] * n_out
                for i in range(n_out):
                    current[i] += flat[col + i]
            # v <- decay * v + I; spike where v >= theta * beta_k.
            n_post = 0
            for i in range(n_out):
                vi = decay * v[vb + i] + alpha[k] * current[i]
                v[vb + i] = vi
                if vi >= thresholds[k]:
                    post[n_post] = i
                    n_post += 1
            # Plasticity on the rows of spiking neurons, then reset them.
            if n_post > 0:
                for p in range(n_pre):
                    is_pre[pre[p]] = True
                for q in range(n_post):
                    i = post[q]
                    units[vb + i] += 1
                    for j in range(n_in):
                        idx = base + j * n_out + i
                        w = flat[idx]
                        if is_pre[j]:
                            flat[idx] = w + inc * _g(w)
                        else:
                            flat[idx] = w - dec * _g(w)
                    v[vb + i] = 0.0
                for p in range(n_pre):
                    is_pre[pre[p]] = False
            counts[k + 1] += n_post
            for q in range(n_post):
                pre[q] = post[q]
            n_pre = n_post
    return counts, units


def sleep_fast(
    weights: Sequence[np.ndarray],
    alpha: Sequence[float],
    thresholds: Sequence[float],
    inc: float,
    dec: float,
    decay: float,
    spikes: SpikeTrain,
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Same contract as :func:`.readable.sleep_readable`, event-driven and compiled."""
    shapes = [np.shape(w) for w in weights]
    sizes = np.array([shapes[0][1]] + [s[0] for s in shapes], dtype=np.int64)
    flat = np.concatenate([np.asarray(w, dtype=np.float64).T.ravel() for w in weights])
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes[:-1]]).astype(np.int64)
    counts, units = _sleep_kernel(
        flat,
        offsets,
        sizes,
        np.asarray(alpha, dtype=np.float64),
        np.asarray(thresholds, dtype=np.float64),
        float(inc),
        float(dec),
        float(decay),
        spikes.indptr,
        spikes.indices,
    )
    out = []
    for (n_out, n_in), start in zip(shapes, offsets, strict=True):
        out.append(flat[start : start + n_out * n_in].reshape(n_in, n_out).T.copy())
    return out, counts, np.split(units, np.cumsum(sizes[1:-1]))
