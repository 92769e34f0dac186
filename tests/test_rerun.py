"""The re-run box's command reproduces the page: the CLI reads it back as the very same run."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from sleeputils.chapters.htmlcheck import check_html
from sleeputils.chapters.registry import Book, Resolved
from sleeputils.chapters.rerun import command_value, rerun_box, rerun_command
from sleeputils.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
BOOK = Book(ROOT)


def _read_back(command: str) -> Resolved:
    """What ``sleepbook`` would run for this command line (its own parser and resolver)."""
    words = shlex.split(command)
    assert words[:2] == [".venv/bin/sleepbook", "run"]
    args = _parser().parse_args(words[1:])
    return BOOK.resolve(args.chapter, args.profile, BOOK.parse(args.chapter, args.params))


def _same(a: Resolved, b: Resolved) -> None:
    assert (a.chapter_id, a.profile, a.label) == (b.chapter_id, b.profile, b.label)
    assert a.config == b.config


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_every_chapter_command_reads_back_as_its_run(profile: str) -> None:
    for chapter in BOOK.chapters:
        run = BOOK.resolve(chapter.id, profile)
        assert not run.differences
        _same(_read_back(rerun_command(run)), run)


def test_a_custom_run_reads_back_with_every_value_exact() -> None:
    """Every chapter on the smoke profile with the paper profile's values as overrides (a
    custom run that sets many parameters), plus values a rounded spelling would change."""
    customs = 0
    for chapter in BOOK.chapters:
        paper = BOOK.resolve(chapter.id, "paper").config
        if paper is None:
            continue
        run = BOOK.resolve(chapter.id, "smoke", paper.as_dict())
        _same(_read_back(rerun_command(run)), run)
        customs += bool(run.differences)
    assert customs > 10
    tricky = BOOK.resolve("rehearsal-mnist", "quick",
                          {"fractions": (0.1 + 0.2, 1 / 3, 1e-5), "seed": 7})
    assert tricky.label.startswith("custom-")
    _same(_read_back(rerun_command(tricky)), tricky)


def test_command_values() -> None:
    assert command_value((1, 2, 3, 4, 5, 6)) == "1..6"
    assert command_value((1, 2, 4)) == "1,2,4"
    assert command_value(1 / 3) == "0.3333333333333333"
    assert command_value(None) == "none"


def test_box_names_the_command_the_source_and_the_executed_notebook() -> None:
    run = BOOK.resolve("icarl-mnist", "quick", {"trials": 2})
    box = rerun_box(run)
    assert ".venv/bin/sleepbook run icarl-mnist --profile quick -p trials 2" in box
    assert "</notebooks/icarl.md>" in box and "</book/chapters/icarl-mnist.ipynb>" in box


PAGE = """<html><head>
<link rel="stylesheet" href="../_static/pydata.css">
<link rel="canonical" href="https://example.org/book/chapters/icarl-mnist.html">
{head}
<script src="../_static/mathjax/tex-chtml.js"></script>
<script>const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"; const x = 1</script>
<script>window.MathJax = {{tex: {{inlineMath: [["\\\\(", "\\\\)"]]}}}}</script>
</head><body>
<a href="https://doi.org/10.1038/s41467-022-34938-7">the paper</a>
<div class="highlight"><pre><span></span>.venv/bin/sleepbook<span class="w"> </span>run<span
class="w"> </span>icarl-mnist<span class="w"> </span>--profile<span class="w"> </span>quick</pre>
</div></body></html>"""


@pytest.mark.parametrize("head", [
    '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>',
    '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">',
    '<link rel="preconnect" href="https://fonts.gstatic.com">',
    '<script>MathJax = {loader: {paths: {mathjax: "https://cdn.example.net/mathjax"}}}</script>',
    '<img src="http://example.org/logo.png">',
    '<script async src="https://unpkg.com/thebe@0.8.2/lib/index.js"></script>',
])
def test_html_check_names_what_a_page_loads_from_another_host(tmp_path, head: str) -> None:
    page = tmp_path / "book" / "chapters" / "icarl-mnist.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE.format(head=""))
    assert check_html(tmp_path, ["icarl-mnist"]) == []  # links to other hosts are fine
    page.write_text(PAGE.format(head=head))
    (problem,) = check_html(tmp_path, ["icarl-mnist"])
    assert problem.startswith("book/chapters/icarl-mnist.html loads ") and "//" in problem


def test_html_check_names_a_chapter_page_without_its_command(tmp_path) -> None:
    page = tmp_path / "book" / "chapters" / "icarl-mnist.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE.format(head="").replace("icarl-mnist<", "icarl-fashion<"))
    assert check_html(tmp_path, ["icarl-mnist", "single"]) == [
        "book/chapters/icarl-mnist.html has no re-run command (sleepbook run icarl-mnist ...)",
        "book/chapters/single.html was not built"]
