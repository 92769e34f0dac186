"""Chapter parameters, profiles and the ``sleepbook`` command line (nothing is executed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sleeputils.chapters.registry import NOTEBOOKS, Book, Notebook, Profiles, toc_chapter_ids
from sleeputils.cli import main
from sleeputils.params import ParamError
from sleeputils.protocols.incremental import IncrementalConfig
from sleeputils.protocols.patches import PatchesConfig

ROOT = Path(__file__).resolve().parents[1]
BOOK = Book(ROOT)


def resolve(chapter: str, profile: str, overrides: dict | None = None) -> dict:
    return BOOK.resolve(chapter, profile, overrides).config.as_dict()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_runs(capsys) -> None:
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for text in ("incremental-mnist", "incremental-fashion", "patches", "test_subset", "smoke"):
        assert text in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "incremental", "-p", "dataset", "cifar100"],
            "parameter 'dataset' = 'cifar100' is not valid: use one of mnist, fashion, cifar10",
        ),
        (["run", "incremental-mnist", "-p", "epoch", "3"], "unknown parameter 'epoch'"),
        (["run", "incremental-mnist", "-p", "trials", "two"], "'trials' = 'two' is not valid"),
        (["run", "incremental-mnist", "-p", "trials", "2.5"], "use an integer in 1..100"),
        (["run", "incremental-mnist", "-p", "trials", "0"], "'trials' = 0 is not valid"),
        (["run", "patches", "-p", "overlaps", "0..30"], "a list of integers in 1..25"),
        (["run", "status", "-p", "trials", "3"], "chapter status has no parameters"),
        (["run", "incremental", "--profile", "fast"], "unknown profile 'fast'; valid: smoke"),
        (["run", "incremental-mnist", "-p", "dataset", "fashion"], "fixes dataset = mnist"),
        (["run", "chapter9"], "unknown chapter 'chapter9'"),
        (["run", "incremental", "-p", "ewc_lambda", "0"], "'ewc_lambda' = 0 is not valid"),
        (["run", "incremental", "-p", "owm_alpha", "-1"], "'owm_alpha' = -1 is not valid"),
        (["run", "incremental", "-p", "methods", "ewc,lwf"],
         "use a list of sequential, ewc, si, owm, src, src_searched, parallel"),
        (["run", "incremental", "-p", "ewc_variant", "offline"], "use one of standard, online"),
        (["run", "patches", "-p", "overlaps", "4,4"],
         "parameter 'overlaps' lists 4 more than once: give each value once"),
        (["run", "rehearsal", "-p", "fractions", "0.1,0.10"], "'fractions' lists 0.1 more than"),
        (["run", "rehearsal", "-p", "fractions", ",".join(["0.1"] * 50_000)],
         "parameter 'fractions' lists 50000 values: at most 100 are allowed"),
        (["run", "patches", "-p", "overlaps", "1..99999999999"], "at most 100 are allowed"),
        (["run", "patches", "-p", "trials", "2", "-p", "trials", "1"],
         "parameter 'trials' is given 2 times (-p trials 2, -p trials 1): give it once"),
        (["run", "patches", "-p", "overlaps", "25..1"],
         "'overlaps' = '25..1' is an empty range: write the smaller end first (1..25)"),
    ],
)
def test_bad_parameters_fail_in_one_line(capsys, argv: list[str], message: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and out == ""  # one line, and nothing ran


@pytest.mark.parametrize(("key", "what"), [("dataset", "value"), ("x" * 100_000, "key")])
def test_an_error_quotes_at_most_80_characters_of_a_value(capsys, key: str, what: str) -> None:
    value = "y" * 100_000
    code, out, err = run_cli(capsys, "run", "incremental", "-p", key, value)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ("y" * 80 + "... (100000 characters)" if what == "value" else
            "x" * 80 + "... (100000 characters)") in err
    assert len(err) < 400  # the valid keys are listed after the cut key


def test_lists_hold_each_value_once_except_layer_widths() -> None:
    with pytest.raises(ParamError, match="'ewc_grid' lists 10 more than once"):
        IncrementalConfig(ewc_grid=(1.0, 10.0, 10))
    assert IncrementalConfig(hidden=(64, 64)).hidden == (64, 64)  # a shape, not a set
    assert PatchesConfig(overlaps=range(1, 26)).overlaps == tuple(range(1, 26))


def test_unknown_key_lists_the_valid_ones(capsys) -> None:
    _, _, err = run_cli(capsys, "run", "patches", "-p", "width", "11")
    assert "valid: overlaps, trials, seed" in err


def test_resolve_applies_profiles() -> None:
    smoke = resolve("incremental-mnist", "smoke")
    assert smoke == {
        **IncrementalConfig().as_dict(),  # what smoke does not name keeps its declared default
        "trials": 1,
        "hidden": (64, 64),
        "per_task_train": 200,
        "epochs": 1,
        "sleep_scale": 0.02,
        "test_subset": 1000,
        "ewc_grid": (100.0, 1000.0),
        "si_grid": (1.0, 10.0),
        "owm_grid": (0.001, 0.01),
        "validation": 100,
    }
    assert smoke["dataset"] == "mnist" and smoke["seed"] == 0
    quick = resolve("incremental-fashion", "quick")
    assert quick["trials"] == 3 and quick["dataset"] == "fashion"
    assert quick["hidden"] == (400, 400)  # the quick profile's narrower net (profiles.yaml)
    assert quick["test_subset"] is None  # otherwise the original protocol
    declared = IncrementalConfig()
    assert resolve("incremental-mnist", "paper") == {  # the declared grid, a decade further
        **declared.as_dict(), "owm_grid": (*declared.owm_grid, 10 * declared.owm_grid[-1])}
    assert resolve("patches", "smoke") == {"overlaps": (4, 12), "trials": 1, "seed": 0,
                                           "sleep_scale": 1.0}
    assert resolve("patches", "quick")["overlaps"] == tuple(range(1, 26))
    assert resolve("patches", "paper")["trials"] == 5


def test_overrides_beat_profiles_and_make_a_custom_run() -> None:
    run = BOOK.resolve("incremental-mnist", "smoke", {"epochs": 3, "test_subset": None})
    assert run.config.epochs == 3 and run.config.test_subset is None
    assert run.differences == {"epochs": (3, 1), "test_subset": (None, 1000)}
    assert run.label.startswith("custom-") and run.label != "smoke"
    same = BOOK.resolve("incremental-mnist", "smoke", {"epochs": 1})  # the profile's own value
    assert same.label == "smoke" and not same.differences
    with pytest.raises(ParamError, match="sleep_scale"):
        resolve("incremental-mnist", "smoke", {"sleep_scale": -1.0})


def test_a_notebook_name_picks_the_chapter() -> None:
    assert BOOK.resolve("incremental", "smoke", {"dataset": "fashion"}).chapter_id == \
        "incremental-fashion"
    assert BOOK.resolve("incremental", "quick").chapter_id == "incremental-mnist"
    assert BOOK.resolve("patches", "quick").chapter_id == "patches"


def test_notebook_names_and_instance_values_may_contain_dashes() -> None:
    """The longest notebook name before a dash wins: ``wake-sleep-cifar10-images`` is notebook
    ``wake-sleep`` on ``cifar10-images``, beside a notebook ``wake`` of its own."""
    from sleeputils.protocols.wscl import WSCLConfig

    notebooks = {**NOTEBOOKS, "wake": Notebook("wake", WSCLConfig, "dataset"),
                 "wake-sleep": Notebook("wake-sleep", WSCLConfig, "dataset")}
    book = Book(ROOT, notebooks, Profiles({"smoke": {}}, notebooks))
    chapter = book.chapter("wake-sleep-cifar10-images")
    assert chapter.notebook.name == "wake-sleep"
    assert chapter.fixed == {"dataset": "cifar10-images"}
    assert book.chapter("wake-mnist").notebook.name == "wake"
    with pytest.raises(ParamError, match="unknown chapter 'wake-sleep-svhn'"):
        book.chapter("wake-sleep-svhn")


def test_command_line_values_are_parsed() -> None:
    assert PatchesConfig.parse("overlaps", "1..4") == (1, 2, 3, 4)
    assert PatchesConfig.parse("overlaps", "4,12") == (4, 12)
    assert IncrementalConfig.parse("hidden", "[64, 32]") == (64, 32)
    assert IncrementalConfig.parse("sleep_scale", "1") == 1.0
    assert IncrementalConfig.parse("test_subset", "none") is None
    assert IncrementalConfig.parse("methods", "src,parallel") == ("src", "parallel")


def test_profiles_hold_only_valid_overrides() -> None:
    profiles = Profiles.load(NOTEBOOKS)
    assert profiles.names == ["smoke", "quick", "paper"]
    bad = {"quick": {"chapters": {"incremental": {"trials": 0}}}}
    with pytest.raises(ParamError, match="profile quick, incremental: parameter 'trials' = 0"):
        Profiles(bad, NOTEBOOKS)
    with pytest.raises(ParamError, match="unknown parameter 'epoch'"):
        Profiles({"quick": {"chapters": {"incremental": {"epoch": 3}}}}, NOTEBOOKS)
    with pytest.raises(ParamError, match="unknown notebook or chapter 'incremntal'"):
        Profiles({"quick": {"chapters": {"incremntal": {"trials": 3}}}}, NOTEBOOKS)


def test_a_key_written_twice_in_the_profiles_fails_on_load(tmp_path: Path) -> None:
    """Plain YAML keeps the second of two equal keys and drops the first's values silently."""
    twice = tmp_path / "profiles.yaml"
    twice.write_text("smoke:\n  chapters:\n    single:\n      trials: 1\n"
                     "    single:\n      epochs: [1]\n")
    with pytest.raises(ParamError, match="line 5: 'single' appears twice"):
        Profiles.load(NOTEBOOKS, twice)


def test_the_chapter_list_is_the_table_of_contents() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert [c.id for c in BOOK.chapters] == [f.removeprefix("book/chapters/") for f in files
                                             if f.startswith("book/chapters/")]
    assert toc_chapter_ids(ROOT) == [c.id for c in BOOK.chapters]
    used = {c.notebook.name for c in BOOK.chapters}
    assert used == set(NOTEBOOKS)  # no notebook without a chapter
    for notebook in NOTEBOOKS.values():
        assert (ROOT / notebook.source).is_file()
    assert BOOK.chapter("incremental-cifar10").fixed == {"dataset": "cifar10"}


def test_every_parameter_is_documented() -> None:
    for notebook in NOTEBOOKS.values():
        if notebook.config is None:
            continue
        for name, default, allowed, help_text in notebook.config.describe():
            assert help_text and allowed and default, (notebook.name, name)


def test_missing_data_fails_in_one_line_before_running(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "1")
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path))
    monkeypatch.delenv("SLEEPUTILS_CIFAR10_DIR", raising=False)
    code, out, err = run_cli(capsys, "run", "incremental", "-p", "dataset", "cifar10",
                             "--profile", "smoke", "--no-progress")
    assert code == 1
    assert "CIFAR-10 features are not available" in err and err.count("\n") == 1


def test_a_validation_split_that_does_not_fit_fails_before_training(capsys) -> None:
    code, out, err = run_cli(capsys, "run", "incremental-mnist", "--profile", "smoke",
                             "-p", "per_task_train", "11500", "-p", "validation", "1000")
    assert code == 2 and err.count("\n") == 1
    assert "fewer than validation = 1000; lower per_task_train or validation" in err


def test_an_instance_value_given_as_an_override_is_not_a_difference() -> None:
    """``-p dataset mnist`` on the incremental notebook names the incremental-mnist chapter: only
    the seed differs from its profile."""
    run = BOOK.resolve("incremental", "smoke", {"dataset": "mnist", "seed": 1})
    assert run.chapter.id == "incremental-mnist" and run.differences == {"seed": (1, 0)}


def test_parameters_table_names_where_each_value_came_from() -> None:
    from sleeputils.chapters.notebook import Page

    run = BOOK.resolve("incremental-fashion", "smoke", {"epochs": 3})
    table = Page(run, ROOT).parameters().data.set_index("parameter")["from"]
    assert table["dataset"] == "chapter incremental-fashion"  # fixed by the id, not a profile
    assert table["epochs"] == "this run"
    assert table["trials"] == "profile smoke"
    assert table["seed"] == "original protocol"


def test_a_page_shows_its_numbers_beside_the_committed_full_protocol(tmp_path: Path) -> None:
    import pandas as pd

    from sleeputils.chapters.notebook import Page
    from sleeputils.results.record import load_records

    paper = load_records("paper", project=ROOT)
    paper = paper[paper["chapter_id"] == "incremental-mnist"].set_index(["method", "metric"])
    committed = paper.loc[("src", "final_acc"), "mean"]
    df = pd.DataFrame({"dataset": "mnist", "method": "src", "metric": "final_acc",
                       "trial": [0, 1], "value": [committed + 1.0, committed + 3.0],
                       "headline": True})
    table = Page(BOOK.resolve("incremental-mnist", "quick"), ROOT).full_protocol(df).data
    row = table[(table["method"] == "SRC") & (table["number"] == "final_acc")].iloc[0]
    assert row["difference"] == "+2.00"  # ours (mean of the two trials) minus the committed
    n = int(paper.loc[("src", "final_acc"), "n"])
    assert row["full protocol (paper profile)"].endswith(f"(n={n})")
    assert len(table) == len(paper)  # every committed number, even those this run lacks
    # a project with nothing committed (which chapters have a run changes as runs land)
    none_yet = Page(BOOK.resolve("interleave", "quick"), tmp_path).full_protocol(df)
    assert "No `paper`-profile run" in none_yet.data


def test_a_root_without_a_book_fails_in_one_line_and_writes_nothing(capsys, tmp_path) -> None:
    missing = tmp_path / "nothere"
    code, out, err = run_cli(capsys, "--root", str(missing), "run", "patches",
                             "--profile", "smoke")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert f"--root {missing} holds no book (no _toc.yml)" in err
    assert not missing.exists()


def test_an_unwritable_results_folder_fails_in_one_line_before_running(
        capsys, tmp_path, monkeypatch) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "a-file" / "results"))
    code, out, err = run_cli(capsys, "run", "patches", "--profile", "smoke")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert (f"the results folder {tmp_path / 'a-file' / 'results'} (from $SLEEPBOOK_RESULTS) "
            "is not writable") in err


def test_list_shows_the_value_each_chapter_runs(capsys) -> None:
    """A profile value set for one chapter of a notebook is listed per chapter, as resolved."""
    _, out, _ = run_cli(capsys, "list")
    icarl = [c for c in BOOK.chapters if c.notebook.name == "icarl"]
    runs = {c.id: BOOK.resolve(c.id, "quick", {}).config.trials for c in icarl}
    assert len(set(runs.values())) > 1  # the case the listing must not hide
    block = out.split("\nicarl  (")[1].split("\n\n")[0]
    line = next(row for row in block.splitlines() if row.strip().startswith("trials"))
    for chapter, trials in runs.items():
        assert f"{chapter}: {trials}" in line


def test_a_search_is_not_counted_as_a_trial() -> None:
    import pandas as pd

    from sleeputils.chapters.notebook import trial_count
    from sleeputils.protocols.tuning import SEARCH_TRIAL

    df = pd.DataFrame({"trial": [0, 1, 2, SEARCH_TRIAL, 2, 3],
                       "headline": [True, True, True, True, True, None]})
    assert trial_count(df) == 3  # trial 3 has no headline number
