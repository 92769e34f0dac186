"""Diehl et al.'s data-based normalisation, with the recursion quirk of the original.

See book/methods/sleep.md, src-normalisation (eq-layer-scale, eq-lambda).

For each layer k: s_k = max(largest positive weight, largest test-mode activation), then
f_0 = 1, f_k = s_k / f_{k-1}, lambda_k = 1 / f_k. So lambda_3 = s_2 / (s_1 * s_3), not the
textbook s_2 / s_3: the original code carries ``previous_factor = applied_inv_factor``. For two
layers both agree. SRC then uses alpha_k = alpha_scale * lambda_k as a gain on the input current.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class SilentLayer(ValueError):
    """A layer with no positive weight and no positive activation on the normalisation data:
    it never fires, so the network answers one class whatever it sees, and it has no scale."""


def layer_scales(weights: Sequence[np.ndarray], activation_maxima: Sequence[float]) -> list[float]:
    """s_k = max(0, max W_k, max activation of layer k) for every layer."""
    if len(weights) != len(activation_maxima):
        raise ValueError("need one activation maximum per weight layer")
    return [
        max(0.0, float(np.max(w)), float(a))
        for w, a in zip(weights, activation_maxima, strict=True)
    ]


def diehl_lambdas(scales: Sequence[float]) -> list[float]:
    """lambda_k from the layer scales s_k, copying the original recursion.

    See book/methods/sleep.md, eq-lambda.
    """
    lambdas = []
    previous = 1.0
    for k, s in enumerate(scales, start=1):
        if s <= 0:
            raise SilentLayer(
                f"layer {k} has no positive weight and no positive activation on the "
                "normalisation data, so it cannot be normalised (is the network trained?)"
            )
        factor = s / previous
        lambdas.append(1.0 / factor)
        previous = factor
    return lambdas
