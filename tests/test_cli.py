"""Chapter parameters, profiles and the ``sleepbook`` command line (nothing is executed)."""

from __future__ import annotations

import pytest

from sleeputils.book.chapters import (
    INCREMENTAL,
    PATCHES,
    ParamError,
    chapter_setup,
    default_registry,
    load_profiles,
    resolve,
)
from sleeputils.cli import main


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
        (["run", "incremental", "--profile", "fast"], "unknown profile 'fast'; valid: smoke"),
        (["run", "incremental-mnist", "-p", "dataset", "fashion"], "fixes dataset = mnist"),
        (["run", "chapter9"], "unknown chapter 'chapter9'"),
    ],
)
def test_bad_parameters_fail_in_one_line(capsys, argv: list[str], message: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and out == ""  # one line, and nothing ran


def test_unknown_key_lists_the_valid_ones(capsys) -> None:
    _, _, err = run_cli(capsys, "run", "patches", "-p", "width", "11")
    assert "valid: overlaps, trials, seed" in err


def test_resolve_applies_profiles() -> None:
    smoke = resolve("incremental-mnist", "smoke")
    assert smoke == {
        "dataset": "mnist",
        "trials": 1,
        "seed": 0,
        "hidden": (64, 64),
        "per_task_train": 200,
        "epochs": 1,
        "sleep_scale": 0.02,
        "test_subset": 1000,
    }
    quick = resolve("incremental-fashion", "quick")
    assert quick["trials"] == 3 and quick["dataset"] == "fashion"
    assert quick["hidden"] == (1200, 1200) and quick["test_subset"] is None  # paper settings
    assert resolve("incremental-mnist", "paper")["trials"] == 5
    assert resolve("patches", "smoke") == {"overlaps": [4, 12], "trials": 1, "seed": 0}
    assert resolve("patches", "quick")["overlaps"] == list(range(1, 26))
    assert resolve("patches", "paper")["trials"] == 5


def test_overrides_beat_profiles() -> None:
    kwargs = resolve("incremental-mnist", "smoke", {"epochs": 3, "test_subset": "all"})
    assert kwargs["epochs"] == 3 and kwargs["test_subset"] is None
    assert resolve("incremental-mnist", "smoke", {"epochs": None})["epochs"] == 1  # None = profile
    with pytest.raises(ParamError, match="sleep_scale"):
        resolve("incremental-mnist", "smoke", {"sleep_scale": -1.0})


def test_chapter_setup_picks_the_chapter_id() -> None:
    setup = chapter_setup("incremental", "smoke", dataset="fashion", trials=None, epochs=2)
    assert setup.chapter_id == "incremental-fashion"
    assert setup.kwargs["epochs"] == 2 and setup.kwargs["trials"] == 1
    assert setup.sources["epochs"] == "override" and setup.sources["trials"] == "profile smoke"
    assert chapter_setup("incremental", "quick").chapter_id == "incremental-mnist"
    assert chapter_setup("patches", "quick").chapter_id == "patches"


def test_command_line_values_are_parsed() -> None:
    assert PATCHES.param("overlaps").parse("1..4") == [1, 2, 3, 4]
    assert PATCHES.param("overlaps").parse("4,12") == [4, 12]
    assert INCREMENTAL.param("hidden").parse("[64, 32]") == [64, 32]
    assert INCREMENTAL.param("sleep_scale").parse("1") == 1.0
    assert INCREMENTAL.param("test_subset").parse("all") == "all"


def test_profiles_file_is_valid() -> None:
    profiles = load_profiles()
    assert set(profiles) == {"smoke", "quick", "paper"}
    registry = default_registry()  # construction validates every profile value
    assert registry.chapter_ids() == [
        "patches",
        "incremental-mnist",
        "incremental-fashion",
        "rehearsal-mnist",
        "rehearsal-fashion",
        "status",
    ]
    assert registry.chapter("incremental-cifar10").fixed == {"dataset": "cifar10"}


def test_missing_data_fails_in_one_line_before_running(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "1")
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path))
    monkeypatch.delenv("SLEEPUTILS_CIFAR10_DIR", raising=False)
    code, out, err = run_cli(capsys, "run", "incremental", "-p", "dataset", "cifar10",
                             "--profile", "smoke", "--no-progress")
    assert code == 1
    assert "CIFAR-10 features are not available" in err and err.count("\n") == 1
