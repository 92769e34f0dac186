"""Trials of OWM in its authors' recipe, one line per finished trial (book/methods/baselines.md,
baselines-owm-recipe); how results/owm_recipe_trials.csv was made.

    python results/owm_recipe_run.py run mnist --trials 5 --out trials.jsonl
    python results/owm_recipe_run.py run mnist --trials 1 --set lr=0.1 --set momentum=0.5 ...
    python results/owm_recipe_run.py csv trials.jsonl ... > results/owm_recipe_trials.csv

``--set`` changes one recipe element (several make one setting); each trial is stored in the
result store as it finishes (an interrupted run resumes) and appended to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from sleeputils.protocols.owm_recipe import OWMRecipeConfig, run_owm_recipe_trials
from sleeputils.results.setting import encode
from sleeputils.results.store import ResultStore

COLUMNS = ["dataset", "setting", "trial", "final_acc", "bwt", "forgetting", "acc_mnist",
           "acc_fashion", *[f"just_trained_{j}" for j in range(1, 6)], "seconds"]


def trial_row(df: pd.DataFrame, trial: int, setting: str) -> dict:
    """One trial's records as one wide row."""
    row: dict = {"dataset": df["dataset"].iloc[0], "setting": setting, "trial": trial}
    for metric in ("final_acc", "bwt", "forgetting", "acc_mnist", "acc_fashion", "seconds"):
        values = df.loc[df["metric"] == metric, "value"]
        row[metric] = float(values.iloc[-1]) if len(values) else None
    for _, r in df[df["metric"] == "acc_just_trained"].iterrows():
        row[f"just_trained_{int(r['task'])}"] = float(r["value"])
    return row


def run(args: argparse.Namespace) -> None:
    changes = dict(item.split("=", 1) for item in args.set)
    typed = {k: OWMRecipeConfig.parse(k, v) for k, v in changes.items()}
    config = OWMRecipeConfig(dataset=args.dataset).replace(typed)
    setting = encode(typed)  # the elements changed from the authors' recipe ("" for none)
    store = ResultStore(args.store)
    for t in range(args.first, args.trials):
        df = run_owm_recipe_trials(dataclasses.replace(config, trials=t + 1), store=store,
                                   progress=False)
        row = trial_row(df[df["trial"] == t], t, setting)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("dataset", choices=("mnist", "fashion", "crossmodal"))
    r.add_argument("--trials", type=int, default=5)
    r.add_argument("--first", type=int, default=0, help="first trial to run")
    r.add_argument("--set", action="append", default=[], help="element=value")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--store", type=Path, default=None, help="result store root")
    c = sub.add_parser("csv")
    c.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    else:
        rows = [json.loads(line) for f in args.files for line in f.read_text().splitlines()]
        df = pd.DataFrame(rows).reindex(columns=COLUMNS)
        df = df.drop_duplicates(["dataset", "setting", "trial"], keep="last")
        df.to_csv(sys.stdout, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
