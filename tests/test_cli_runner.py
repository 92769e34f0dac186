"""The chapter runner executes a tiny MyST notebook with papermill (one kernel start per test)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sleeputils.chapters.registry import Book, Notebook, Profiles
from sleeputils.chapters.runner import ChapterFailed, run_all, run_chapter
from sleeputils.params import ParamError, Params, declare
from sleeputils.results.runlog import ChapterRun, load_run_log, log_run
from sleeputils.results.store import ResultStore


@dataclass(frozen=True)
class TinyConfig(Params):
    n: int = declare(1, "how many", low=1, high=10)


NOTEBOOKS = {"tiny": Notebook("tiny", TinyConfig)}

def header(title: str, chapter: str, profile: str) -> str:
    """A MyST notebook's front matter, title and papermill parameters cell."""
    return f"""\
---
jupytext:
  text_representation: {{extension: .md, format_name: myst}}
kernelspec: {{display_name: Python 3, language: python, name: python3}}
---

# {title}

```{{code-cell}} ipython3
:tags: [parameters]

chapter = "{chapter}"
profile = "{profile}"
params = {{}}
```
"""


SOURCE = header("Tiny", "tiny", "quick") + """

```{code-cell} ipython3
import pandas as pd
from sleeputils.results.record import record

n = params.get("n", 2)
df = pd.DataFrame([{"dataset": "d", "method": "m", "metric": "acc", "value": 10.0 * t,
                    "headline": True, "trial": t} for t in range(n)])
record(df, chapter, profile)
open("ran.txt", "w").write(f"{profile} {n}")
if n == 7:
    raise RuntimeError("seven is unlucky")
```
"""

#: A chapter that notes when it ran (for the concurrent runner).
TIMED = header("Timed", "a", "smoke") + """

```{code-cell} ipython3
import os, time
start = time.time()
time.sleep(3)
open(f"{chapter}.times", "w").write(f"{start} {time.time()} {os.environ['MPLBACKEND']}")
```
"""


@pytest.fixture
def book(tmp_path: Path, monkeypatch) -> Book:
    """A one-chapter book; the kernel inherits SLEEPBOOK_RESULTS and runs in the project root."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: book/chapters/tiny\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "tiny.md").write_text(SOURCE)
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "store"))
    profiles = Profiles({"smoke": {"chapters": {"tiny": {"n": 2}}}}, NOTEBOOKS)
    return Book(tmp_path, NOTEBOOKS, profiles)


def test_runner_executes_into_book_chapters(book: Book) -> None:
    run = book.resolve("tiny", "smoke", {"n": 3})
    done = run_chapter(run, book, progress=False)
    assert done.ok and done.output == book.project / "book" / "chapters" / "tiny.ipynb"
    assert (book.project / "ran.txt").read_text() == "smoke 3"  # cwd = root, params injected
    executed = nbformat.read(done.output, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "remove-cell" in injected[0].metadata["tags"]
    records = pd.read_csv(book.project / "store" / "records" / "smoke" / "tiny.csv")
    assert records["mean"].tolist() == [10.0] and records["n"].tolist() == [3]
    assert load_run_log(run.label, ResultStore(book.project / "store"))["ok"].tolist() == [True]


def test_the_chapter_list_comes_from_the_toc(book: Book) -> None:
    assert [c.id for c in book.chapters] == ["tiny"]


def test_bad_values_fail_before_running(book: Book) -> None:
    with pytest.raises(ParamError, match="'n' = 11"):
        book.resolve("tiny", "smoke", {"n": 11})
    assert not (book.project / "book").exists()


def test_a_failing_notebook_is_kept_and_named(book: Book) -> None:
    run = book.resolve("tiny", "smoke", {"n": 7})
    with pytest.raises(ChapterFailed, match="seven is unlucky") as failure:
        run_chapter(run, book, progress=False)
    output = book.project / "book" / "chapters" / "tiny.ipynb"
    assert str(output) in str(failure.value)
    executed = nbformat.read(output, as_version=4)  # kept, with the error in it
    assert any(o["output_type"] == "error" for c in executed.cells for o in c.get("outputs", []))
    log = load_run_log(run.label, ResultStore(book.project / "store"))
    assert log["ok"].tolist() == [False] and "seven is unlucky" in log["error"].iloc[0]


def _timed_book(root: Path, ids: list[str], source: str, monkeypatch) -> None:
    """A project whose chapters ``ids`` are each the notebook ``source``, its store under it."""
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n" + "".join(
        f"  - file: book/chapters/{i}\n" for i in ids))
    (root / "notebooks").mkdir()
    for i in ids:
        (root / "notebooks" / f"{i}.md").write_text(source)
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(root / "store"))
    monkeypatch.setenv("MPLBACKEND", "Agg")


def test_chapters_run_concurrently_and_all_are_logged(tmp_path: Path, monkeypatch) -> None:
    """With two jobs two chapters overlap in time, the summary chapter starts after both end,
    every run is logged (the log is rewritten by both threads) and the caller's matplotlib
    backend comes back."""
    ids = ["a", "b", "c"]
    _timed_book(tmp_path, ids, TIMED, monkeypatch)
    notebooks = {i: Notebook(i, None, summary=i == "a") for i in ids}  # a reads the others
    book = Book(tmp_path, notebooks, Profiles({"smoke": {}}, {}))
    here = os.getcwd()
    runs = run_all(book, "smoke", progress=False, jobs=2)
    assert [r.chapter_id for r in runs] == ids and all(r.ok for r in runs)
    assert os.getcwd() == here  # the kernels start in the project; this process stays put
    times = {i: (tmp_path / f"{i}.times").read_text().split() for i in ids}
    (a0, _, backend), (b0, b1, _), (c0, c1, _) = times["a"], times["b"], times["c"]
    assert float(c0) < float(b1) and float(b0) < float(c1)  # b and c ran at the same time
    assert float(a0) >= max(float(b1), float(c1))  # the summary waited for both
    assert backend.startswith("module://")  # the kernels draw inline figures
    assert os.environ["MPLBACKEND"] == "Agg"
    log = load_run_log("smoke", ResultStore(tmp_path / "store"))
    assert sorted(log["chapter_id"]) == ids


def test_the_longest_chapters_start_first(tmp_path: Path, monkeypatch) -> None:
    """One job: the chapters start in the order of their expected time (the run log's last
    seconds, here c then b), the one without any in book order after them, and the runs come
    back in book order."""
    ids = ["a", "b", "c"]
    _timed_book(tmp_path, ids, TIMED.replace("time.sleep(3)", ""), monkeypatch)
    store = ResultStore(tmp_path / "store")
    for chapter, seconds in (("b", 20.0), ("c", 90.0)):
        log_run(ChapterRun(chapter, "smoke", tmp_path / "x.ipynb", seconds, True, "", ""), store)
    book = Book(tmp_path, {i: Notebook(i, None) for i in ids}, Profiles({"smoke": {}}, {}))
    runs = run_all(book, "smoke", progress=False, jobs=1)
    assert [r.chapter_id for r in runs] == ids
    starts = {i: float((tmp_path / f"{i}.times").read_text().split()[0]) for i in ids}
    assert starts["c"] < starts["b"] < starts["a"]
