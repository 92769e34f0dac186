"""A unit's settings, typed: each protocol declares a frozen dataclass of what one unit reads
(a subclass of :class:`Unit`), and its trial function takes that object.

:meth:`Unit.key` is the plain mapping the store identifies the unit by (:mod:`.store`): its
fields by name, so what a trial reads is what its stored key holds. Two markers shape the key
where a protocol's units differ: a field declared with :func:`unless_none` is left out while it
is ``None`` (a setting only some units have), and one declared with :func:`merged` holds a unit
whose key is part of this one (a method's own settings).
"""

from __future__ import annotations

import dataclasses
from typing import Any

OMIT_NONE = "omit_none"
MERGE = "merge"


def unless_none(default: Any = None) -> Any:
    """A field left out of the unit's key while it is ``None``."""
    return dataclasses.field(default=default, metadata={OMIT_NONE: True})


def merged() -> Any:
    """A field holding a :class:`Unit` whose key is merged into this unit's key."""
    return dataclasses.field(metadata={MERGE: True})


class Unit:
    """Base of a protocol's unit settings (subclasses are frozen dataclasses)."""

    def key(self) -> dict[str, Any]:
        """What identifies the unit in the store, with the trial number and the code."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get(MERGE):
                out.update(value.key())
            elif value is not None or not f.metadata.get(OMIT_NONE):
                out[f.name] = value
        return out
