"""The chapter runner executes a tiny notebook with papermill (one kernel start per test)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sleeputils.book.chapters import Chapter, Notebook, Param, ParamError, Registry
from sleeputils.book.runner import ChapterFailed, load_run_log, run_chapter
from sleeputils.results.store import ResultStore

TINY = Notebook(
    name="tiny",
    path="notebooks/tiny.ipynb",
    title="Tiny",
    protocol=None,
    params=(Param("n", "int", 1, "how many", low=1, high=10),),
)

BODY = """\
import pandas as pd
from sleeputils.results.record import record

df = pd.DataFrame([{"dataset": "d", "method": "m", "metric": "acc", "value": 10.0 * t,
                    "headline": True, "trial": t} for t in range(n)])
record(df, "tiny", profile)
open("ran.txt", "w").write(f"{profile} {n}")
if n == 7:
    raise RuntimeError("seven is unlucky")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A one-chapter book; the kernel inherits SLEEPBOOK_RESULTS and runs in the project root."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('profile = "quick"\nn = None', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(BODY),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / "notebooks" / "tiny.ipynb")
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "store"))
    return tmp_path


@pytest.fixture
def registry() -> Registry:
    return Registry([TINY], [Chapter("tiny", TINY)], {"smoke": {"chapters": {"tiny": {"n": 2}}}})


def test_runner_executes_into_book_chapters(project: Path, registry: Registry) -> None:
    run = run_chapter("tiny", "smoke", {"n": 3}, root=project, progress=False, registry=registry)
    assert run.ok and run.output == project / "book" / "chapters" / "tiny.ipynb"
    assert (project / "ran.txt").read_text() == "smoke 3"  # cwd = project root, params injected
    executed = nbformat.read(run.output, as_version=4)
    assert "hide-cell" in executed.cells[0].metadata["tags"]
    records = pd.read_csv(project / "store" / "records" / "smoke" / "tiny.csv")
    assert records["mean"].tolist() == [10.0] and records["n"].tolist() == [3]
    log = load_run_log("smoke", ResultStore(project / "store"))
    assert log["ok"].tolist() == [True]


def test_runner_validates_before_running(project: Path, registry: Registry) -> None:
    with pytest.raises(ParamError, match="'n' = 11"):
        run_chapter("tiny", "smoke", {"n": 11}, root=project, progress=False, registry=registry)
    assert not (project / "book").exists()


def test_runner_reports_a_failing_notebook(project: Path, registry: Registry) -> None:
    with pytest.raises(ChapterFailed, match="seven is unlucky"):
        run_chapter("tiny", "smoke", {"n": 7}, root=project, progress=False, registry=registry)
    log = load_run_log("smoke", ResultStore(project / "store"))
    assert log["ok"].tolist() == [False]
    assert "seven is unlucky" in log["error"].iloc[0]
