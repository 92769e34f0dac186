"""How to re-run a chapter page: the exact ``sleepbook run`` command, its source, its notebook.

A reader who lands on one page sees, in a box at its top, the command that reproduces what the
page executed (the chapter, the profile and every parameter that differs from the profile's),
a link to the MyST source and the executed notebook to download. The command is built from the
resolved run, never typed by hand, and the command line reads it back as the same run (a test
parses it with the CLI's own parser).
"""

from __future__ import annotations

import shlex
from typing import Any

from ..params import show
from .registry import Resolved

#: How the command is called from a clone after ``make setup``.
SLEEPBOOK = ".venv/bin/sleepbook"


def command_value(value: Any) -> str:
    """``value`` as ``-p KEY VALUE`` reads it back exactly (floats in their shortest exact form,
    ``0.025``, ``1e-05``; the rest as ``sleepbook list`` shows it)."""
    return show(value, exact=True)


def rerun_args(run: Resolved) -> list[str]:
    """The command's words: chapter, profile, then ``-p KEY VALUE`` per parameter the run sets."""
    args = [SLEEPBOOK, "run", run.chapter_id, "--profile", run.profile]
    for name, (ours, _) in run.differences.items():
        args += ["-p", name, command_value(ours)]
    return args


def rerun_command(run: Resolved) -> str:
    """The command as one shell line (quoted where a shell needs it)."""
    return " ".join(shlex.quote(arg) for arg in rerun_args(run))


def rerun_box(run: Resolved) -> str:
    """MyST text of the box: the command, where its output goes, the source and the executed
    notebook as downloads (the book build copies both; a missing file fails the strict build)."""
    chapter = run.chapter
    notebook = chapter.output.rsplit("/", 1)[-1]
    return "\n".join([
        ":::{admonition} Re-run this page",
        ":class: tip rerun",
        "",
        "```bash",
        rerun_command(run),
        "```",
        "",
        f"From a clone of the book after `make setup data`. It executes "
        f"{{download}}`{chapter.notebook.source} </{chapter.notebook.source}>` (the MyST "
        f"source) into `{chapter.output}`; this page's executed notebook: "
        f"{{download}}`{notebook} </{chapter.output}>`.",
        ":::",
    ])
