"""One unit of each of the five most expensive chapters, timed with the code before the speed
work and with this checkout, and whether the two give the same records.

"Before" is the package as of ``--before`` (a git revision, default: the commit the speed work
started from), unpacked with ``git archive`` into a temporary folder; "after" is this checkout.
Each unit (``benchmarks/units.py``: a quick VAE schedule, a quick iCaRL setting on Fashion-MNIST
and on MNIST, a quick cross-paradigm method, one run of the quick validation search) runs in a
fresh process with one torch thread, before and after side by side on two cores, and is timed
in CPU seconds (steadier than wall time on a shared machine). Records are compared value for
value (timings excluded): ``same`` means identical to the last bit.

    python benchmarks/unit_speed.py [--before REV] [--units vae search ...]

Not a test: it prints a line per unit and ends with ``speedup X`` (before over after, summed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UNITS = ("vae", "icarl-fashion", "icarl-mnist", "paradigms", "search")
#: The commit the speed work of issue 24 started from.
BEFORE = "69de38d"
#: Records that hold a time, not a number of the method.
TIMINGS = ("seconds", "sleep_seconds")


def unpack(rev: str, folder: Path) -> Path:
    """The project as of ``rev`` in ``folder`` (package, notebooks' profiles, _toc.yml)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(unit: str, tree: Path, out: Path) -> dict:
    """Time ``unit`` with the package of ``tree`` in a fresh process; its records go to ``out``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(HERE / "units.py"), "--run", unit, "--out",
                           str(out)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{unit} in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def values(path: Path) -> pd.DataFrame:
    """The records of a run without timings, as a frame (blobs and all)."""
    with open(path, "rb") as f:
        df = pd.DataFrame.from_records(pickle.load(f))
    return df[~df["metric"].isin(TIMINGS)].reset_index(drop=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Every record equal (NaN equal to NaN)."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"git revision (default {BEFORE})")
    parser.add_argument("--units", nargs="+", choices=UNITS, default=list(UNITS))
    args = parser.parse_args()
    total = {"before": 0.0, "after": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "before").mkdir()
        trees = {"before": unpack(args.before, tmp / "before"), "after": ROOT}
        print(f"unit            before (CPU s)  after (CPU s)  ratio  records  "
              f"(before = {args.before})")
        for unit in args.units:
            outs = {k: tmp / f"{unit}-{k}.pkl" for k in trees}
            with ThreadPoolExecutor(2) as pool:
                jobs = {k: pool.submit(run, unit, trees[k], outs[k]) for k in trees}
                times = {k: job.result() for k, job in jobs.items()}
            identical = same(values(outs["before"]), values(outs["after"]))
            b, a = times["before"]["cpu"], times["after"]["cpu"]
            total["before"] += b
            total["after"] += a
            print(f"{unit:<15} {b:>14.1f}  {a:>13.1f}  {b / a:>5.2f}  "
                  f"{'same' if identical else 'DIFFER'}", flush=True)
    ratio = total["before"] / total["after"] if total["after"] else math.nan
    print(f"speedup {ratio:.2f}")


if __name__ == "__main__":
    main()
