"""Execute chapter notebooks with papermill and build the book.

A chapter run takes a :class:`~.registry.Resolved` run (everything already checked), reads
``notebooks/<name>.md`` with jupytext, executes it with papermill (kernel ``python3``, cwd = the
project root) into ``book/chapters/<chapter id>.ipynb``, and logs how it went for the status page.
The protocols inside reuse cached result units, so an unchanged chapter costs seconds.

:func:`build_book` runs every chapter of ``_toc.yml``, writes the pages the build includes
(``book/_generated/``), then calls ``jupyter-book build`` strictly (``-W -n --keep-going``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..report import scoreboard
from ..report.presets import presets_markdown
from ..report.status import joined, summary_markdown
from ..results import provenance
from ..results.cost import expected_seconds
from ..results.record import PAPER_PROFILE
from ..results.runlog import ChapterRun, log_run
from ..results.store import ResultStore, default_root
from .htmlcheck import check_html
from .registry import Book, Resolved

KERNEL = "python3"
GENERATED = Path("book/_generated")
#: Tags of the cells papermill injects; they are plumbing, so the page leaves them out.
INJECTED_TAG = "injected-parameters"
STRICT = ("-W", "-n", "--keep-going")
#: The kernel's matplotlib backend: figures become cell outputs even when the caller runs with
#: a non-interactive backend (CI exports MPLBACKEND=Agg, which would silently drop them).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: What a chapter whose data is absent renders after its own introduction.
ABSENT_NOTEBOOK = Path("notebooks/absent.md")


class ChapterFailed(RuntimeError):
    """A chapter notebook raised; the message is one line and names the executed notebook."""


#: Kernels of the notebooks running now, so that Ctrl-C can stop them at once (they run in a
#: session of their own, so the terminal's interrupt does not reach them).
_KERNELS: weakref.WeakSet = weakref.WeakSet()
#: Set on Ctrl-C: a notebook that stops because its kernel was stopped is not a failed chapter.
_INTERRUPTED = threading.Event()


@functools.cache
def kernel_manager() -> type:
    """The class that starts, reaches and stops a chapter's kernel (built on first use, so that
    importing this module does not import jupyter_client).

    It talks to the kernel over IPC sockets in a private temporary folder, not over TCP: local
    TCP ports are open to every user of the machine, and ipykernel warns about it on every
    start. It shuts the kernel down without the interrupt jupyter_client sends first, which an
    idle ipykernel logs as ``KeyboardInterrupt caught in kernel`` (a chapter's cells have all
    run by then). It registers each kernel it starts, for :func:`stop_kernels`.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class ChapterKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def _ip_default(self) -> str:
            if self.transport != "ipc":
                return super()._ip_default()
            self._socket_dir = tempfile.mkdtemp(prefix="sleepbook-kernel-")  # mode 0700
            return os.path.join(self._socket_dir, "socket")

        async def start_kernel(self, **kw: Any) -> None:
            await super().start_kernel(**kw)
            _KERNELS.add(self)

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            _KERNELS.discard(self)
            if not restart and getattr(self, "_socket_dir", None):
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    return ChapterKernelManager


def stop_kernels() -> None:
    """Kill the kernels of the notebooks running now (Ctrl-C): each with everything it started,
    at once; the units they stored are kept, the one each was computing is dropped."""
    _INTERRUPTED.set()
    # the notebook clients notice their kernels died (papermill's logger says so) and their
    # pending tasks end long after anyone awaits them (asyncio logs each): all known already
    for name in ("papermill", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for manager in list(_KERNELS):
        process = getattr(manager.provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: its own group
        with contextlib.suppress(OSError):
            shutil.rmtree(getattr(manager, "_socket_dir", ""), ignore_errors=True)


def notebook_parameters(run: Resolved) -> dict[str, Any]:
    """What papermill injects: the chapter, the profile and the overrides (as plain JSON)."""
    params = {}
    if run.config is not None:
        params = {name: list(ours) if isinstance(ours, tuple) else ours
                  for name, (ours, _) in run.differences.items()}
    return {"chapter": run.chapter_id, "profile": run.profile, "params": params}


def execute_notebook(
    source: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    cwd: Path,
    progress: bool = True,
    title_suffix: str | None = None,
    intro_from: Path | None = None,
) -> None:
    """Run the MyST notebook ``source`` with papermill into ``output``.

    ``intro_from`` puts that notebook's first Markdown cell (title and introduction) before
    ``source``'s cells. The output is saved after every cell, so a notebook that fails is kept,
    error and all.
    """
    import jupytext
    import nbformat
    import papermill

    notebook = jupytext.read(source)
    if intro_from is not None:
        intro = next(c for c in jupytext.read(intro_from).cells if c["cell_type"] == "markdown")
        notebook.cells.insert(0, intro)
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3",
                                       "language": "python"}
    if title_suffix:
        _suffix_title(notebook, title_suffix)
    output.parent.mkdir(parents=True, exist_ok=True)
    if progress:  # the protocols' own tqdm bars (trials done, time left) stream to the terminal
        print(f"executing {source.name} -> {output}", file=sys.stderr, flush=True)
    try:
        with inline_backend():
            papermill.execute_notebook(
                notebook, str(output), parameters=dict(parameters), kernel_name=KERNEL,
                language="python", progress_bar=False,
                # the kernel starts in ``cwd``; papermill's own ``cwd`` would chdir this process,
                # which two chapters running in threads undo in the wrong order
                resources={"metadata": {"path": str(cwd)}},
                stderr_file=_KernelStderr() if progress else None,
                request_save_on_cell_execute=True,
                kernel_manager_class=kernel_manager(),
            )
    finally:
        if output.is_file():
            executed = nbformat.read(output, as_version=4)
            for cell in executed.cells:
                tags = cell.get("metadata", {}).get("tags", [])
                if INJECTED_TAG in tags and "remove-cell" not in tags:
                    cell["metadata"]["tags"] = [*tags, "remove-cell"]
            provenance.atomic_write_text(output, nbformat.writes(executed))


class _KernelStderr:
    """Where a notebook's stderr (the protocols' progress bars) streams to: this process's
    stderr, until Ctrl-C (what the stopped kernel had sent before is not worth printing after
    the line that says where the command stopped)."""

    def write(self, text: str) -> int:
        return 0 if _INTERRUPTED.is_set() else sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _InlineBackend:
    """Kernels started while any notebook runs inherit the inline matplotlib backend; the
    caller's own setting comes back when the last of the concurrent notebooks ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.callers: str | None = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.running == 0:
                self.callers = os.environ.get("MPLBACKEND")
                os.environ["MPLBACKEND"] = INLINE_BACKEND
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if self.running == 0 and self.callers is None:
                    os.environ.pop("MPLBACKEND", None)
                elif self.running == 0:
                    os.environ["MPLBACKEND"] = self.callers


inline_backend = _InlineBackend()


def _suffix_title(notebook: Any, suffix: str) -> None:
    """Append ``suffix`` to the first level-1 heading of the first markdown cell."""
    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown":
            lines = cell["source"].split("\n")
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    lines[i] = f"{line}: {suffix}"
                    cell["source"] = "\n".join(lines)
                    return
            return


def run_chapter(
    run: Resolved,
    book: Book,
    *,
    progress: bool = True,
    store: ResultStore | None = None,
    render_missing: bool = False,
) -> ChapterRun:
    """Execute one resolved chapter run; log it; ``ChapterFailed`` if the notebook raised.

    A missing data set fails before any compute (one line from the data layer), unless
    ``render_missing``: the book build then renders the chapter's introduction followed by
    ``notebooks/absent.md``, which says what is missing and shows no numbers of ours.
    """
    project = book.project
    store = store or ResultStore(default_root(project))
    chapter = run.chapter
    source, output = project / chapter.notebook.source, project / chapter.output
    parameters, intro_only = notebook_parameters(run), None
    if run.config is not None and hasattr(run.config, "dataset"):
        from ..data import DataUnavailableError, load_dataset

        needed = getattr(run.config, "data_needed", lambda: (run.config.dataset,))()
        try:
            ds, *_ = [load_dataset(name) for name in needed]
        except DataUnavailableError as missing:
            if not render_missing:
                raise  # says what is missing and how to get it
            intro_only, parameters = source, {**parameters, "missing": str(missing)}
            source = project / ABSENT_NOTEBOOK
        else:
            if hasattr(run.config, "check_data"):
                run.config.check_data(ds)  # ParamError: settings that do not fit the data
    started, clock = provenance.utc_now(), time.perf_counter()
    error = ""
    if threading.current_thread() is threading.main_thread():
        _INTERRUPTED.clear()
    try:
        if not source.is_file():
            raise FileNotFoundError(f"notebook {chapter.notebook.source} does not exist")
        if _INTERRUPTED.is_set():  # Ctrl-C while this chapter was loading its data
            raise ChapterFailed(f"chapter {chapter.id} interrupted")
        execute_notebook(source, output, parameters, cwd=project, progress=progress,
                         title_suffix=chapter.title_suffix, intro_from=intro_only)
    except KeyboardInterrupt:
        stop_kernels()  # the kernel is in a session of its own: Ctrl-C did not reach it
        raise
    except Exception as err:  # noqa: BLE001 - any notebook error is reported the same way
        if _INTERRUPTED.is_set():  # its kernel was stopped: not a failure of the chapter
            raise ChapterFailed(f"chapter {chapter.id} interrupted") from None
        error = f"{type(err).__name__}: {_first_line(err)}"
    seconds = round(time.perf_counter() - clock, 1)
    result = ChapterRun(chapter.id, run.label, output, seconds, not error, started, error)
    log_run(result, store)
    if error:
        raise ChapterFailed(f"chapter {chapter.id} failed ({error}); the executed notebook, "
                            f"with the error, is {output}")
    return result


def _first_line(err: BaseException) -> str:
    """The most telling line of an exception (papermill puts the cell's error last)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def run_all(
    book: Book, profile: str, *, progress: bool = True, store: ResultStore | None = None,
    jobs: int = 1,
) -> list[ChapterRun]:
    """Execute every chapter of the book, carrying on past failures; returns them in book order.

    ``jobs`` notebooks run at once, the longest expected first (:func:`.cost.expected_seconds`;
    book order among equals), so that no long chapter is left running alone at the end; a
    summary chapter (the status page) runs after all the others, since it reads what they
    recorded. Their units share the executor, so one notebook's kernel start, data loading,
    analysis and figures overlap the other's units instead of leaving the workers idle. Results
    depend neither on ``jobs`` nor on the order: every unit seeds itself.
    """
    def one(chapter) -> ChapterRun:
        try:
            return run_chapter(book.resolve(chapter.id, profile), book, progress=progress,
                               store=store, render_missing=True)
        except ChapterFailed as err:
            output = book.project / chapter.output
            return ChapterRun(chapter.id, profile, output, 0.0, False, "", str(err))

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    _INTERRUPTED.clear()
    guess = expected_seconds(profile, project=book.project, store=store)
    first = sorted((c for c in book.chapters if not c.notebook.summary),
                   key=lambda c: -guess.get(c.id, 0.0))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            done = {c.id: run for c, run in zip(first, pool.map(one, first), strict=True)}
        except KeyboardInterrupt:  # raised in this thread; the notebooks run in the pool's
            stop_kernels()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    done.update((c.id, one(c)) for c in book.chapters if c.notebook.summary)  # after the rest
    return [done[c.id] for c in book.chapters]


def write_generated(book: Book, profile: str, store: ResultStore | None = None) -> None:
    """Write the pages the book includes: the title page's summary and the preset table."""
    folder = book.project / GENERATED
    provenance.atomic_write_text(folder / "summary.md",
                                 summary_markdown(profile, project=book.project, store=store))
    provenance.atomic_write_text(folder / "presets.md", presets_markdown())
    paper_numbers = joined(PAPER_PROFILE, project=book.project, store=store)
    scoreboard.save_figure(paper_numbers[paper_numbers["source"].notna()],
                           folder / "scoreboard.png")


def jupyter_book_command() -> list[str]:
    """How to call ``jupyter-book`` from this environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("jupyter-book")
    if found is None:
        raise FileNotFoundError("jupyter-book is not installed (pip install 'jupyter-book<2')")
    return [found]


def build_html(project: Path) -> Path:
    """``jupyter-book build -W -n --keep-going``: a broken reference or citation fails."""
    done = subprocess.run([*jupyter_book_command(), "build", *STRICT, str(project)], check=False)
    if done.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit code {done.returncode}): "
                           "its warnings are printed above")
    return project / "_build" / "html" / "index.html"


def build_book(
    book: Book, profile: str, *, progress: bool = True, store: ResultStore | None = None,
    jobs: int = 1,
) -> tuple[Path, list[ChapterRun]]:
    """Run every chapter (``jobs`` at once), write the generated pages and build the HTML book.

    Returns ``index.html`` and the chapter runs (some may have failed; the book is built anyway
    so that the status page shows the failure). ``RuntimeError`` if a built page loads anything
    from another host or a chapter that ran lacks its re-run command
    (:func:`.htmlcheck.check_html`).
    """
    runs = run_all(book, profile, progress=progress, store=store, jobs=jobs)
    write_generated(book, profile, store)
    index = build_html(book.project)
    problems = check_html(index.parent, [run.chapter_id for run in runs if run.ok])
    if problems:
        raise RuntimeError("the built book is not what a reader needs:\n" + "\n".join(problems))
    return index, runs
