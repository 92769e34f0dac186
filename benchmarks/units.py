"""One unit of each of the five most expensive chapters, as a callable (for the speed benchmark
and for profiling): a VAE schedule, an iCaRL (K, variant, trial) on Fashion-MNIST and on MNIST,
one method of the cross-paradigm chapter, and one run of the baselines' validation search.

Each unit is the quick profile's, computed exactly as its chapter computes it (the protocol's own
unit function on the unit's stored configuration), with one torch thread, as every unit runs.

    python benchmarks/units.py --profile vae   # cProfile of one unit: the 25 costliest calls
    python benchmarks/units.py --run vae --out records.pkl   # time it, keep its records

``benchmarks/unit_speed.py`` runs this file against an older checkout of the package too.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pickle
import pstats
import time
from collections.abc import Callable

import torch

from sleeputils.chapters.registry import Book, find_project

#: The units, in the order of their chapters' paper-profile cost.
UNITS = ("vae", "icarl-fashion", "icarl-mnist", "paradigms", "search")


def quick(chapter: str):
    """The chapter's config on the quick profile."""
    return Book(find_project()).resolve(chapter, "quick").config


def vae_unit(cycles: int = 5) -> Callable[[], list[dict]]:
    """A quick vae-inverted schedule: ``cycles`` cycles, REM share 0.5 from the frozen VAE. The
    initial VAE is the seeded untrained one (its training is a unit of its own)."""
    from sleeputils.protocols.vae import ScheduleUnit, run_schedule
    from sleeputils.protocols.vae_common import digit_classifier, make_vae, split_data
    from sleeputils.results.store import ResultStore

    config = quick("vae-inverted")
    version = config.code_versions[-1]
    data = split_data("inverted")
    unit = ScheduleUnit.of(config, version, cycles, 0.5, 0.5, "frozen")
    initial = make_vae(unit.latent, unit.loss, unit.lr, unit.seed,
                       version=unit.code_version).state_dict()
    classifier = digit_classifier(store=ResultStore.disabled(), progress=False)
    return lambda: run_schedule(data, initial, classifier, unit, 0)


def icarl_unit(dataset: str) -> Callable[[], list[dict]]:
    """Trial 0 of the quick iCaRL chapter's one setting (K = 100, herding + distillation)."""
    from sleeputils.data import load_dataset
    from sleeputils.protocols.icarl import run_trial, units_of

    config = quick(f"icarl-{dataset}")
    ds = load_dataset(dataset)
    unit, trial = units_of(config)[0]
    return lambda: run_trial(ds, unit, trial)


def paradigms_unit(method: str = "generative") -> Callable[[], list[dict]]:
    """Trial 0 of one method of the quick cross-paradigm chapter."""
    from sleeputils.data import load_dataset
    from sleeputils.protocols.paradigms import BUDGETED, method_unit, run_method
    from sleeputils.protocols.wscl import DREAMS

    config = quick("paradigms")
    dataset = config.datasets[0]
    ds, aux = load_dataset(dataset), load_dataset(DREAMS[dataset])
    budget = config.budgets[0] if method in BUDGETED else None
    unit = method_unit(config, dataset, method, budget)
    return lambda: run_method(ds, aux, unit, 0)


def search_unit(method: str = "ewc") -> Callable[[], list[dict]]:
    """One run of the quick incremental-mnist chapter's validation search (the weakest
    strength of ``method``'s grid)."""
    from sleeputils.data import load_dataset
    from sleeputils.protocols.incremental import TUNED, method_unit, run_method
    from sleeputils.protocols.tuning import SEARCH_TRIAL

    config = quick("incremental-mnist")
    ds = load_dataset("mnist")
    strength = getattr(config, TUNED[method][1])[0]
    unit = method_unit(config, method, strength, validation=config.validation)
    return lambda: run_method(ds, unit, SEARCH_TRIAL)


def unit(name: str) -> Callable[[], list[dict]]:
    """The named unit, ready to run (its data loaded)."""
    if name == "vae":
        return vae_unit()
    if name.startswith("icarl-"):
        return icarl_unit(name.removeprefix("icarl-"))
    if name == "paradigms":
        return paradigms_unit()
    if name == "search":
        return search_unit()
    raise ValueError(f"unknown unit {name!r}; valid: {', '.join(UNITS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--profile", choices=UNITS, help="cProfile one unit")
    what.add_argument("--run", choices=UNITS, help="time one unit (--out: keep its records)")
    parser.add_argument("--out", default=None, help="pickle of the records (with --run)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as every unit computes (results/executor.py)
    work = unit(args.profile or args.run)
    if args.run:
        wall, cpu = time.perf_counter(), time.process_time()
        records = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if args.out:
            with open(args.out, "wb") as f:
                pickle.dump(records, f)
        print(json.dumps({"unit": args.run, "wall": wall, "cpu": cpu}))
        return
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(work)
    print(f"{args.profile}: {time.perf_counter() - start:.1f} s (under cProfile)")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
