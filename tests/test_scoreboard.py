"""The scoreboard: every reason points at a real paper number and a real section of the book."""

from __future__ import annotations

from pathlib import Path

from sleeputils.report import scoreboard
from sleeputils.results.paper import NOT_COVERED, OUTSIDE, WITHIN, load_paper_values

ROOT = Path(__file__).resolve().parents[1]


def test_every_reason_names_a_paper_number_and_an_existing_section() -> None:
    paper = set(zip(*load_paper_values()[["chapter_id", "method"]].T.to_numpy(), strict=True))
    absent, numbers = scoreboard.reasons()
    assert set(numbers) <= paper  # a reason for a number the paper does not have is stale
    for (chapter, method), reason in numbers.items():
        assert scoreboard.label_page(reason["ref"], ROOT), (chapter, method, reason["ref"])
    assert set(absent) == {"cifar10", "cub200"}


def test_why_explains_only_misses_and_gaps() -> None:
    assert scoreboard.why("incremental-mnist", "mnist", "src", WITHIN) == ("", "")
    text, label = scoreboard.why("crossmodal", "crossmodal", "ewc", OUTSIDE)
    assert "validation split" in text and label == "baselines-search"
    text, label = scoreboard.why("cub200", "cub200", "src", NOT_COVERED)
    assert "cub200_resnet50_train.mat" in text and label == ""
    assert scoreboard.why("incremental-mnist", "mnist", "sequential", OUTSIDE)[0] == (
        "no measured cause yet")  # a new miss is never silently explained


def test_label_page_finds_the_methods_page_of_a_label() -> None:
    assert scoreboard.label_page("dev-owm-setup", ROOT) == "deviations"
    assert scoreboard.label_page("no-such-label", ROOT) is None
