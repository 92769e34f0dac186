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

from sleeputils.protocols.vae_common import make_vae, split_data
from sleeputils.protocols.vae_schedule import run_schedule


class _NoClassifier:
    def predict(self, x):  # the recall accuracy is timed apart: it is one matrix product
        return torch.zeros(len(x), dtype=torch.long).numpy()


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
    config = {"latent": 5, "loss": "mae", "lr": 1e-3, "seed": 0, "test_subset": None,
              "cycles": args.cycles, "total_epochs": 100, "num": 50, "rem_share": args.share,
              "rem_end": args.share, "rem_from": "frozen", "split": "inverted"}
    start = time.perf_counter()
    run_schedule(data, vae.state_dict(), _NoClassifier(), config, 0)
    total = time.perf_counter() - start
    print(f"{args.cycles} cycles: {total / args.cycles:.1f} s per cycle")
    print(f"schedule {total:.1f} s")


if __name__ == "__main__":
    main()
