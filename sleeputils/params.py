"""Declared parameters: a protocol's settings as one frozen dataclass, everything else derived.

A protocol declares its parameters once, as fields of a :class:`Params` subclass::

    @dataclass(frozen=True)
    class IncrementalConfig(Params):
        trials: int = declare(5, "independent trials", low=1, high=100)

The field's default is the original protocol; its metadata holds a one-line help and the allowed
values (``choices`` or ``low``/``high``; ``none`` names what ``None`` means, e.g. ``"all"``). A
list holds each value once (a sweep that lists a value twice would compute and record it twice)
unless declared with ``repeats=True`` (layer widths), and at most ``longest`` values.
Construction validates every field, so a bad value fails in one line (:class:`ParamError`) before
anything runs. The command line's ``-p KEY VALUE`` parsing (:meth:`Params.parse`), ``sleepbook
list`` (:meth:`Params.describe`), the profiles (checked by :meth:`Params.replace`) and the chapter
notebooks all use these declarations; nothing repeats them.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Self

__all__ = ["ParamError", "Params", "declare", "same_as"]

#: Most values a list parameter takes unless its declaration says otherwise: every declared
#: sweep is far shorter (25 at most), and a list of thousands is a mistake, not a sweep.
LONGEST = 100
#: Characters of a value an error message quotes (a 100,000-character value is cut).
QUOTED = 80


class ParamError(ValueError):
    """A parameter, chapter or profile that is not allowed; the message is one line."""


def declare(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
    none: str | None = None,
    repeats: bool = False,
    longest: int = LONGEST,
) -> Any:
    """A dataclass field with its help and allowed values (see the module docstring).

    ``none`` allows ``None`` and says what it means (``"all"``, ``"the data set's original"``);
    on the command line it is spelled ``none``. For a list, ``repeats`` allows a value more than
    once and ``longest`` is the most values it takes.
    """
    meta = {"help": help, "choices": choices, "low": low, "high": high, "none": none,
            "repeats": repeats, "longest": longest}
    return dataclasses.field(default=default, metadata=meta)


def same_as(cls: type[Params], name: str) -> Any:
    """A field declared exactly as ``cls``'s field ``name`` (to share it, not repeat it)."""
    s = cls.field(name)
    return declare(s.default, s.help, choices=s.choices, low=s.low, high=s.high, none=s.none,
                   repeats=s.repeats, longest=s.longest)


@dataclasses.dataclass(frozen=True)
class Declared:
    """What one declared field accepts, read from its type hint and metadata."""

    name: str
    base: type  # int, float or str (of the item, for tuple fields)
    is_tuple: bool
    optional: bool
    default: Any
    help: str
    choices: tuple[Any, ...] | None
    low: float | None
    high: float | None
    none: str | None
    repeats: bool = False
    longest: int = LONGEST

    def allowed(self) -> str:
        """Human description of the allowed values, e.g. ``an integer in 1..100``."""
        if self.choices is not None:
            what = "one of " if not self.is_tuple else "a list of "
            text = what + ", ".join(map(str, self.choices))
        else:
            noun = {int: "integer", float: "number", str: "string"}[self.base]
            text = f"a list of {noun}s" if self.is_tuple else f"a{'n' * (noun[0] in 'i')} {noun}"
            if self.low is not None and self.high is not None:
                text += f" in {_fmt(self.low)}..{_fmt(self.high)}"
        return text + (" or none" if self.optional else "")

    def fail(self, value: Any) -> ParamError:
        shown = f"'{clip(value)}'" if isinstance(value, str) else clip(repr(_plain(value)))
        return ParamError(f"parameter '{self.name}' = {shown} is not valid: use {self.allowed()}")

    def check(self, value: Any) -> Any:
        """The value in canonical form (tuples, plain numbers), or ``ParamError``."""
        if value is None or (self.optional and isinstance(value, str) and value == "none"):
            if self.optional:
                return None
            raise self.fail(value)
        if not self.is_tuple:
            return self._item(value, value)
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            raise self.fail(value)
        if hasattr(value, "__len__") and len(value) > self.longest:  # before reading them all
            raise ParamError(f"parameter '{self.name}' lists {len(value)} values: at most "
                             f"{self.longest} are allowed")
        items = tuple(self._item(item, value) for item in value)
        if not items:
            raise self.fail(value)
        if len(items) > self.longest:
            raise ParamError(f"parameter '{self.name}' lists {len(items)} values: at most "
                             f"{self.longest} are allowed")
        if not self.repeats and len(set(items)) < len(items):
            twice = next(item for i, item in enumerate(items) if item in items[:i])
            raise ParamError(f"parameter '{self.name}' lists {clip(show(twice))} more "
                             "than once: give each value once")
        return items

    def _item(self, value: Any, whole: Any) -> Any:
        if self.base is str:
            if not isinstance(value, str):
                raise self.fail(whole)
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise self.fail(whole)
            if self.base is int:
                if not float(value).is_integer():
                    raise self.fail(whole)
                value = int(value)
            else:
                value = float(value)
            if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high
            ):
                raise self.fail(whole)
        if self.choices is not None and value not in self.choices:
            raise self.fail(whole)
        return value

    def parse(self, text: str) -> Any:
        """Read a command-line value: ``5``, ``0.02``, ``4,12``, ``1..25``, ``none``."""
        text = text.strip()
        if self.optional and text.lower() == "none":
            return None
        if not self.is_tuple:
            return self.check(self._read(text))
        span = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", text)
        if span and self.base is int:
            low, high = int(span[1]), int(span[2])
            if low > high:
                raise ParamError(f"parameter '{self.name}' = '{clip(text)}' is an empty range: "
                                 f"write the smaller end first ({high}..{low})")
            return self.check(range(low, high + 1))
        items = text.strip("[]()").replace(",", " ").split()
        return self.check([self._read(item) for item in items])

    def _read(self, text: str) -> Any:
        if self.base is str:
            return text
        try:
            return float(text) if "." in text or "e" in text.lower() else int(text)
        except ValueError:
            raise self.fail(text) from None


class Params:
    """Base of the protocols' frozen config dataclasses: validation and what derives from it."""

    def __post_init__(self) -> None:
        for decl in self.fields():
            object.__setattr__(self, decl.name, decl.check(getattr(self, decl.name)))

    @classmethod
    def fields(cls) -> tuple[Declared, ...]:
        """Every declared field, in order."""
        return _fields_of(cls)

    @classmethod
    def field(cls, name: str) -> Declared:
        """The declared field ``name``; ``ParamError`` listing the valid names otherwise."""
        for decl in cls.fields():
            if decl.name == name:
                return decl
        if name == "profile":
            raise ParamError("'profile' is not a chapter parameter: choose it with --profile")
        valid = ", ".join(s.name for s in cls.fields()) or "none"
        raise ParamError(f"unknown parameter '{clip(name)}'; valid: {valid}")

    @classmethod
    def parse(cls, name: str, text: str) -> Any:
        """A command-line value of field ``name`` in canonical form (``ParamError`` if bad)."""
        return cls.field(name).parse(text)

    def replace(self, values: Mapping[str, Any], *, where: str = "") -> Self:
        """A copy with ``values`` set, every name and value checked (``where`` prefixes errors)."""
        try:
            checked = {name: self.field(name).check(v) for name, v in values.items()}
        except ParamError as err:
            raise ParamError(f"{where}{err}") from None
        return dataclasses.replace(self, **checked)

    def as_dict(self) -> dict[str, Any]:
        """Declared values by name (tuples stay tuples)."""
        return {decl.name: getattr(self, decl.name) for decl in self.fields()}

    def differences(self, other: Params) -> dict[str, tuple[Any, Any]]:
        """``{name: (self's value, other's value)}`` for every field where the two differ."""
        return {
            name: (value, getattr(other, name))
            for name, value in self.as_dict().items()
            if value != getattr(other, name)
        }

    @classmethod
    def describe(cls) -> list[tuple[str, str, str, str]]:
        """(name, default, allowed values, help) per field, for ``sleepbook list``."""
        rows = []
        for s in cls.fields():
            default = s.none if s.default is None and s.none else show(s.default)
            help_text = s.help + (f" (none = {s.none})" if s.none else "")
            rows.append((s.name, default, s.allowed(), help_text))
        return rows


@cache
def _fields_of(cls: type) -> tuple[Declared, ...]:
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        if "help" not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with declare()")
        base, is_tuple, optional = _read_hint(hints[f.name], f"{cls.__name__}.{f.name}")
        m = f.metadata
        if optional != (m["none"] is not None):
            raise TypeError(f"{cls.__name__}.{f.name}: an Optional field needs none=..., and back")
        fields.append(Declared(f.name, base, is_tuple, optional, f.default, m["help"], m["choices"],
                               m["low"], m["high"], m["none"], m["repeats"], m["longest"]))
    return tuple(fields)


def _read_hint(hint: Any, where: str) -> tuple[type, bool, bool]:
    """(item type, is a tuple, may be None) of ``int``, ``tuple[float, ...]``, ``str | None``."""
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        (hint,) = [a for a in args if a is not type(None)]
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if item in (int, float, str):
            return item, True, optional
    elif hint in (int, float, str):
        return hint, False, optional
    raise TypeError(f"{where}: unsupported parameter type {hint}")


def clip(text: str, most: int = QUOTED) -> str:
    """``text`` as an error message quotes it: at most ``most`` characters, then how long."""
    return text if len(text) <= most else f"{text[:most]}... ({len(text)} characters)"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | range) else value


def show(value: Any, *, exact: bool = False) -> str:
    """A value as the command line spells it: ``1..25`` for a long run of integers, ``a,b``,
    ``none``; floats short (``%g``), or with ``exact`` in the shortest form that reads back as
    the same float (``repr``: what a re-run command must carry)."""
    if value is None:
        return "none"
    if isinstance(value, tuple | list | range):
        items = list(value)
        if (len(items) > 4 and all(isinstance(v, int) for v in items)
                and items == list(range(items[0], items[-1] + 1))):
            return f"{items[0]}..{items[-1]}"
        return ",".join(show(v, exact=exact) for v in items)
    if isinstance(value, float):
        return repr(value) if exact else f"{value:g}"
    return str(value)


