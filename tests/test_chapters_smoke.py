"""Every chapter of the book runs end to end on the smoke profile through papermill.

The chapters run in a copy of the project (so the real book/chapters/ is untouched) with their
own result store; the assertions are invariants of the recorded numbers, and that a second run
reuses the stored trials and reproduces the same numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sleeputils.book.chapters import default_registry
from sleeputils.book.runner import run_chapter
from sleeputils.protocols.incremental import run_incremental
from sleeputils.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    return root


@pytest.fixture(autouse=True)
def store_env(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(project / "store"))


def _records(project: Path, chapter: str) -> pd.DataFrame:
    return pd.read_csv(project / "store" / "records" / "smoke" / f"{chapter}.csv")


@pytest.mark.parametrize("chapter", default_registry().chapter_ids())
def test_chapter_runs_on_smoke(project: Path, chapter: str) -> None:
    run = run_chapter(chapter, "smoke", root=project, progress=False)
    assert run.ok
    executed = nbformat.read(run.output, as_version=4)
    outputs = [o for c in executed.cells for o in c.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors
    if chapter == "status":
        return
    rec = _records(project, chapter)
    accuracies = rec[rec["metric"].str.startswith(("acc_", "final_acc"))]
    assert len(accuracies) and accuracies["mean"].between(0, 100).all()
    if chapter == "patches":
        # accuracy on 4 images comes in steps of 25 %
        assert ((accuracies["mean"] % 25) == 0).all()
    elif chapter.startswith("rehearsal"):
        fractions = set(rec.loc[rec["metric"].str.startswith("final_acc_p"), "metric"])
        assert fractions == {"final_acc_p0", "final_acc_p0.1"}  # the smoke profile's fractions
        assert set(rec["method"]) == {"rehearsal", "rehearsal_src"}
    else:
        assert set(rec.loc[rec["metric"] == "final_acc", "method"]) == {
            "sequential", "src", "parallel"}


def test_rerun_reuses_stored_trials_and_numbers(project: Path) -> None:
    run_chapter("incremental-mnist", "smoke", root=project, progress=False)
    units = sorted((project / "store" / "units").rglob("*.jsonl"))
    first = _records(project, "incremental-mnist")
    run_chapter("incremental-mnist", "smoke", root=project, progress=False)
    assert sorted((project / "store" / "units").rglob("*.jsonl")) == units
    second = _records(project, "incremental-mnist")
    pd.testing.assert_series_equal(first["mean"], second["mean"])


def test_same_config_and_seed_give_the_same_numbers() -> None:
    kwargs = dict(dataset="mnist", trials=1, hidden=(32, 32), per_task_train=200, epochs=1,
                  sleep_scale=0.05, test_subset=500, progress=False)
    a = run_incremental(store=ResultStore.disabled(), **kwargs)
    b = run_incremental(store=ResultStore.disabled(), **kwargs)
    c = run_incremental(store=ResultStore.disabled(), seed=1, **kwargs)
    timing = "sleep_seconds"  # wall time, the one record that may differ
    a, b, c = (d[d["metric"] != timing].reset_index(drop=True) for d in (a, b, c))
    pd.testing.assert_series_equal(a["value"], b["value"])
    assert not a["value"].equals(c["value"])
