"""Sleep Replay Consolidation: one sleep on a trained network, and SRC as an after-task hook.

One sleep (see book/methods/sleep.md, src-hook): normalise on the data (alpha_k = alpha_scale *
lambda_k, eq-lambda), drive the network's own weights with Bernoulli spikes from the data's mean
(eq-input-spikes), apply the local rule (eq-plasticity), and write the weights back with no
rescaling; the momentum buffers are left as they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..nets.mlp import MLP
from ..training import Hook, TaskContext
from .fast import sleep_fast
from .inputs import make_spike_train
from .normalisation import diehl_lambdas, layer_scales
from .presets import SleepParams
from .readable import sleep_readable

ENGINES = {"fast": sleep_fast, "readable": sleep_readable}


@dataclass(frozen=True)
class SleepReport:
    """Diagnostics of one sleep."""

    steps: int
    alpha: tuple[float, ...]
    spike_counts: tuple[int, ...]  # input spikes, then spikes of each layer, summed over steps
    seconds: float
    unit_spikes: tuple[np.ndarray, ...] = ()  # spikes of every neuron, per layer 1..L


def sleep(
    net: MLP,
    data: np.ndarray,
    params: SleepParams,
    steps: int,
    rng: np.random.Generator,
    image_shape: tuple[int, int] | None = None,
    engine: str = "fast",
) -> SleepReport:
    """Run one SRC sleep on ``net`` in place.

    ``data`` is the sleep's data D: it gives both the layer gains and the mean input (see
    book/methods/sleep.md, src-hook).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown sleep engine {engine!r}; valid: {', '.join(ENGINES)}")
    thresholds = params.thresholds(net.n_layers)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 2 or data.shape[1] != net.config.sizes[0] or len(data) == 0:
        raise ValueError(f"sleep data must be (n > 0, {net.config.sizes[0]}), got {data.shape}")
    window = params.window if image_shape is not None else None
    start = time.perf_counter()
    weights = net.numpy_weights()
    maxima = net.layer_maxima(torch.from_numpy(data))
    alpha = [params.alpha_scale * lam for lam in diehl_lambdas(layer_scales(weights, maxima))]
    spikes = make_spike_train(
        data.mean(axis=0), steps, params.spike_gain, rng, window=window, image_shape=image_shape
    )
    new_weights, counts, units = ENGINES[engine](
        weights, alpha, thresholds, params.inc, params.dec, params.decay, spikes
    )
    net.set_numpy_weights(new_weights)
    return SleepReport(
        steps=steps,
        alpha=tuple(alpha),
        spike_counts=tuple(int(c) for c in counts),
        unit_spikes=tuple(units),
        seconds=time.perf_counter() - start,
    )


class SRC(Hook):
    """SRC as an after-task hook: sleep after every task (book/methods/sleep.md, src-hook).

    ``sleep_data(ctx)`` gives the images the sleep is normalised on and driven by (for MNIST:
    every training image of the classes seen so far); ``length_scale`` shortens sleeps for quick
    smoke runs.
    """

    name = "src"

    def __init__(
        self,
        params: SleepParams,
        sleep_data: Callable[[TaskContext], np.ndarray],
        rng: np.random.Generator,
        image_shape: tuple[int, int] | None = None,
        length_scale: float = 1.0,
        engine: str = "fast",
        after_tasks: Callable[[int], bool] | None = None,
    ) -> None:
        self.params = params
        self.sleep_data = sleep_data
        self.rng = rng
        self.image_shape = image_shape
        self.length_scale = length_scale
        self.engine = engine
        self.after_tasks = after_tasks or (lambda i: True)

    def after_task(self, ctx: TaskContext) -> str | None:
        if not self.after_tasks(ctx.index):
            return None
        steps = self.params.sleep_length(ctx.index + 1, self.length_scale)
        report = sleep(
            ctx.net,
            self.sleep_data(ctx),
            self.params,
            steps,
            self.rng,
            image_shape=self.image_shape,
            engine=self.engine,
        )
        ctx.log["sleep"] = report
        return "after_sleep"
