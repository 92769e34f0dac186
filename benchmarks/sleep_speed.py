"""Time the first MNIST sleep with both SRC engines (issue: the fast engine's speed goals).

Trains the 784-1200-1200-10 net on MNIST task 1 with the real protocol (2 epochs, 5000 images),
then runs the first sleep (MNIST preset, real mean image of the task-1 classes, alpha from the
data) with the fast and the readable engine from the same spike train, and prints ms/step for
each. The last line is ``speedup <fast over readable>``. Not a test: it prints, it never fails.

    python benchmarks/sleep_speed.py [--readable-steps 300] [--trial]

``--trial`` also times one full MNIST SRC trial (5 tasks, 125k sleep steps, training,
normalisation and evaluation after every task and sleep) before the speed-up line.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sleeputils.data import class_incremental_tasks, load_dataset
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.results.store import ResultStore
from sleeputils.sleep.fast import sleep_fast
from sleeputils.sleep.inputs import make_spike_train
from sleeputils.sleep.normalisation import diehl_lambdas, layer_scales
from sleeputils.sleep.presets import preset
from sleeputils.sleep.readable import sleep_readable
from sleeputils.training import train_epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readable-steps", type=int, default=300)
    parser.add_argument("--trial", action="store_true", help="also time one full SRC trial")
    args = parser.parse_args()
    if args.readable_steps < 1:
        parser.error("--readable-steps must be >= 1")

    ds = load_dataset("mnist")
    task = class_incremental_tasks(ds)[0]
    net = MLP(MLPConfig(sizes=(784, 1200, 1200, 10)), torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    train_epochs(net, task.x_train, task.y_train, 2, torch.Generator().manual_seed(1))
    print(f"trained task 1 in {time.perf_counter() - t0:.1f} s")

    params = preset("mnist")
    data = ds.x_train[np.isin(ds.y_train, task.classes)]
    weights = net.numpy_weights()
    maxima = net.layer_maxima(torch.from_numpy(data))
    alpha = [params.alpha_scale * lam for lam in diehl_lambdas(layer_scales(weights, maxima))]
    steps = params.sleep_length(1)
    spikes = make_spike_train(data.mean(0), steps, params.spike_gain,
                              np.random.default_rng(0), window=11, image_shape=(28, 28))
    args_common = (alpha, params.thresholds(3), params.inc, params.dec, params.decay)
    sleep_fast(weights, *args_common, make_spike_train(data.mean(0), 10, params.spike_gain,
               np.random.default_rng(1), window=11, image_shape=(28, 28)))  # compile

    t0 = time.perf_counter()
    _, counts, _ = sleep_fast(weights, *args_common, spikes)
    fast_ms = (time.perf_counter() - t0) * 1e3 / steps
    per_step = counts / steps
    print(f"spikes per step: input {per_step[0]:.1f}, layers "
          + ", ".join(f"{c:.3f}" for c in per_step[1:]))
    print(f"fast:      {fast_ms:.4f} ms/step over {steps} steps")

    short = make_spike_train(data.mean(0), args.readable_steps, params.spike_gain,
                             np.random.default_rng(0), window=11, image_shape=(28, 28))
    t0 = time.perf_counter()
    sleep_readable(weights, *args_common, short)
    ref_ms = (time.perf_counter() - t0) * 1e3 / args.readable_steps
    print(f"readable: {ref_ms:.4f} ms/step over {args.readable_steps} steps")
    if args.trial:
        t0 = time.perf_counter()
        run_incremental(IncrementalConfig(trials=1, methods=("src",)),
                        store=ResultStore.disabled(), progress=False)
        print(f"one full MNIST SRC trial: {time.perf_counter() - t0:.1f} s")
    print(f"speedup {ref_ms / fast_ms:.1f}")


if __name__ == "__main__":
    main()
