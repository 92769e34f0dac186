"""A unit's stored key never moves unnoticed: every chapter's protocol, at the settings recorded
in ``tests/unit_keys.json`` (each chapter's smoke profile when recorded, and a few others), asks
the store for exactly the units recorded there, computing nothing. A moved key would recompute
every stored and committed unit of it.

``python tests/test_unit_keys.py`` records the keys anew: only when a change is meant.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import sleeputils.protocols
from sleeputils.chapters.registry import NOTEBOOKS, Book, toc_chapter_ids
from sleeputils.data import Dataset
from sleeputils.protocols.vae_common import pack_state
from sleeputils.results.provenance import canonical_json, config_hash

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).with_name("unit_keys.json")


def _runs() -> dict[str, str]:
    """Each notebook's run function (``module:function``), as its notebook calls it."""
    runs = {}
    for name, notebook in NOTEBOOKS.items():
        if notebook.config is not None:
            text = (ROOT / notebook.source).read_text(encoding="utf-8")
            function = re.search(r"(run_\w+)\(page\.config\)", text)[1]
            runs[name] = f"{name.replace('-', '_')}:{function}"
    return runs


#: Each notebook's run function.
RUNS = _runs()
#: Classes, training and test images per class of the stand-in data sets (keys do not depend on
#: the images, only on what fits them).
SIZES = {"cub200": (200, 30, 10), "cifar100-dreams": (100, 500, 10)}


def _stand_in(name: str) -> Dataset:
    classes, train, test = SIZES.get(name, (10, 6000, 1000))
    y_train = np.repeat(np.arange(classes), train)
    y_test = np.repeat(np.arange(classes), test)
    return Dataset(name, np.zeros((len(y_train), 1), np.float32), y_train,
                   np.zeros((len(y_test), 1), np.float32), y_test, classes, None, "stand-in")


def _named(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(f"sleeputils.protocols.{module}"), name)


def asked(run: str, config: Any, patch: Any) -> list[list]:
    """``[chapter, trial, key]`` of every unit ``run(config)`` asks for, in order; ``patch``
    sets an attribute (``monkeypatch.setattr``). Each unit comes back as one record holding its
    key, so what a protocol reads from its first units (a search's winner) is well defined."""
    units: list[list] = []
    blob = pack_state({"coef": torch.zeros(10, 1), "intercept": torch.zeros(10)})

    def record(chapter: str, todo: list, compute: Any, **_: Any) -> pd.DataFrame:
        rows = []
        for unit, trial in todo:
            key = unit.key()
            units.append([chapter, trial, json.loads(canonical_json(key))])
            metric = {"vae-initial": "weights"}.get(chapter, "val_acc" if "validation" in key
                                                    else "x")
            rows.append({**key, "config_hash": config_hash(key),  # as the store adds it
                         "dataset": key.get("dataset", "x"),
                         "method": key.get("method", "x"), "metric": metric, "value": 0.0,
                         "headline": False, "trial": trial, "blob": blob})
        return pd.DataFrame(rows)

    for info in pkgutil.iter_modules(sleeputils.protocols.__path__):
        module = importlib.import_module(f"sleeputils.protocols.{info.name}")
        if hasattr(module, "run_units"):
            patch(module, "run_units", record)
        if hasattr(module, "load_dataset"):
            patch(module, "load_dataset", _stand_in)
    _named(run)(config, progress=False)
    return units


def _config(entry: dict) -> Any:
    return _named(entry["config"])(**entry["values"])


ENTRIES = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_a_protocol_asks_for_the_recorded_units(entry: dict, monkeypatch) -> None:
    got = asked(entry["run"], _config(entry), monkeypatch.setattr)
    assert [canonical_json({"u": u}) for u in got] == [
        canonical_json({"u": u}) for u in entry["units"]]


def test_every_chapter_has_recorded_units() -> None:
    recorded = {e["id"] for e in ENTRIES}
    chapters = [c for c in toc_chapter_ids(ROOT)
                if Book(ROOT).chapter(c).notebook.name in RUNS]
    assert chapters and not [c for c in chapters if f"smoke/{c}" not in recorded]


def _dump(entries: list[dict]) -> str:
    """One entry per block, one unit per line."""
    blocks = []
    for e in entries:
        head = {k: e[k] for k in ("id", "run", "config", "values")}
        units = ",\n".join(f"   {json.dumps(u, separators=(',', ':'))}" for u in e["units"])
        blocks.append(f' {json.dumps(head)[:-1]},\n  "units": [\n{units}\n  ]}}')
    return "[\n" + ",\n".join(blocks) + "\n]\n"


def record_anew() -> None:
    """Record every smoke chapter's units and those of the other recorded settings."""
    from _pytest.monkeypatch import MonkeyPatch

    book, entries = Book(ROOT), []
    others = [e for e in ENTRIES if not e["id"].startswith("smoke/")]
    for chapter in toc_chapter_ids(ROOT):
        name = book.chapter(chapter).notebook.name
        if name in RUNS:
            config = book.resolve(chapter, "smoke").config
            entries.append({"id": f"smoke/{chapter}", "run": RUNS[name],
                            "config": f"{type(config).__module__.rsplit('.', 1)[1]}:"
                                      f"{type(config).__name__}",
                            "values": json.loads(canonical_json(config.as_dict()))})
    for entry in [*entries, *others]:
        with MonkeyPatch.context() as patch:
            entry["units"] = asked(entry["run"], _config(entry), patch.setattr)
    FIXTURE.write_text(_dump([*entries, *others]), encoding="utf-8")
    print(f"{FIXTURE}: {sum(len(e['units']) for e in entries + others)} units", file=sys.stderr)


if __name__ == "__main__":
    record_anew()
