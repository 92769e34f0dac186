"""``sleepbook``: run chapters, build the book, check numbers against the reference.

Commands (``sleepbook COMMAND --help`` for details)::

    sleepbook list                                  chapters, parameters, profile values
    sleepbook run CHAPTER [-p KEY VALUE]... [--profile P]
    sleepbook build [--profile P]                   every chapter, summary, HTML
    sleepbook check [--profile P] [--no-run]        recorded vs reference (vs paper)
    sleepbook freeze --profile P                    reference from the recorded numbers
    sleepbook data                                  prepare the data sets

Parameter errors are reported in one line with exit code 2 before anything runs; a failed
check or chapter exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sleeputils.book.chapters import DEFAULT_PROFILE, ParamError, Registry, default_registry

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sleepbook", description="Build and check the sleepbook reproducibility report."
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="book folder (default: nearest _toc.yml above cwd)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="chapters, their parameters, defaults and profile values")

    run = commands.add_parser("run", help="execute one chapter notebook into book/chapters/")
    run.add_argument("chapter", help="chapter id (incremental-mnist) or notebook (incremental)")
    run.add_argument(
        "-p",
        dest="params",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="set a chapter parameter (repeatable); see `sleepbook list`",
    )
    _profile_option(run)
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    build = commands.add_parser("build", help="run every chapter, then build the HTML book")
    _profile_option(build)
    build.add_argument("--no-progress", action="store_true", help="no progress bar")

    check = commands.add_parser("check", help="compare recorded numbers with the reference")
    _profile_option(check)
    check.add_argument(
        "--no-run", action="store_true", help="compare what is recorded, run nothing"
    )
    check.add_argument("--no-progress", action="store_true", help="no progress bar")

    freeze = commands.add_parser("freeze", help="write results/reference/<profile>.csv")
    freeze.add_argument("--profile", required=True, help="profile to freeze")

    commands.add_parser("data", help="download and prepare the data sets")
    return parser


def _profile_option(parser: argparse.ArgumentParser) -> None:
    text = f"smoke, quick or paper (default {DEFAULT_PROFILE})"
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=text)


def parse_overrides(
    chapter: str, pairs: Sequence[Sequence[str]], registry: Registry
) -> dict[str, Any]:
    """Typed parameter values from ``-p KEY VALUE`` pairs (``ParamError`` on the first bad one)."""
    notebook = registry.notebooks.get(chapter) or registry.chapter(chapter).notebook
    return {key: notebook.param(key).parse(value) for key, value in pairs}


def _fmt_value(value: Any) -> str:
    if (isinstance(value, list) and len(value) > 4 and all(isinstance(v, int) for v in value)
            and value == list(range(value[0], value[-1] + 1))):
        return f"{value[0]}..{value[-1]}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def cmd_list(registry: Registry) -> int:
    """Print every notebook, the chapters rendered from it and its parameters."""
    profiles = list(registry.profiles)
    for name, spec in registry.profiles.items():
        print(f"profile {name}: {spec.get('help', '')}")
    for notebook in registry.notebooks.values():
        ids = [c.id for c in registry.chapters if c.notebook is notebook]
        print(f"\n{notebook.name}  ({notebook.path}) -> chapters: {', '.join(ids) or '-'}")
        if notebook.protocol:
            print(f"  protocol: {notebook.protocol}")
        if not notebook.params:
            print("  parameters: none (only --profile)")
            continue
        header = ["parameter", "default", *profiles, "allowed", "help"]
        rows = [header]
        for param in notebook.params:
            per_profile = []
            for profile in profiles:
                entry = (registry.profiles[profile].get("chapters") or {}).get(notebook.name) or {}
                per_profile.append(_fmt_value(entry[param.name]) if param.name in entry else "·")
            rows.append(
                [param.name, _fmt_value(param.default), *per_profile, param.allowed(), param.help]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            print("  " + "  ".join([*cells, row[-1]]))
    print("\n'·' = the declared default (the paper's protocol). Set values with -p KEY VALUE.")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, registry: Registry) -> int:
    """Validate, then execute one chapter."""
    from sleeputils.book import runner

    registry.check_profile(args.profile)
    overrides = parse_overrides(args.chapter, args.params, registry)
    run = runner.run_chapter(
        args.chapter,
        args.profile,
        overrides,
        root=args.root,
        progress=not args.no_progress,
        registry=registry,
    )
    print(f"{run.chapter_id}: wrote {run.output} ({run.seconds:.1f} s, profile {run.profile})")
    return EXIT_OK


def _report_runs(runs: list[Any]) -> bool:
    """Print failed chapter runs; True if all succeeded."""
    failures = [run for run in runs if not run.ok]
    for run in failures:
        print(f"chapter {run.chapter_id} FAILED: {run.error}", file=sys.stderr)
    return not failures


def cmd_build(args: argparse.Namespace, registry: Registry) -> int:
    """Run every chapter, write the summary, build HTML."""
    from sleeputils.book import runner

    registry.check_profile(args.profile)
    index, runs = runner.build_book(
        args.profile, root=args.root, progress=not args.no_progress, registry=registry
    )
    all_ok = _report_runs(runs)
    print(f"book: {index}")
    return EXIT_OK if all_ok else EXIT_FAIL


def cmd_check(args: argparse.Namespace, registry: Registry) -> int:
    """Run what is not computed yet, then compare recorded numbers with the reference."""
    from sleeputils.book import check, runner
    from sleeputils.results.record import load_records
    from sleeputils.results.reference import load_reference

    registry.check_profile(args.profile)
    project = runner.find_project(args.root)
    all_ok, stale = True, set()
    if not args.no_run:
        runs = runner.run_all(
            args.profile, root=project, progress=not args.no_progress, registry=registry
        )
        all_ok = _report_runs(runs)
        stale = {run.chapter_id for run in runs if not run.ok}  # their old numbers do not count
    recorded = load_records(args.profile, project=project)
    recorded = recorded[~recorded["chapter_id"].isin(stale)]
    reference = load_reference(args.profile, project)
    table = check.compare(recorded, reference, check.load_paper_values())
    result = check.CheckResult(table, reference is not None, args.profile)
    print(result.report())
    return EXIT_FAIL if result.failed or not all_ok else EXIT_OK


def cmd_freeze(args: argparse.Namespace, registry: Registry) -> int:
    """Write the reference of a profile from its recorded numbers."""
    from sleeputils.book import runner
    from sleeputils.results.reference import freeze

    registry.check_profile(args.profile)
    project = runner.find_project(args.root)
    try:
        path, ref = freeze(args.profile, project=project)
    except LookupError as err:
        print(f"sleepbook freeze: {err}", file=sys.stderr)
        return EXIT_FAIL
    commits = ", ".join(sorted(set(map(str, ref["git_commit"]))))
    print(f"wrote {path}: {len(ref)} numbers (recorded at {commits})")
    return EXIT_OK


def cmd_data() -> int:
    """Prepare the data sets (``sleeputils.data.prepare_all``), printing what it reports."""
    try:
        from sleeputils.data import prepare_all
    except ImportError as err:
        print(f"sleepbook data: not available yet ({err})", file=sys.stderr)
        return EXIT_FAIL
    lines = prepare_all()
    for line in lines or []:
        print(line)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sleepbook`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    from sleeputils.book.runner import ChapterFailed
    from sleeputils.data import DataUnavailableError

    try:
        registry = default_registry()
        if args.command == "list":
            return cmd_list(registry)
        if args.command == "data":
            return cmd_data()
        handler = {"run": cmd_run, "build": cmd_build, "check": cmd_check, "freeze": cmd_freeze}
        return handler[args.command](args, registry)
    except ParamError as err:
        print(f"sleepbook {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (ChapterFailed, FileNotFoundError, RuntimeError, DataUnavailableError) as err:
        print(f"sleepbook {args.command}: {err}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
