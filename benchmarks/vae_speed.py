"""Seconds of the generative chapters' work on this machine: an epoch of the initial VAE, one
sleep cycle and one whole schedule of the original's grid (100 epochs, 50 images per phase, REM
from the frozen VAE, both full test sets measured after every cycle).

    python benchmarks/vae_speed.py [--cycles 10] [--share 0.5]

Not a test: it prints. The last line is ``schedule <seconds> s``.
"""

from __future__ import annotations

import argparse
import time

import torch

from sleeputils.nets.vae import EVAL_BATCH
from sleeputils.protocols.vae import ScheduleConfig, ScheduleUnit, run_schedule
from sleeputils.protocols.vae_common import make_vae, split_data


class _NoClassifier:
    def predict(self, x):  # the recall accuracy is timed apart: it is one matrix product
        return torch.zeros(len(x), dtype=torch.long).numpy()


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@torch.no_grad()
def _plain_recall(vae, x: torch.Tensor) -> torch.Tensor:
    """The recall in the default (NCHW) layout, in the same batches as ``reconstruct``."""
    return torch.cat([vae.decode(vae.encode(x[i : i + EVAL_BATCH])[0])
                      for i in range(0, len(x), EVAL_BATCH)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.5)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    data = split_data("inverted")
    vae = make_vae(5, "mae", 1e-3, 0)
    start = time.perf_counter()
    vae.fit(data["d1_train"], 1, 32, torch.Generator().manual_seed(1))
    epoch = time.perf_counter() - start
    print(f"initial VAE: {epoch:.1f} s per epoch of 60000 images (at most 25 epochs)")
    x = torch.as_tensor(data["d1_test"][:2000]).reshape(-1, 1, 28, 28)
    plain = min(_timed(lambda: _plain_recall(vae, x)) for _ in range(3))
    fast = min(_timed(lambda: vae.reconstruct(x)) for _ in range(3))
    print(f"measuring 2000 images: default layout {plain:.2f} s, channels-last (used) "
          f"{fast:.2f} s, ratio {plain / fast:.2f}")
    config = ScheduleConfig(latent=5, loss="mae", lr=1e-3, seed=0, total_epochs=100, num=50)
    unit = ScheduleUnit.of(config, "2024", args.cycles, args.share, args.share, "frozen")
    start = time.perf_counter()
    run_schedule(data, vae.state_dict(), _NoClassifier(), unit, 0)
    total = time.perf_counter() - start
    print(f"{args.cycles} cycles: {total / args.cycles:.1f} s per cycle")
    print(f"schedule {total:.1f} s")


if __name__ == "__main__":
    main()
