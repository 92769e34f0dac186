"""Execute chapter notebooks with papermill and build the book.

The CLI is a thin layer over these functions, so tests can call them directly. A chapter run:

1. resolves and validates its parameters (``ParamError`` before anything runs);
2. executes ``notebooks/<name>.ipynb`` with papermill (kernel ``python3``, cwd = project root)
   into ``book/chapters/<chapter id>.ipynb``; the protocols inside reuse cached result units;
3. logs how it went (time, success) to ``<store root>/runs/<profile>.csv`` for the status page.

Nothing else is rebuilt. :func:`build_book` runs every chapter, writes the summary the title page
includes (``book/_generated/summary.md``), then calls ``jupyter-book build`` with execution off.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sleeputils.book.chapters import Chapter, Registry, default_registry
from sleeputils.results import provenance
from sleeputils.results.store import ResultStore, default_root

KERNEL = "python3"
SUMMARY = Path("book/_generated/summary.md")
#: Cell tags papermill uses for the parameters cells; the output hides them behind a toggle.
PARAMETER_TAGS = ("parameters", "injected-parameters")


class ChapterFailed(RuntimeError):
    """A chapter notebook raised; the message is one line and names the output notebook."""


@dataclass(frozen=True)
class ChapterRun:
    """How one chapter execution went."""

    chapter_id: str
    profile: str
    output: Path
    seconds: float
    ok: bool
    started: str
    error: str = ""


def find_project(root: Path | None = None) -> Path:
    """The book's root folder: ``root``, else the nearest ``_toc.yml`` above the working
    directory, else the checkout the package was installed from (editable installs)."""
    if root is not None:
        return Path(root).resolve()
    found = provenance.project_root()
    if found is None and (provenance.PACKAGE_DIR.parent / provenance.PROJECT_MARKER).is_file():
        found = provenance.PACKAGE_DIR.parent
    if found is None:
        raise FileNotFoundError("no book found: run from inside the sleepbook checkout (_toc.yml)")
    return found


def notebook_parameters(
    chapter: Chapter, profile: str, overrides: Mapping[str, Any], registry: Registry
) -> dict[str, Any]:
    """Validated papermill parameters: the profile, the chapter's fixed values and overrides.

    Raises ``ParamError`` (one line) for an unknown profile or parameter or a bad value.
    """
    registry.resolve_sources(chapter.id, profile, overrides)  # validates everything
    notebook = chapter.notebook
    given = {name: notebook.param(name).check(v) for name, v in overrides.items() if v is not None}
    return {"profile": profile, **chapter.fixed, **given}


def execute_notebook(
    source: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    cwd: Path,
    progress: bool = True,
    title_suffix: str | None = None,
) -> None:
    """Run ``source`` with papermill into ``output`` and fold away its parameters cells.

    ``title_suffix`` is appended to the notebook's first heading, so that two renderings of one
    notebook (``incremental`` on MNIST and on Fashion-MNIST) have distinct titles in the book.
    """
    import nbformat
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    if progress:  # the protocols' own tqdm bars (trials done, time left) stream to the terminal
        print(f"executing {source.name} -> {output}", file=sys.stderr, flush=True)
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters=dict(parameters),
        kernel_name=KERNEL,
        language="python",
        cwd=str(cwd),
        progress_bar=False,
        stderr_file=sys.stderr if progress else None,
        request_save_on_cell_execute=True,
    )
    notebook = nbformat.read(output, as_version=4)
    if title_suffix:
        _suffix_title(notebook, title_suffix)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag in PARAMETER_TAGS for tag in tags) and "hide-cell" not in tags:
            cell["metadata"]["tags"] = [*tags, "hide-cell"]
    provenance.atomic_write_text(output, nbformat.writes(notebook))


def _suffix_title(notebook: Any, suffix: str) -> None:
    """Append ``suffix`` to the first level-1 heading of the first markdown cell."""
    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown":
            lines = cell["source"].split("\n")
            if lines and lines[0].startswith("# "):
                lines[0] = f"{lines[0]}: {suffix}"
                cell["source"] = "\n".join(lines)
            return


#: How an instance value is spelled in a chapter title.
DISPLAY_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST", "cifar10": "CIFAR-10",
                 "cub200": "CUB-200"}


def run_chapter(
    chapter: str,
    profile: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
    progress: bool = True,
    registry: Registry | None = None,
    store: ResultStore | None = None,
) -> ChapterRun:
    """Execute one chapter (a chapter id, or a notebook name plus its instance parameter).

    Validates first (``ParamError``), raises ``FileNotFoundError`` if the notebook is missing and
    ``ChapterFailed`` if it raised; the run is logged either way.
    """
    registry = registry or default_registry()
    overrides = dict(overrides or {})
    chosen = registry.select(chapter, overrides)
    parameters = notebook_parameters(chosen, profile, overrides, registry)
    project = find_project(root)
    store = store or ResultStore(default_root(project))
    source, output = project / chosen.notebook.path, project / chosen.output
    _check_data(parameters)
    started, clock = provenance.utc_now(), time.perf_counter()
    if not source.is_file():
        missing = f"notebook {chosen.notebook.path} does not exist yet"
        _log_run(ChapterRun(chosen.id, profile, output, 0.0, False, started, missing), store)
        raise FileNotFoundError(missing)
    error = ""
    try:
        suffix = None
        if chosen.notebook.instance_param:
            value = str(parameters.get(chosen.notebook.instance_param, ""))
            suffix = DISPLAY_NAMES.get(value, value)
        execute_notebook(
            source, output, parameters, cwd=project, progress=progress, title_suffix=suffix
        )
    except Exception as err:  # noqa: BLE001 - any notebook error is reported the same way
        error = f"{type(err).__name__}: {_first_line(err)}"
    seconds = round(time.perf_counter() - clock, 1)
    run = ChapterRun(chosen.id, profile, output, seconds, not error, started, error)
    _log_run(run, store)
    if error:
        raise ChapterFailed(f"chapter {chosen.id} failed ({error}); see {output}")
    return run


def _check_data(parameters: Mapping[str, Any]) -> None:
    """Fail before any compute if the chapter's data set is missing (DataUnavailableError).

    The data layer's message names what is missing and how to get it, in one line.
    """
    dataset = parameters.get("dataset")
    if dataset:
        from sleeputils.data import load_dataset

        load_dataset(str(dataset))


def _first_line(err: BaseException) -> str:
    """The most telling line of an exception (papermill puts the cell's error last)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def run_log_path(profile: str, store: ResultStore) -> Path:
    """``<store root>/runs/<profile>.csv``: the last execution of each chapter."""
    return store.root / "runs" / f"{profile}.csv"


def _log_run(run: ChapterRun, store: ResultStore) -> None:
    """Replace this chapter's row in the run log of its profile."""
    if not store.enabled:
        return
    path = run_log_path(run.profile, store)
    row = pd.DataFrame([{**asdict(run), "output": str(run.output)}])
    if path.is_file():
        old = pd.read_csv(path)
        row = pd.concat([old[old["chapter_id"] != run.chapter_id], row], ignore_index=True)
    provenance.atomic_write_text(path, row.to_csv(index=False))


def load_run_log(profile: str, store: ResultStore | None = None) -> pd.DataFrame:
    """The run log of ``profile`` (empty if no chapter has run)."""
    path = run_log_path(profile, store or ResultStore())
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def run_all(
    profile: str = "quick",
    *,
    root: Path | None = None,
    progress: bool = True,
    registry: Registry | None = None,
    store: ResultStore | None = None,
) -> list[ChapterRun]:
    """Execute every chapter of the book in order (status last), carrying on past failures.

    Missing notebooks are skipped with a failed entry, so a partial book still builds.
    """
    registry = registry or default_registry()
    registry.check_profile(profile)
    runs = []
    for chapter in registry.chapters:
        try:
            runs.append(
                run_chapter(
                    chapter.id,
                    profile,
                    root=root,
                    progress=progress,
                    registry=registry,
                    store=store,
                )
            )
        except (ChapterFailed, FileNotFoundError) as err:
            output = find_project(root) / chapter.output
            runs.append(ChapterRun(chapter.id, profile, output, 0.0, False, "", str(err)))
    return runs


def write_summary(
    profile: str, *, root: Path | None = None, store: ResultStore | None = None
) -> Path:
    """Write ``book/_generated/summary.md``, the table the title page includes."""
    from sleeputils.book.status import summary_markdown

    project = find_project(root)
    path = project / SUMMARY
    provenance.atomic_write_text(path, summary_markdown(profile, project=project, store=store))
    return path


def jupyter_book_command() -> list[str]:
    """How to call ``jupyter-book`` from this environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("jupyter-book")
    if found is None:
        raise FileNotFoundError("jupyter-book is not installed (pip install 'jupyter-book<2')")
    return [found]


def build_html(root: Path | None = None) -> Path:
    """``jupyter-book build <root>``; returns ``_build/html/index.html``."""
    project = find_project(root)
    done = subprocess.run([*jupyter_book_command(), "build", str(project)], check=False)
    if done.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed with exit code {done.returncode}")
    return project / "_build" / "html" / "index.html"


def build_book(
    profile: str = "quick",
    *,
    root: Path | None = None,
    progress: bool = True,
    registry: Registry | None = None,
    store: ResultStore | None = None,
) -> tuple[Path, list[ChapterRun]]:
    """Run every chapter, write the summary and build the HTML book.

    Returns the path of ``index.html`` and the chapter runs (some may have failed; the book is
    built anyway so that the status page shows the failure).
    """
    runs = run_all(profile, root=root, progress=progress, registry=registry, store=store)
    write_summary(profile, root=root, store=store)
    return build_html(root), runs
