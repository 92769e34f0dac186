"""Wall time of the quick incremental MNIST chapter with 1 and with N worker processes.

Runs the chapter's protocol exactly as the quick profile configures it (3 trials, every method,
the strength search included), then the same with 6 trials, each first in-process (``--workers
1``, torch's own threads) and then on a local Dask cluster of N single-threaded workers. Nothing
is read from or written to the result store, so every unit is computed. Not a test: it prints the
wall times, checks the records agree, and ends with ``speedup <1 worker over N>`` (over all runs).

    python benchmarks/parallel_speed.py [--workers 2] [--trials 3 6]
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from sleeputils.chapters.registry import Book, find_project
from sleeputils.protocols.incremental import run_incremental
from sleeputils.results.executor import ENV_SCHEDULER, local_cluster
from sleeputils.results.store import ResultStore

CHAPTER = "incremental-mnist"


def timed(config) -> tuple[float, pd.DataFrame]:
    """Seconds to compute every unit of ``config``, and the records."""
    start = time.perf_counter()
    df = run_incremental(config, store=ResultStore.disabled(), progress=True)
    return time.perf_counter() - start, df


def numbers(df: pd.DataFrame) -> pd.Series:
    """The values that must not depend on the worker count (timings excluded)."""
    keep = ~df["metric"].str.endswith("seconds")
    return df.loc[keep].sort_values(["method", "trial", "metric", "stage"])["value"].reset_index(
        drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--trials", type=int, nargs="+", default=[3, 6])
    args = parser.parse_args()
    base = Book(find_project()).resolve(CHAPTER, "quick").config
    print(f"{CHAPTER}, quick profile, {os.cpu_count()} cores")
    total = {1: 0.0, args.workers: 0.0}
    for trials in args.trials:
        config = base.replace({"trials": trials})
        alone, records = timed(config)
        with local_cluster(args.workers):
            spread, parallel = timed(config)
        os.environ.pop(ENV_SCHEDULER, None)
        same = numbers(records).equals(numbers(parallel))
        total[1] += alone
        total[args.workers] += spread
        print(f"{trials} trials: 1 worker {alone:.0f} s, {args.workers} workers {spread:.0f} s "
              f"(x{alone / spread:.2f}); records identical: {same}")
    print(f"speedup {total[1] / total[args.workers]:.2f}")


if __name__ == "__main__":
    main()
