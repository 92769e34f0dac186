"""One-off migration (December 2026): settings out of metric names, into the ``setting`` column.

Until then a recorded number was keyed by (dataset, method, metric) and its setting was spelled
into the metric (``softmax_k100_herding+distill``, ``final_acc_p0.01``,
``d1_final_c10_r0.5_frozen``) or, for the cross-modal variants, into the method
(``src_corrected``). This script rewrites every committed record, trial and reference file to the key (dataset, method, setting, metric) the
protocols now write, with :func:`sleeputils.results.setting.encode`. Values are copied, never
recomputed: ``sleepbook check`` afterwards proves no number moved. It is kept as the record of
how the old names map to settings; it parses those old names, and nothing else may.

    python migrations/2026_12_settings.py          # rewrites results/paper and results/reference
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from sleeputils.protocols.common import DATASET_PROTOCOLS
from sleeputils.results.setting import encode

ROOT = Path(__file__).resolve().parents[1]
ICARL_SCORES = {"softmax": "final_acc", "nme": "nme_acc", "bwt": "bwt",
                "forgetting": "forgetting"}


def _num(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def migrate(chapter: str, dataset: str, method: str, metric: str) -> tuple[str, str, str]:
    """(method, setting, metric) of one old (chapter, dataset, method, metric)."""
    family = chapter.rsplit("-", 1)[0] if chapter not in ("task2-mnist",) else "task2"
    if chapter == "patches":
        m = re.fullmatch(r"(acc_.+)_o(\d+)", metric)
        return method, encode(overlap=int(m[2])), m[1]
    if family == "rehearsal":
        m = re.fullmatch(r"(.+)_p([\d.e-]+)", metric)
        return method, encode(fraction=_num(m[2])), m[1]
    if chapter == "crossmodal":
        variant = "corrected" if method.endswith("_corrected") else "faithful"
        base = method.removesuffix("_corrected")
        m = re.fullmatch(r"(.+)_p([\d.e-]+)", metric)
        if m:
            return base, encode(variant=variant, fraction=_num(m[2])), m[1]
        return base, encode(variant=variant), metric
    if family == "icarl":
        m = re.fullmatch(r"([a-z]+)_k(\d+)_(.+)", metric)
        epochs = DATASET_PROTOCOLS[dataset].epochs
        return method, encode(memory=int(m[2]), variant=m[3], epochs=epochs), ICARL_SCORES[m[1]]
    if family == "epochs":
        m = re.fullmatch(r"([a-z]+)_e(\d+)", metric)
        return (method, encode(memory=100, variant="herding+distill", epochs=int(m[2])),
                ICARL_SCORES[m[1]])
    if chapter == "single":
        m = re.fullmatch(r"(train|test)_(before|after)_e(\d+)_n(\d+)", metric)
        return method, encode(epochs=int(m[3]), images=int(m[4]), when=m[2]), f"{m[1]}_acc"
    if family == "task2":
        m = re.fullmatch(r"(task\d_acc)_e(\d+)", metric)
        return method, encode(task2_epochs=int(m[2])), m[1]
    if family == "recipes":
        m = re.fullmatch(r"(.+)_(code|paper-text)", metric)
        return method, encode(recipe=m[2]), m[1]
    if family == "representations":
        m = re.fullmatch(r"react_ratio_l(\d+)", metric)
        if m:
            return method, encode(layer=int(m[1])), "react_ratio_mean"
        m = re.fullmatch(r"(.+)_l(\d+)_(before|after)", metric)
        return method, encode(layer=int(m[2]), when=m[3]), m[1]
    if chapter == "paradigms":
        m = re.fullmatch(r"(.+)_m(\d+)", metric)
        return (method, encode(budget=int(m[2])), m[1]) if m else (method, "", metric)
    if family == "vae":
        m = re.fullmatch(r"(d[12])_final_c(\d+)_r([\d.]+)(?:-([\d.]+))?_([a-z]+)", metric)
        share = _num(m[3])
        end = _num(m[4]) if m[4] else share
        return (method, encode(cycles=int(m[2]), rem_share=share, rem_end=end, rem_from=m[5]),
                f"{m[1]}_final")
    if family == "replay":
        m = re.fullmatch(r"(d[12])_after_(?:new(\d+))?_?(?:old(\d+))?", metric)
        return (method, encode(new=int(m[2] or 0), sampled=int(m[3] or 0)), f"{m[1]}_after")
    if chapter == "interleave":
        m = re.fullmatch(r"(d[12])_mse_n(\d+)", metric)
        return method, encode(block=int(m[2])), f"{m[1]}_mse"
    if family in ("incremental", "wscl", "cub200"):
        return method, "", metric
    raise ValueError(f"no rule for chapter {chapter!r}")


def migrate_file(path: Path) -> None:
    """Rewrite one CSV in place (a file already migrated is left as it is)."""
    df = pd.read_csv(path)
    if "setting" in df.columns or df.empty:
        return
    new = [migrate(c, d, m, x) for c, d, m, x in
           zip(df["chapter_id"], df["dataset"], df["method"], df["metric"], strict=True)]
    df["method"] = [n[0] for n in new]
    df.insert(df.columns.get_loc("metric"), "setting", [n[1] for n in new])
    df["metric"] = [n[2] for n in new]
    text = df.to_csv(index=False, float_format="%.6g")
    path.write_text(text)
    print(f"migrated {path.relative_to(ROOT)} ({len(df)} rows)")


def main() -> int:
    files = [*sorted((ROOT / "results" / "paper").glob("*.csv")),
             *sorted((ROOT / "results" / "paper" / "trials").glob("*.csv")),
             *sorted((ROOT / "results" / "reference").glob("*.csv"))]
    for path in files:
        migrate_file(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
