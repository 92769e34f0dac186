"""Recorded numbers (aggregation, where they go) and the reference tolerance rule."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sleeputils.results.record import load_records, record, summarise
from sleeputils.results.reference import freeze, load_reference, tolerance
from sleeputils.results.store import ResultStore


def trial_rows(values: list[float], method: str = "src") -> pd.DataFrame:
    """One headline row per trial plus a non-headline row that must be ignored."""
    rows = []
    for trial, value in enumerate(values):
        rows.append(
            {
                "dataset": "mnist",
                "method": method,
                "metric": "final_acc",
                "value": value,
                "headline": True,
                "trial": trial,
                "config_hash": "abc",
                "code_fingerprint": "f1",
            }
        )
        rows.append(
            {
                "dataset": "mnist",
                "method": method,
                "metric": "task_acc",
                "value": 999.0,
                "headline": False,
                "trial": trial,
                "config_hash": "abc",
                "code_fingerprint": "f1",
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A fake book checkout; the result store lives in its results/cache."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\n")
    monkeypatch.delenv("SLEEPBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_summary_mean_std_n() -> None:
    summary = summarise(pd.concat([trial_rows([40.0, 50.0, 60.0]), trial_rows([70.0], "seq")]))
    src = summary.set_index("method").loc["src"]
    assert src["mean"] == pytest.approx(50.0)
    assert src["std"] == pytest.approx(10.0)  # sample std, ddof = 1
    assert src["n"] == 3
    seq = summary.set_index("method").loc["seq"]
    assert seq["n"] == 1 and math.isnan(seq["std"])
    assert set(summary["metric"]) == {"final_acc"}  # non-headline rows left out


def test_repeated_key_within_a_trial_is_refused() -> None:
    df = pd.concat([trial_rows([1.0]), trial_rows([2.0])])  # both are trial 0
    with pytest.raises(ValueError, match="more than once"):
        summarise(df)


def test_record_writes_profile_records_to_the_store(project: Path) -> None:
    summary = record(trial_rows([40.0, 50.0]), "incremental-mnist", "quick")
    path = project / "results" / "cache" / "records" / "quick" / "incremental-mnist.csv"
    assert path.is_file()
    saved = pd.read_csv(path)
    assert saved["mean"].tolist() == [45.0]
    assert saved.loc[0, "profile"] == "quick" and saved.loc[0, "config_hash"] == "abc"
    assert {"git_commit", "created", "chapter_id"} <= set(saved.columns)
    assert summary["n"].tolist() == [2]
    assert load_records("quick")["chapter_id"].tolist() == ["incremental-mnist"]


def test_record_paper_profile_goes_to_results_paper(project: Path) -> None:
    record(trial_rows([40.0, 50.0]), "incremental-mnist", "paper")
    assert (project / "results" / "paper" / "incremental-mnist.csv").is_file()
    assert not (project / "results" / "cache" / "records" / "paper").exists()


def test_record_honours_an_explicit_store(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "store")
    record(trial_rows([1.0, 2.0]), "patches", "smoke", store=store)
    assert (tmp_path / "store" / "records" / "smoke" / "patches.csv").is_file()


@pytest.mark.parametrize(
    ("std", "n", "expected"),
    [
        (2.0, 5, round(3 * 2.0 * math.sqrt(2 / 5), 2)),  # spread-driven: 3.79
        (0.0, 5, 0.5),  # trials agree: the floor
        (0.1, 2, 0.5),  # small spread: the floor
        (float("nan"), 1, 2.0),  # one trial: no spread to learn from
        (5.0, 1, 2.0),
    ],
)
def test_tolerance_rule(std: float, n: int, expected: float) -> None:
    assert tolerance(std, n) == pytest.approx(expected)


def test_freeze_writes_reference_with_tolerances(project: Path) -> None:
    with pytest.raises(LookupError):
        freeze("quick", project=project)
    record(trial_rows([40.0, 50.0, 60.0]), "incremental-mnist", "quick")
    path, ref = freeze("quick", project=project)
    assert path == project / "results" / "reference" / "quick.csv"
    loaded = load_reference("quick", project)
    assert loaded is not None
    assert loaded.loc[0, "tol"] == pytest.approx(tolerance(10.0, 3))
    assert loaded.loc[0, "mean"] == pytest.approx(50.0)


def test_freezing_some_chapters_keeps_the_others_reference(project: Path) -> None:
    record(trial_rows([40.0, 50.0, 60.0]), "incremental-mnist", "quick")
    record(trial_rows([10.0, 20.0, 30.0], method="sequential"), "incremental-fashion", "quick")
    freeze("quick", project=project)
    # both chapters move; only incremental-fashion's reference is replaced
    record(trial_rows([70.0, 80.0, 90.0]), "incremental-mnist", "quick")
    record(trial_rows([1.0, 2.0, 3.0], method="sequential"), "incremental-fashion", "quick")
    freeze("quick", project=project, chapters=["incremental-fashion"])
    ref = load_reference("quick", project).set_index("chapter_id")["mean"]
    assert ref["incremental-mnist"] == pytest.approx(50.0)
    assert ref["incremental-fashion"] == pytest.approx(2.0)
    trials = load_reference("quick", project, trials=True)
    kept = trials[trials["chapter_id"] == "incremental-mnist"]["value"]
    assert sorted(kept) == [40.0, 50.0, 60.0]
    with pytest.raises(LookupError, match="patches"):
        freeze("quick", project=project, chapters=["patches"])
