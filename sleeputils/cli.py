"""``sleepbook``: run chapters, build the book, check numbers against the reference.

Commands (``sleepbook COMMAND --help`` for details)::

    sleepbook list                                  chapters, parameters, profile values
    sleepbook run CHAPTER [-p KEY VALUE]... [--profile P] [--workers N | --scheduler ADDR]
    sleepbook build [--profile P] [--workers N | --scheduler ADDR] [--jobs J]   chapters, HTML
    sleepbook check [--profile P] [--no-run]        recorded vs reference (vs paper)
    sleepbook freeze --profile P [--chapters A,B]   reference from the recorded numbers
    sleepbook data                                  prepare the data sets
    sleepbook cost [--profile P] [--workers N]      per chapter: units, core-seconds, wall time

``--workers N`` (default: every core) runs a chapter's units on N single-threaded worker
processes of this machine, ``--workers 1`` in the calling process, and ``--scheduler
tcp://HOST:8786`` on an existing Dask cluster; the records are the same either way. ``build``
and ``check`` execute two chapter notebooks at once against those workers (``--jobs``).

Parameter errors are reported in one line with exit code 2 before anything runs; a failed
check or chapter exits with 1. ``run``, ``build`` and ``check`` say how many of the units they
needed were stored already (and name any damaged unit they recomputed); Ctrl-C stops them in one
line saying how many units are stored, with exit code 130, and the same command resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from .chapters.registry import DEFAULT_PROFILE, Book, find_project
from .params import ParamError, show
from .results import session
from .results.store import default_root, require_writable

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Chapter notebooks a build runs at once when its units go to worker processes. Three did not
#: pay on 2 cores (December 7, quick build: about as long as two with more work, and the sleep
#: search, waiting at its generation barriers, took 638 s instead of 171).
CONCURRENT_CHAPTERS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sleepbook", description="Build and check the sleepbook reproducibility report."
    )
    parser.add_argument("--root", default=None, help="book folder (default: nearest _toc.yml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="chapters, their parameters, defaults and profile values")

    run = commands.add_parser("run", help="execute one chapter notebook into book/chapters/")
    run.add_argument("chapter", help="chapter id (incremental-mnist) or notebook (incremental)")
    run.add_argument("-p", dest="params", nargs=2, action="append", default=[],
                     metavar=("KEY", "VALUE"),
                     help="set a chapter parameter (repeatable); see `sleepbook list`")
    for name, text in (("run", None), ("build", "run every chapter, then build the HTML book"),
                       ("check", "compare recorded numbers with the reference")):
        sub = run if text is None else commands.add_parser(name, help=text)
        sub.add_argument("--profile", default=DEFAULT_PROFILE,
                         help=f"smoke, quick or paper (default {DEFAULT_PROFILE})")
        sub.add_argument("--no-progress", action="store_true", help="no progress bars")
        if name == "check":
            sub.add_argument("--no-run", action="store_true",
                             help="compare what is recorded, run nothing")
        if name != "run":
            sub.add_argument("--jobs", type=int, default=None,
                             help="chapter notebooks executed at once, sharing the workers "
                             f"(default: {CONCURRENT_CHAPTERS} with worker processes, 1 with "
                             "--workers 1)")
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                           help="worker processes on this machine, one thread each; 1 = in "
                           "this process (default: the number of cores)")
        where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                           help="send units to this Dask scheduler (tcp://host:8786)")

    freeze = commands.add_parser("freeze", help="write results/reference/<profile>*.csv")
    freeze.add_argument("--profile", required=True, help="profile to freeze")
    freeze.add_argument("--chapters", default=None, metavar="A,B",
                        help="replace only these chapters' reference (default: every chapter)")
    commands.add_parser("data", help="prepare and verify the data sets")
    cost = commands.add_parser("cost", help="what each chapter costs, from its recorded trials")
    cost.add_argument("--profile", default=DEFAULT_PROFILE,
                      help=f"smoke, quick or paper (default {DEFAULT_PROFILE})")
    cost.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                      help="workers the wall time is estimated for (default: the cores)")
    return parser


def cmd_list(book: Book) -> int:
    """Print the profiles, then every notebook, its chapters and its declared parameters."""
    profiles = book.profiles.names
    for name in profiles:
        print(f"profile {name}: {book.profiles.help(name)}")
    for notebook in book.notebooks.values():
        ids = [c.id for c in book.chapters if c.notebook is notebook]
        print(f"\n{notebook.name}  ({notebook.source}) -> chapters: {', '.join(ids) or '-'}")
        if notebook.config is None:
            print("  parameters: none (only --profile)")
            continue
        print(f"  config: {notebook.config.__module__}.{notebook.config.__name__}")
        rows = [["parameter", "default", *profiles, "allowed", "help"]]
        for name, default, allowed, help_text in notebook.config.describe():
            per_profile = [_profile_value(book, profile, notebook, name) for profile in profiles]
            rows.append([name, default, *per_profile, allowed, help_text])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            print("  " + "  ".join([*cells, row[-1]]))
    print("\n'·' = the declared default (the original protocol). Set values with -p KEY VALUE.")
    return EXIT_OK


def _profile_value(book: Book, profile: str, notebook, name: str) -> str:
    """What ``profile`` sets ``name`` to in the notebook's chapters: one value when they agree
    ("·" for the declared default), else each chapter's (``icarl-fashion: 1``)."""
    chapters = [c for c in book.chapters if c.notebook is notebook]
    values = {c.id: book.profiles.overrides(profile, c).get(name, DEFAULT) for c in chapters}
    shown = {k: "·" if v is DEFAULT else show(v) for k, v in values.items()}
    if len(set(shown.values())) <= 1:
        return next(iter(shown.values()), "·")
    return ", ".join(f"{k}: {v}" for k, v in shown.items())


#: An override a profile does not set.
DEFAULT = object()


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[None]:
    """Where the chapters' units run while the block executes (see the module docstring)."""
    from .results.executor import local_cluster, use_scheduler

    if args.scheduler is not None:
        with use_scheduler(args.scheduler):
            yield
        return
    if args.workers < 1:
        raise ParamError(f"--workers must be a whole number of at least 1, got {args.workers}")
    with local_cluster(args.workers):
        yield


def _jobs(args: argparse.Namespace) -> int:
    """Chapters at once: ``--jobs``, else two whenever the units run on worker processes (one
    notebook's kernel start and figures then overlap the other's units), one in-process."""
    if args.jobs is not None:
        if args.jobs < 1:
            raise ParamError(f"--jobs must be a whole number of at least 1, got {args.jobs}")
        return args.jobs
    return 1 if args.scheduler is None and args.workers == 1 else CONCURRENT_CHAPTERS


def cmd_run(args: argparse.Namespace, book: Book) -> int:
    """Resolve (every check happens here, once), then execute one chapter."""
    from .chapters import runner

    run = book.resolve(args.chapter, args.profile, book.parse(args.chapter, args.params))
    with _executor(args):
        done = runner.run_chapter(run, book, progress=not args.no_progress)
    _say_units(args)
    print(f"{done.chapter_id}: wrote {done.output} ({done.seconds:.1f} s, recorded as "
          f"{run.label})")
    if run.differences:
        print(f"custom run: differs from profile {run.profile} in {run.differences_text()}")
    return EXIT_OK


def _say_units(args: argparse.Namespace) -> None:
    """Name every damaged unit found (recomputed), then how many units were reused."""
    done = session.summary(args.events)
    for line in done.damaged_lines():
        print(line, file=sys.stderr)
    print(done.reuse_line())


def _report_runs(runs: list) -> bool:
    """Print failed chapter runs; True if all succeeded."""
    for run in runs:
        if not run.ok:
            print(f"chapter {run.chapter_id} FAILED: {run.error}", file=sys.stderr)
    return all(run.ok for run in runs)


def _say_times(profile: str) -> None:
    """Print where the chapters' time went (this machine's run log), if anything ran."""
    from .results.runlog import load_run_log, slowest_line

    line = slowest_line(load_run_log(profile))
    if line:
        print(line)


def cmd_build(args: argparse.Namespace, book: Book) -> int:
    """Run every chapter, write the generated pages, build the HTML strictly."""
    from .chapters import runner

    book.profiles.check(args.profile)
    jobs = _jobs(args)
    with _executor(args):
        index, runs = runner.build_book(book, args.profile, progress=not args.no_progress,
                                        jobs=jobs)
    _say_units(args)
    all_ok = _report_runs(runs)
    _say_times(args.profile)
    print(f"book: {index}")
    return EXIT_OK if all_ok else EXIT_FAIL


def cmd_check(args: argparse.Namespace, book: Book) -> int:
    """Run what is not computed yet, then compare recorded numbers with the reference."""
    from .chapters import runner
    from .results.check import NothingToCheck, check_profile, require_reference

    book.profiles.check(args.profile)
    all_ok, failed = True, set()
    try:
        require_reference(args.profile, book.project)  # before anything runs
        if not args.no_run:
            jobs = _jobs(args)
            with _executor(args):
                runs = runner.run_all(book, args.profile, progress=not args.no_progress,
                                      jobs=jobs)
            _say_units(args)
            all_ok = _report_runs(runs)
            failed = {run.chapter_id for run in runs if not run.ok}  # old numbers don't count
        result = check_profile(args.profile, project=book.project, skip=failed)
    except NothingToCheck as err:
        print(f"sleepbook check: {err}", file=sys.stderr)
        return EXIT_FAIL
    print(result.report())
    _say_times(args.profile)
    return EXIT_FAIL if result.failed or not all_ok else EXIT_OK


def cmd_freeze(args: argparse.Namespace, book: Book) -> int:
    """Write the reference of a profile from its recorded numbers."""
    from .results.reference import freeze

    book.profiles.check(args.profile)
    try:
        chapters = None if args.chapters is None else args.chapters.split(",")
        unknown = sorted(set(chapters or ()) - {c.id for c in book.chapters})
        if unknown:
            raise ParamError(f"unknown chapter(s) {', '.join(unknown)}; the chapters are "
                             f"{', '.join(c.id for c in book.chapters)}")
        path, ref = freeze(args.profile, project=book.project, chapters=chapters)
    except LookupError as err:
        print(f"sleepbook freeze: {err}", file=sys.stderr)
        return EXIT_FAIL
    commits = ", ".join(sorted(set(map(str, ref["git_commit"]))))
    print(f"wrote {path} and its trials: {len(ref)} numbers (recorded at {commits})")
    return EXIT_OK


def cmd_cost(args: argparse.Namespace, book: Book) -> int:
    """Print each chapter's units, core-seconds, slowest unit and wall time on N workers."""
    from .results.cost import cost_table, profile_costs
    from .results.runlog import load_run_log

    book.profiles.check(args.profile)
    if args.workers < 1:
        raise ParamError(f"--workers must be a whole number of at least 1, got {args.workers}")
    chapters = [c.id for c in book.chapters if c.notebook.config is not None]
    costs = profile_costs(args.profile, args.workers, chapters=chapters, project=book.project)
    log = load_run_log(args.profile)
    last_run = None if log.empty else dict(zip(log["chapter_id"], log["seconds"], strict=True))
    print(f"profile {args.profile}, {args.workers} worker(s), from the recorded trials' unit "
          "times (units without a recorded number, e.g. validation searches, not counted)"
          + ("; last run: this machine's run log" if last_run is not None else "") + ":")
    print(cost_table(costs, args.workers, last_run).to_string(index=False))
    return EXIT_OK


def cmd_data() -> int:
    """Prepare the data sets, printing where each came from."""
    from .data import prepare_all

    for line in prepare_all() or []:
        print(line)
    return EXIT_OK


@contextlib.contextmanager
def _ctrl_c_says_where(args: argparse.Namespace) -> Iterator[None]:
    """Within the block, Ctrl-C stops the notebooks' kernels at once (they run in sessions of
    their own, which the terminal's interrupt does not reach, and would go on storing units),
    says in one line how many of the units asked for are stored, and raises KeyboardInterrupt
    to close the workers; a second Ctrl-C does not cut that short."""
    from .chapters.runner import stop_kernels

    def interrupted(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_kernels()
        after_bar = "" if args.no_progress else "\n"  # a progress bar ends unfinished
        print(after_bar + session.summary(args.events).interrupted_line(), file=sys.stderr,
              flush=True)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sleepbook`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    from .chapters.runner import ChapterFailed
    from .data import DataUnavailableError

    try:
        if args.command == "data":
            return cmd_data()
        book = Book(find_project(args.root))
        if args.command == "list":
            return cmd_list(book)
        if args.command == "freeze":
            return cmd_freeze(args, book)
        if args.command == "cost":
            return cmd_cost(args, book)
        require_writable(default_root(book.project))  # they store units: fail before, not after
        handler = {"run": cmd_run, "build": cmd_build, "check": cmd_check}[args.command]
        with session.session() as args.events, _ctrl_c_says_where(args):
            try:
                return handler(args, book)
            except KeyboardInterrupt:  # said where it stopped; the cluster is closed by now
                return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"sleepbook {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ParamError as err:
        print(f"sleepbook {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (ChapterFailed, FileNotFoundError, RuntimeError, DataUnavailableError) as err:
        print(f"sleepbook {args.command}: {err}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
