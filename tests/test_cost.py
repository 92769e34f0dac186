"""What a chapter costs, from its records: the unit seconds the per-trial records carry, the
units they come from, the schedule on N workers, and the `sleepbook cost` command."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pandas as pd
import pytest

from sleeputils.cli import main
from sleeputils.results.cost import (
    README_MINUTES,
    chapter_costs,
    cost_table,
    makespan,
    unit_seconds,
)
from sleeputils.results.record import load_trials, record
from sleeputils.results.store import ResultStore


def _unit_records(method: str) -> list[dict]:
    return [{"dataset": "mnist", "method": method, "metric": m, "value": v, "headline": True}
            for m, v in (("final_acc", 50.0), ("bwt", -10.0))]


def test_trial_records_carry_the_seconds_their_unit_was_stored_with(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "store")
    frames = [store.save("incremental", {"method": m, "seed": 0}, t, _unit_records(m), s)
              for (m, t), s in zip(itertools.product(("sequential", "src"), (0, 1)),
                                   (12.5, 13.25, 40.125, 41.0), strict=True)]
    df = pd.concat(frames, ignore_index=True)
    record(df, "incremental-mnist", "quick", store=store)
    trials = load_trials("quick", store=store)
    stored = df.set_index(["method", "trial", "metric"])["wall_time_s"]
    got = trials.set_index(["method", "trial", "metric"])["seconds"]
    assert got.sort_index().tolist() == stored.sort_index().tolist()
    units = unit_seconds(trials)
    assert len(units) == 4  # two rows per unit, one row per unit back
    (cost,) = chapter_costs(trials, 2, "quick")
    assert cost.core_seconds == pytest.approx(12.5 + 13.25 + 40.125 + 41.0)
    assert cost.slowest == 41.0
    assert cost.wall == makespan([12.5, 13.25, 40.125, 41.0], 2) == pytest.approx(41.0 + 12.5)


def _best(seconds: list[float], workers: int) -> float:
    """The best schedule, by trying every assignment (small cases only)."""
    best = math.inf
    for assign in itertools.product(range(workers), repeat=len(seconds)):
        loads = [0.0] * workers
        for s, w in zip(seconds, assign, strict=True):
            loads[w] += s
        best = min(best, max(loads))
    return best


@pytest.mark.parametrize("seconds", [[3, 3, 2, 2, 2], [5, 1, 1, 1, 1, 1], [7, 6, 5, 4, 3, 2]])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_makespan_is_within_graham_bound_of_the_best_schedule(seconds, workers) -> None:
    best = _best(seconds, workers)
    got = makespan(seconds, workers)
    assert best <= got <= best * (4 / 3 - 1 / (3 * workers)) + 1e-9
    assert got >= max(max(seconds), sum(seconds) / workers)


def test_makespan_closed_forms() -> None:
    assert makespan([3, 3, 2, 2, 2], 1) == 12  # one worker: the sum
    assert makespan([3, 3, 2, 2, 2], 5) == 3  # a worker per unit: the slowest
    assert makespan([3, 3, 2, 2, 2], 2) == 7  # longest first misses the best (6) here
    with pytest.raises(ValueError, match="at least 1"):
        makespan([1.0], 0)


def test_old_records_without_unit_times_say_so_and_never_invent_a_number() -> None:
    old = pd.DataFrame({"chapter_id": ["icarl-mnist"] * 2, "dataset": "mnist",
                        "method": "icarl", "metric": "m", "trial": [0, 1], "value": 1.0})
    paper = chapter_costs(old, 2, "paper", ["icarl-mnist", "cub200"])
    assert math.isnan(paper[0].wall) and math.isnan(paper[0].core_seconds)
    assert f"README (hand-timed, 2 cores): {README_MINUTES['icarl-mnist']:g} min" in paper[0].note
    assert paper[1].note == "no per-trial records"
    quick = chapter_costs(old, 2, "quick", ["icarl-mnist"])
    assert quick[0].note == "records carry no unit times"  # no hand-timed fallback but paper's
    table = cost_table(paper, 2)
    assert table.iloc[-1]["chapter"] == "total"
    assert "2 chapter(s) not timed" in table.iloc[-1]["note"]


def test_cost_command_on_the_committed_records(capsys) -> None:
    assert main(["cost", "--profile", "paper", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "vae-inverted" in out and "total" in out
    assert main(["cost", "--profile", "paper", "--workers", "0"]) == 2
    assert "--workers must be" in capsys.readouterr().err


def test_the_run_logs_seconds_show_beside_the_estimate() -> None:
    trials = pd.DataFrame({"chapter_id": ["a", "a", "b"], "trial": [0, 1, 0],
                           "seconds": [30.0, 90.0, 5.0]})
    costs = chapter_costs(trials, 2, "quick")
    table = cost_table(costs, 2, {"a": 100.0})
    assert table["last run"].tolist() == ["1.7 min", "-", "1.7 min"]
    assert table[table["chapter"] == "a"]["wall on 2"].item() == "1.5 min"  # 90 s on its own
    assert "last run" not in cost_table(costs, 2).columns


def test_the_slowest_chapters_line_ranks_by_seconds_and_sums_all() -> None:
    from sleeputils.results.runlog import slowest_line

    log = pd.DataFrame({"chapter_id": ["a", "b", "c"], "seconds": [60.0, 600.0, 30.0]})
    line = slowest_line(log, k=2)
    assert line.startswith("slowest chapters (minutes, last run): b 10.0, a 1.0;")
    assert "c 0.5" not in line and line.endswith("all 3 chapters: 11.5 min of notebook time")
    assert slowest_line(pd.DataFrame()) == ""


def test_expected_seconds_take_the_run_log_over_the_reference(tmp_path) -> None:
    """A fresh clone guesses from the reference's unit times (each unit once, however many
    numbers it gave); a machine whose run log has a successful run of every chapter the
    reference times, from its last runs (a partial log is not mixed in: another scale)."""
    from sleeputils.results.cost import expected_seconds
    from sleeputils.results.runlog import ChapterRun, log_run
    from sleeputils.results.store import ResultStore

    folder = tmp_path / "results" / "reference"
    folder.mkdir(parents=True)
    pd.DataFrame({"chapter_id": ["x", "x", "x", "y"], "trial": [0, 0, 1, 0],
                  "metric": ["m", "n", "m", "m"], "seconds": [10.0, 10.0, 5.0, 7.0]}).to_csv(
        folder / "quick-trials.csv", index=False)
    store = ResultStore(tmp_path / "store")
    assert expected_seconds("quick", project=tmp_path, store=store) == {"x": 15.0, "y": 7.0}
    log_run(ChapterRun("y", "quick", tmp_path / "y.ipynb", 120.0, True, "", ""), store)
    log_run(ChapterRun("x", "quick", tmp_path / "x.ipynb", 3.0, False, "", "failed"), store)
    assert expected_seconds("quick", project=tmp_path, store=store) == {"x": 15.0, "y": 7.0}
    log_run(ChapterRun("x", "quick", tmp_path / "x.ipynb", 300.0, True, "", ""), store)
    assert expected_seconds("quick", project=tmp_path, store=store) == {"x": 300.0, "y": 120.0}
