"""How far does float noise move one trial's numbers? The basis of the check's per-trial band.

Another machine (another BLAS kernel, CPU or thread count) rounds some sums differently; SGD and
the spiking sleep can amplify a last-bit difference. This runs trials of the quick incremental
protocol twice: as is, and with every initial weight moved by one float32 ulp (``nextafter``),
the smallest change a machine could make, and prints how far each headline number moved.
Not a test: it prints, it never fails.

    python benchmarks/float_noise.py [--dataset mnist] [--trials 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch

from sleeputils.data import load_dataset
from sleeputils.nets.mlp import MLP
from sleeputils.protocols import incremental
from sleeputils.protocols.incremental import IncrementalConfig


class NudgedMLP(MLP):
    """The protocol's network with every initial weight one float32 ulp further from zero."""

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.weights = [torch.from_numpy(np.nextafter(w.numpy(), np.sign(w.numpy()) * np.inf))
                        for w in self.weights]


def headline(ds, config: IncrementalConfig, trial: int) -> pd.Series:
    methods = ("sequential", "src", "parallel")
    rows = pd.DataFrame([r for m in methods for r in incremental.run_method(
        ds, incremental.method_unit(config, m, None), trial)])
    rows = rows[rows["headline"].fillna(False).astype(bool)]
    return rows.set_index(["method", "metric"])["value"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion"))
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    config = IncrementalConfig(dataset=args.dataset)
    ds = load_dataset(args.dataset)
    moves = []
    for trial in range(args.trials):
        plain = headline(ds, config, trial)
        incremental.MLP = NudgedMLP
        try:
            nudged = headline(ds, config, trial)
        finally:
            incremental.MLP = MLP
        move = (nudged - plain).rename("moved (points)").reset_index()
        move["trial"] = trial
        moves.append(move)
        print(move.to_string(index=False), flush=True)
    allm = pd.concat(moves)
    acc = allm[allm["metric"] == "final_acc"]
    print("\nlargest |move| of final accuracy per method (points):")
    print(acc.groupby("method")["moved (points)"].apply(lambda v: v.abs().max()).to_string())
    print(f"largest {acc['moved (points)'].abs().max():.2f}")


if __name__ == "__main__":
    main()
