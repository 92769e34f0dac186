"""Wall time of a small fixed set of units with 1 and with N worker processes.

The units are the quick incremental MNIST chapter's ``sequential`` and ``src`` units of trials
0 and 1 (four units, as its notebook computes them, without the strength search: that is a set
of units like any other), first in-process (``--workers 1``) and then on a local Dask cluster of
N single-threaded workers. Nothing is read from or written to the result store, so every unit is
computed. Not a test: it prints the wall times, checks the records agree, and ends with
``speedup <1 worker over N>``. A few minutes on 2 cores.

    python benchmarks/parallel_speed.py [--workers 2] [--trials 2] [--methods sequential src]
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from sleeputils.chapters.registry import Book, find_project
from sleeputils.protocols.incremental import METHODS, run_incremental
from sleeputils.results.executor import ENV_SCHEDULER, local_cluster
from sleeputils.results.store import ResultStore

CHAPTER = "incremental-mnist"


def timed(config) -> tuple[float, pd.DataFrame]:
    """Seconds to compute every unit of ``config``, and the records."""
    start = time.perf_counter()
    df = run_incremental(config, store=ResultStore.disabled(), progress=False)
    return time.perf_counter() - start, df


def numbers(df: pd.DataFrame) -> pd.Series:
    """The values that must not depend on the worker count (timings excluded)."""
    keep = ~df["metric"].str.endswith("seconds")
    return df.loc[keep].sort_values(["method", "trial", "metric", "stage"])["value"].reset_index(
        drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=["sequential", "src"])
    args = parser.parse_args()
    base = Book(find_project()).resolve(CHAPTER, "quick").config
    config = base.replace({"trials": args.trials, "methods": tuple(args.methods)})
    units = args.trials * len(args.methods)
    print(f"{CHAPTER}, quick profile: {units} units ({', '.join(args.methods)}; trials "
          f"0-{args.trials - 1}), {os.cpu_count()} cores")
    alone, records = timed(config)
    with local_cluster(args.workers):
        spread, parallel = timed(config)
    os.environ.pop(ENV_SCHEDULER, None)
    same = numbers(records).equals(numbers(parallel))
    print(f"1 worker {alone:.0f} s, {args.workers} workers {spread:.0f} s; records identical: "
          f"{same}")
    print(f"speedup {alone / spread:.2f}")


if __name__ == "__main__":
    main()
