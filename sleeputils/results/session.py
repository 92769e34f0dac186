"""What the units of one ``sleepbook`` command did, for the lines it prints at the end.

The units of a chapter are read and computed inside its notebook's kernel, not in the process
that runs ``sleepbook``. So the command points ``$SLEEPBOOK_SESSION`` at a fresh file
(:func:`session`), every kernel it starts inherits the variable, and the store and the executor
append one JSON line per event to that file (:func:`note`): the units a chapter asked for and
which of them were already stored, each unit stored since, each damaged unit found. The command
then reads the file back (:func:`summary`) to say how many units it reused, which damaged units
it recomputed, and, when interrupted, how many of the units it had asked for are stored.

Outside a command (a protocol called from Python) nothing is noted and :func:`note` says so, so
that the caller can report in its own way.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Environment variable naming the file the current command collects its events in.
ENV_SESSION = "SLEEPBOOK_SESSION"

#: Event kinds: units asked for (with those already stored), one unit stored, one damaged.
ASKED, STORED, DAMAGED = "asked", "stored", "damaged"


def note(kind: str, **fields: object) -> bool:
    """Append one event to the current command's file; False outside a command (nothing noted).

    One ``write`` of one line in append mode, so that two kernels noting at once (two chapters
    built side by side) never interleave their lines.
    """
    path = os.environ.get(ENV_SESSION)
    if not path:
        return False
    line = json.dumps({"event": kind, **fields}) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
    return True


def asked(keys: Iterable[str], stored: Iterable[str]) -> None:
    """A chapter needs the units ``keys``; ``stored`` of them were read back from the store."""
    note(ASKED, keys=list(keys), stored=list(stored))


@dataclass
class Summary:
    """The units of one command: asked for, reused (stored before it began), stored since, and
    the damaged units it found (path and reason), each unit counted once however many chapters
    asked for it."""

    asked: set[str] = field(default_factory=set)
    reused: set[str] = field(default_factory=set)
    computed: set[str] = field(default_factory=set)
    damaged: dict[str, str] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        """Units asked for that are in the store now."""
        return len(self.asked & (self.reused | self.computed))

    def reuse_line(self) -> str:
        """``reused 6 of 36 units stored earlier; computed 30``."""
        if not self.asked:
            return "no result units needed"
        reused = len(self.reused - self.computed)
        return (f"reused {reused} of {len(self.asked)} units stored earlier; computed "
                f"{len(self.computed)}")

    def interrupted_line(self) -> str:
        """``interrupted: 11 of 36 units stored; run the same command to resume``."""
        if not self.asked:
            return "interrupted before any unit was asked for; run the same command to start"
        return (f"interrupted: {self.stored} of {len(self.asked)} units stored; run the same "
                "command to resume")

    def damaged_lines(self) -> list[str]:
        """One line per damaged unit found (it was recomputed, or skipped when only read)."""
        return [f"damaged result unit {path} ({reason}): recomputed"
                for path, reason in sorted(self.damaged.items())]


def summary(path: Path) -> Summary:
    """Read a command's events back (a line cut by an interruption is skipped)."""
    result = Summary()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return result
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == ASKED:
            result.asked.update(event["keys"])
            result.reused.update(event["stored"])
        elif event.get("event") == STORED:
            result.computed.add(event["key"])
        elif event.get("event") == DAMAGED:
            result.damaged[event["path"]] = event["reason"]
    return result


@contextlib.contextmanager
def session() -> Iterator[Path]:
    """Within the block, units note their events in a fresh file (its path is yielded); the
    variable and the file are gone afterwards."""
    before = os.environ.get(ENV_SESSION)
    handle, name = tempfile.mkstemp(prefix="sleepbook-session-", suffix=".jsonl")
    os.close(handle)
    os.environ[ENV_SESSION] = name
    try:
        yield Path(name)
    finally:
        if before is None:
            os.environ.pop(ENV_SESSION, None)
        else:
            os.environ[ENV_SESSION] = before
        Path(name).unlink(missing_ok=True)
