"""``sleepbook check``: moved and missing numbers fail, paper misses are only reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sleeputils.cli import main
from sleeputils.report.status import coverage, status_table
from sleeputils.results import check
from sleeputils.results.paper import BRACKETED, SHORT, load_paper_values, locate, paper_spread
from sleeputils.results.record import record
from sleeputils.results.reference import (
    TRIAL_TOL_OTHER_MACHINE,
    TRIAL_TOL_SAME_MACHINE,
    freeze,
)

PAPER = load_paper_values()


def recorded(mean: float, *, method: str = "src", n: int = 5, std: float = 2.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "chapter_id": "incremental-mnist",
                "dataset": "mnist",
                "method": method,
                "metric": "final_acc",
                "mean": mean,
                "std": std,
                "n": n,
            }
        ]
    )


def reference(mean: float, tol: float, method: str = "src") -> pd.DataFrame:
    ref = recorded(mean, method=method)
    ref["tol"] = tol
    return ref


def test_unmoved_number_passes() -> None:
    table = check.compare(recorded(50.3), reference(50.0, 1.0), PAPER)
    assert table["status"].tolist() == ["ok"]
    assert not check.failed(table)
    assert check.diff_lines(table) == []
    assert table.loc[0, "paper"] == pytest.approx(48.47)  # the paper's value is beside ours


def test_moved_number_fails_with_a_diff_line() -> None:
    table = check.compare(recorded(47.0), reference(50.0, 1.0), PAPER)
    assert table["status"].tolist() == ["MOVED"]
    assert check.failed(table)
    (line,) = check.diff_lines(table)
    assert "incremental-mnist mnist/src/final_acc" in line
    assert "-3.00 pp" in line and "50.00 -> 47.00" in line


def test_missing_reference_number_fails() -> None:
    table = check.compare(
        recorded(50.0), pd.concat([reference(50.0, 1.0), reference(20.0, 1.0, "sequential")]), PAPER
    )
    assert dict(zip(table["method"], table["status"], strict=True)) == {
        "sequential": "MISSING",
        "src": "ok",
    }
    assert check.failed(table)


def test_new_numbers_and_paper_misses_do_not_fail() -> None:
    table = check.compare(recorded(90.0), None, PAPER)  # far from the paper's 48.47 ± 5.03
    assert table.loc[0, "status"] == "new"
    assert table.loc[0, "paper_status"] == "outside paper spread"
    assert not check.failed(table)


@pytest.mark.parametrize(
    ("ours", "paper", "std", "expected"),
    [
        (50.0, 48.47, 5.03, "within paper spread"),
        (60.0, 48.47, 5.03, "outside paper spread"),
        (20.0, 19.49, float("nan"), "within ±1 pt (no paper spread)"),
        (94.26, 98.02, float("nan"), "outside ±1 pt (no paper spread)"),
        (float("nan"), 19.49, 1.0, "not covered"),
    ],
)
def test_paper_spread(ours: float, paper: float, std: float, expected: str) -> None:
    assert paper_spread(ours, paper, std) == expected


def test_paper_values_file() -> None:
    # 37 numbers of Table 1 and 4 of Table 2; Table 1's one cross-modal cell for EWC and SI
    # together is set beside each of them, so it is two rows
    assert len(PAPER) == 42
    assert not PAPER.duplicated(["chapter_id", "dataset", "method", "setting", "metric"]).any()
    assert set(PAPER["dataset"]) == {"mnist", "fashion", "crossmodal", "cifar10", "cub200"}
    assert set(PAPER["method"]) <= {
        "sequential",
        "src",
        "owm",
        "ewc",
        "si",
        "rehearsal",
        "rehearsal_src",
        "parallel",
        "icarl",
        "icarl_src",
        "owm_recipe",
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "_toc.yml").write_text("format: jb-book\n")
    monkeypatch.delenv("SLEEPBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_rows(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": "mnist",
                "method": "src",
                "metric": "final_acc",
                "value": v,
                "headline": True,
                "trial": t,
            }
            for t, v in enumerate(values)
        ]
    )


def test_cli_check_exit_codes(project: Path, capsys) -> None:
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")
    freeze("smoke", project=project)
    assert main(["--root", str(project), "check", "--profile", "smoke", "--no-run"]) == 0
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")  # same numbers again
    assert main(["--root", str(project), "check", "--profile", "smoke", "--no-run"]) == 0
    record(run_rows([38.0, 39.0, 40.0]), "incremental-mnist", "smoke")  # a code change moved it
    capsys.readouterr()
    assert main(["--root", str(project), "check", "--profile", "smoke", "--no-run"]) == 1
    out = capsys.readouterr().out
    assert "MOVED incremental-mnist mnist/src/final_acc: 49.00 -> 39.00 (-10.00 pp" in out
    assert "check FAILED" in out


def test_status_table_lists_every_paper_number(project: Path) -> None:
    record(run_rows([48.0, 50.0]), "incremental-mnist", "quick")
    table = status_table("quick", project=project)
    assert coverage(table) == (1, 42)
    src = table[(table["dataset"] == "mnist") & (table["method"] == "SRC")].iloc[0]
    assert src["ours (quick)"] == "49.00 ± 1.41 (n=2)"
    assert src["vs paper"] == "✓ within"
    assert (table["ours (quick)"] == "not covered").sum() == 41


def test_a_quick_miss_whose_full_protocol_is_within_says_so(project: Path) -> None:
    """The status table grades this build's profile; where only the cheap profile misses and
    the committed full protocol is within the paper's spread, *why* says that, not 'no measured
    cause'."""
    from sleeputils.report.status import CHEAPER

    record(run_rows([10.0, 12.0]), "incremental-mnist", "quick")  # paper: 48.47 ± 5.03
    record(run_rows([48.0, 50.0]), "incremental-mnist", "paper")
    table = status_table("quick", project=project)
    src = table[(table["dataset"] == "mnist") & (table["method"] == "SRC")].iloc[0]
    assert src["ours (paper profile)"].startswith("49.00") and src["vs paper"] == "✗ missed"
    assert src["why"] == CHEAPER
    record(run_rows([10.0, 12.0]), "incremental-mnist", "paper")  # the full protocol misses too
    src = status_table("quick", project=project).query("dataset == 'mnist' and method == 'SRC'")
    assert src["why"].iloc[0] != CHEAPER


def test_a_moved_trial_fails_even_when_the_mean_stays_in_its_band(project: Path, capsys) -> None:
    record(run_rows([30.0, 50.0, 70.0]), "incremental-mnist", "smoke")
    freeze("smoke", project=project)  # mean 50 ± 20: its band is wide (± 49 points)
    record(run_rows([30.0, 50.1, 70.0]), "incremental-mnist", "smoke")
    capsys.readouterr()
    assert main(["--root", str(project), "check", "--profile", "smoke", "--no-run"]) == 1
    out = capsys.readouterr().out
    assert "MOVED incremental-mnist mnist/src/final_acc trial 1: 50 -> 50.1" in out
    assert "0 mean(s) and 1 of 3 trial(s) moved" in out


def test_a_trial_within_rounding_passes(project: Path) -> None:
    record(run_rows([48.0, 49.0]), "incremental-mnist", "smoke")
    freeze("smoke", project=project)
    record(run_rows([48.0 + TRIAL_TOL_SAME_MACHINE / 2, 49.0]), "incremental-mnist", "smoke")
    assert main(["--root", str(project), "check", "--profile", "smoke", "--no-run"]) == 0


def _trials(method: str, values: list[float], machine: str) -> pd.DataFrame:
    return pd.DataFrame({"chapter_id": "incremental-mnist", "dataset": "mnist", "method": method,
                         "metric": "final_acc", "trial": range(len(values)), "value": values,
                         "machine": machine})


def test_on_another_machine_only_sleeping_trials_are_spared() -> None:
    ref = pd.concat([_trials("sequential", [19.0, 19.5], "A"), _trials("src", [30.0, 50.0], "A")])
    ours = pd.concat([_trials("sequential", [19.0, 19.5 + 2 * TRIAL_TOL_OTHER_MACHINE], "B"),
                      _trials("src", [35.0, 50.0], "B")])
    table = check.compare_trials(ours, ref).set_index(["method", "trial"])["status"]
    assert table[("sequential", 0)] == "ok" and table[("sequential", 1)] == "MOVED"
    assert table[("src", 0)] == table[("src", 1)] == check.OTHER_MACHINE
    same = check.compare_trials(ours.assign(machine="A"), ref).set_index(["method", "trial"])
    assert same.loc[("src", 0), "status"] == "MOVED"  # on the reference's machine: bit for bit


def _means(method: str, mean: float, n: int, std: float = float("nan")) -> pd.DataFrame:
    return pd.DataFrame([{"chapter_id": "incremental-mnist", "dataset": "mnist",
                          "method": method, "metric": "final_acc", "mean": mean, "std": std,
                          "n": n}])


@pytest.mark.parametrize(("method", "n", "spared"), [
    ("src_corrected", 1, True),  # one chaotic trial on another CPU: as good as a fresh seed
    ("icarl", 1, True),  # herding picks exemplars by argmax: chaotic too
    ("vae", 1, True),  # a VAE trained on its own samples
    ("owm_recipe", 1, True),  # OWM's authors' recipe: moved 2.63 points across two AMD CPUs
    ("owm", 1, False),  # OWM on the SRC protocol did not move
    ("sequential", 1, False),  # plain SGD moves by at most 0.14 points across CPUs
    ("src", 2, False),  # with two trials the mean keeps its statistical band
])
def test_on_another_machine_only_single_chaotic_means_are_spared(method, n, spared) -> None:
    ref = _means(method, 50.0, n, 1.0).assign(tol=2.0 if n == 1 else 0.5)
    ours = _means(method, 58.0, n, 1.0)
    values = [50.0] * n
    trials = check.compare_trials(_trials(method, [58.0] * n, "B"), _trials(method, values, "A"))
    table = check.single_chaotic_elsewhere(check.compare(ours, ref, PAPER), trials)
    assert table["status"].iloc[0] == (check.OTHER_MACHINE if spared else "MOVED")
    assert check.failed(table) != spared
    same = check.compare_trials(_trials(method, [58.0] * n, "A"), _trials(method, values, "A"))
    assert check.single_chaotic_elsewhere(check.compare(ours, ref, PAPER), same)[
        "status"].iloc[0] == "MOVED"  # on the reference's machine nothing is spared


def test_a_missing_trial_fails(project: Path) -> None:
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")
    freeze("smoke", project=project)
    record(run_rows([48.0, 49.0]), "incremental-mnist", "smoke")
    result = check.check_profile("smoke", project=project)
    assert result.failed
    assert result.trials["status"].tolist().count("MISSING") >= 1


def test_a_paper_number_is_compared_only_at_its_setting(project: Path) -> None:
    """The paper's MNIST parallel number was measured under the paper text's recipe: a record
    of the code's recipe is not set beside it, one of the paper text's is."""
    rows = run_rows([94.0, 94.4]).assign(method="parallel", setting='{"recipe":"code"}')
    record(rows, "recipes-mnist", "quick")
    table = status_table("quick", project=project)
    parallel = table[(table["dataset"] == "mnist") & (table["method"] == "parallel")
                     & (table["source"] != "book only")]
    assert parallel["ours (quick)"].tolist() == ["not covered"]
    record(rows.assign(setting='{"recipe":"paper-text"}', value=[98.0, 98.2]), "recipes-mnist",
           "quick")
    table = status_table("quick", project=project)
    parallel = table[(table["dataset"] == "mnist") & (table["method"] == "parallel")
                     & (table["source"] != "book only")]
    assert parallel["ours (quick)"].tolist() == ["98.10 ± 0.14 (n=2)"]
    assert parallel["setting"].tolist() == ["recipe paper-text"]


def test_check_without_a_reference_fails_in_one_line_before_running(project: Path,
                                                                     capsys) -> None:
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")
    code = main(["--root", str(project), "check", "--profile", "smoke"])  # would run chapters
    captured = capsys.readouterr()
    assert code == 1 and captured.out == "" and captured.err.count("\n") == 1
    assert "profile smoke has no reference numbers" in captured.err
    assert "sleepbook freeze --profile smoke" in captured.err
    assert "passed" not in captured.err


def test_check_with_nothing_recorded_says_what_to_run(project: Path, capsys) -> None:
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")
    freeze("smoke", project=project)
    for folder in (project / "results" / "cache" / "records").rglob("*.csv"):
        folder.unlink()
    code = main(["--root", str(project), "check", "--profile", "smoke", "--no-run"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == "" and captured.err.count("\n") == 1
    assert "nothing of profile smoke is recorded: run `sleepbook build --profile smoke`" in (
        captured.err)


def test_a_chapter_with_nothing_recorded_is_one_line(project: Path) -> None:
    record(run_rows([48.0, 49.0, 50.0]), "incremental-mnist", "smoke")
    record(run_rows([28.0, 29.0]), "patches", "smoke")
    freeze("smoke", project=project)
    (project / "results" / "cache" / "records" / "smoke" / "patches.csv").unlink()
    (project / "results" / "cache" / "records" / "smoke" / "trials" / "patches.csv").unlink()
    result = check.check_profile("smoke", project=project)
    assert result.failed
    lines = [line for line in result.report().splitlines() if line.startswith("MISSING")]
    assert lines == ["MISSING patches: none of its 1 reference number(s) is recorded; run "
                     "`sleepbook run patches --profile smoke`"]


def test_nothing_compared_is_never_a_pass() -> None:
    only_new = check.compare(recorded(50.0), None, PAPER)  # no reference value to meet
    assert only_new["status"].tolist() == ["new"]
    trials = check.compare_trials(_trials("src", [50.0], "A"), None)
    result = check.CheckResult(only_new, True, "smoke", trials)
    assert result.compared == 0 and result.failed
    assert "check FAILED" in result.report()


@pytest.mark.parametrize(("curve", "value", "expected"), [
    ({0.0: 20.0, 0.01: 40.0, 0.05: 60.0, 0.1: 80.0}, 55.0, (0.01, 0.05)),
    ({0.0: 20.0, 0.01: 40.0, 0.05: 60.0}, 40.0, (0.0, 0.01)),  # equal counts as reached
    ({0.0: 20.0, 0.01: 40.0}, 90.0, (0.01, None)),  # never reached: the best fraction
    ({0.01: 40.0, 0.0: 30.0}, 10.0, (None, 0.0)),  # above everywhere: the first fraction
])
def test_locate_names_the_step_of_the_sweep_that_crosses_the_value(curve, value, expected):
    assert locate(pd.Series(curve), value) == expected


def test_locate_refuses_a_curve_that_crosses_twice():
    with pytest.raises(ValueError, match="more than once"):
        locate(pd.Series({0.0: 20.0, 0.01: 60.0, 0.05: 40.0, 0.1: 80.0}), 50.0)


def test_a_number_at_an_unstated_setting_is_located_on_our_sweep(project: Path) -> None:
    """The paper's Fashion rehearsal number names no fraction: it is located on our sweep of
    fractions (and counts as computed), never compared with one fraction of our choosing."""
    rows = pd.concat([run_rows([40.0, 42.0]).assign(setting='{"fraction":0.025}'),
                      run_rows([60.0, 62.0]).assign(setting='{"fraction":0.05}')])
    record(rows.assign(dataset="fashion", method="rehearsal"), "rehearsal-fashion", "quick")
    table = status_table("quick", project=project)
    row = table[(table["chapter"] == "rehearsal-fashion") & (table["method"] == "rehearsal")
                & (table["source"] != "book only")].iloc[0]
    assert row["ours (quick)"] == "between 2.5 % (41.00) and 5 % (61.00)"  # paper: 55.19
    assert row["vs paper"] == SHORT[BRACKETED]
    assert coverage(table) == (1, 42)


def test_locate_finds_the_crossing_of_a_falling_curve_too():
    # forgetting against the fraction replayed falls: below the value from 0.05 on
    assert locate(pd.Series({0.0: 60.0, 0.01: 40.0, 0.05: 20.0}), 30.0) == (0.05, 0.01)
