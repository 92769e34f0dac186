"""The book's chapters, their declared parameters, and how profiles resolve them.

A *notebook* (``notebooks/incremental.ipynb``) declares its parameters: name, type, default (the
paper's protocol), allowed choices or range, and a one-line help. A *chapter* is one rendering of
a notebook under an id (``incremental-mnist`` is ``incremental`` with ``dataset = "mnist"``).
A *profile* (``smoke``, ``quick``, ``paper``; see ``profiles.yaml``) changes some parameters per
chapter. :func:`resolve` turns (chapter id, profile, overrides) into the protocol's keyword
arguments, checking every value against the declaration first, so that a typo fails in one line
before anything runs.

Inside a notebook the ``parameters`` cell holds ``profile = "quick"`` and every declared
parameter set to ``None`` ("take the profile's value"); the notebook then calls
:func:`chapter_setup` with them.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
DEFAULT_PROFILE = "quick"
#: Spelling of "no limit" for parameters whose protocol value may be ``None`` (e.g. test_subset).
ALL = "all"
LIST_KINDS = ("list[int]", "list[float]", "tuple[int]")


class ParamError(ValueError):
    """A parameter, chapter or profile that is not allowed; the message is one line."""


@dataclass(frozen=True)
class Param:
    """One declared chapter parameter.

    ``kind`` is ``"int"``, ``"float"``, ``"str"``, ``"list[int]"``, ``"list[float]"`` or
    ``"tuple[int]"``; ``low``
    and ``high`` bound numbers (for list kinds, every item); ``length`` fixes the length of a list
    kind; ``allow_all`` lets the value be ``"all"``, passed to the protocol as ``None``.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    length: int | None = None
    allow_all: bool = False

    def allowed(self) -> str:
        """Human description of the allowed values, e.g. ``an integer in 1..100``."""
        if self.choices is not None:
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.kind == "str":
            text = "a string"
        else:
            text = {"int": "an integer", "float": "a number"}.get(self.kind, "")
            if not text:  # list kinds
                what = "numbers" if self.kind == "list[float]" else "integers"
                text = f"{self.length} {what}" if self.length else f"a list of {what}"
            if self.low is not None and self.high is not None:
                text += f" in {_fmt(self.low)}..{_fmt(self.high)}"
        return text + (f" or '{ALL}'" if self.allow_all else "")

    def _fail(self, value: Any) -> ParamError:
        shown = f"'{value}'" if isinstance(value, str) else repr(value)
        return ParamError(f"parameter '{self.name}' = {shown} is not valid: use {self.allowed()}")

    def parse(self, text: str) -> Any:
        """Read a command-line value (``"5"``, ``"0.02"``, ``"4,12"``, ``"1..25"``, ``"all"``)."""
        text = text.strip()
        if self.allow_all and text.lower() in (ALL, "none"):
            return self.check(ALL)
        if self.kind == "str":
            return self.check(text)
        if self.kind in LIST_KINDS:
            integer = self.kind != "list[float]"
            span = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", text)
            if span and integer:
                return self.check(list(range(int(span[1]), int(span[2]) + 1)))
            items = text.strip("[]()").replace(",", " ").split()
            return self.check([_number(self, item, integer=integer) for item in items])
        return self.check(_number(self, text, integer=self.kind == "int"))

    def check(self, value: Any) -> Any:
        """Validate a Python value and return it in notebook form (lists, ``"all"``)."""
        if self.allow_all and (value is None or value == ALL):
            return ALL
        if self.kind in LIST_KINDS:
            if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
                raise self._fail(value)  # a list, tuple or array is fine
            integer = self.kind != "list[float]"
            items = [self._check_number(item, integer=integer, whole=value) for item in value]
            if not items or (self.length is not None and len(items) != self.length):
                raise self._fail(value)
            return items
        if self.kind == "str":
            if not isinstance(value, str):
                raise self._fail(value)
        else:
            value = self._check_number(value, integer=self.kind == "int", whole=value)
        if self.choices is not None and value not in self.choices:
            raise self._fail(value)
        return value

    def _check_number(self, value: Any, *, integer: bool, whole: Any) -> int | float:
        """Check one number's type and range; errors quote ``whole`` (the full value)."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._fail(whole)
        if integer and not isinstance(value, numbers.Integral):
            if not float(value).is_integer():
                raise self._fail(whole)
            value = int(value)
        value = int(value) if integer else float(value)  # plain Python numbers from numpy ones
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise self._fail(whole)
        return value

    def to_protocol(self, value: Any) -> Any:
        """Notebook form → the protocol's argument (tuples for ``tuple[int]``, ``None`` for all)."""
        if self.allow_all and value == ALL:
            return None
        if self.kind == "tuple[int]":
            return tuple(value)
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _number(param: Param, text: str, *, integer: bool) -> int | float:
    """Parse one number from text, failing with the parameter's one-line message."""
    try:
        return int(text) if integer else float(text)
    except ValueError:
        try:
            return float(text)  # "5.0" for an int parameter: let check() decide
        except ValueError:
            raise param._fail(text) from None


@dataclass(frozen=True)
class Notebook:
    """A chapter notebook: where it is, what it runs, and what it can be told.

    ``instance_param`` names the parameter whose value is part of the chapter id
    (``incremental`` + ``dataset = "fashion"`` → ``incremental-fashion``).
    """

    name: str
    path: str
    title: str
    protocol: str | None
    params: tuple[Param, ...] = ()
    instance_param: str | None = None

    def param(self, name: str) -> Param:
        """The declared parameter ``name`` (``ParamError`` listing the valid ones if unknown)."""
        for param in self.params:
            if param.name == name:
                return param
        if name == "profile":
            raise ParamError("'profile' is not a chapter parameter: choose it with --profile")
        valid = ", ".join(p.name for p in self.params) or "none"
        raise ParamError(f"unknown parameter '{name}' for notebook {self.name}; valid: {valid}")


@dataclass(frozen=True)
class Chapter:
    """One chapter of the book: a notebook rendered with some parameters fixed."""

    id: str
    notebook: Notebook
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        """Executed notebook, relative to the project root."""
        return f"book/chapters/{self.id}.ipynb"


SEED = Param("seed", "int", 0, "base seed; trial t uses seed + t", low=0, high=2**31 - 1)

PATCHES = Notebook(
    name="patches",
    path="notebooks/patches.ipynb",
    title="Toy overlapping patches",
    protocol="sleeputils.protocols.patches:run_patches",
    params=(
        Param(
            "overlaps", "list[int]", list(range(1, 26)), "shared ON pixels to sweep", low=1, high=25
        ),
        Param("trials", "int", 5, "trials per overlap", low=1, high=100),
        SEED,
    ),
)

INCREMENTAL = Notebook(
    name="incremental",
    path="notebooks/incremental.ipynb",
    title="Class-incremental benchmarks",
    protocol="sleeputils.protocols.incremental:run_incremental",
    instance_param="dataset",
    params=(
        Param(
            "dataset",
            "str",
            "mnist",
            "benchmark (5 tasks of 2 classes); CIFAR-10 needs its feature file",
            choices=("mnist", "fashion", "cifar10"),
        ),
        Param("trials", "int", 5, "independent trials", low=1, high=100),
        SEED,
        Param(
            "hidden",
            "tuple[int]",
            [1200, 1200],
            "widths of the two hidden layers",
            low=1,
            high=10000,
            length=2,
        ),
        Param("per_task_train", "int", 5000, "training examples per task", low=10, high=12000),
        Param("epochs", "int", 2, "SGD epochs per task", low=1, high=100),
        Param("sleep_scale", "float", 1.0, "factor on every sleep length T", low=0.0, high=10.0),
        Param(
            "test_subset",
            "int",
            ALL,
            "test images used for accuracy",
            low=10,
            high=10000,
            allow_all=True,
        ),
    ),
)

REHEARSAL = Notebook(
    name="rehearsal",
    path="notebooks/rehearsal.ipynb",
    title="Rehearsal and rehearsal + SRC",
    protocol="sleeputils.protocols.rehearsal:run_rehearsal",
    instance_param="dataset",
    params=(
        Param("dataset", "str", "mnist", "benchmark (5 tasks of 2 classes)",
              choices=("mnist", "fashion")),
        Param("fractions", "list[float]", [0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
              "fractions of the old tasks' training data replayed (the original sweep)",
              low=0.0, high=1.0),
        Param("trials", "int", 5, "independent trials per fraction", low=1, high=100),
        SEED,
        *INCREMENTAL.params[3:],  # hidden, per_task_train, epochs, sleep_scale, test_subset
    ),
)

STATUS = Notebook(
    name="status",
    path="notebooks/status.ipynb",
    title="Reproducibility status",
    protocol=None,
)


class Registry:
    """Notebooks, the book's chapters (in book order) and the profiles that tune them."""

    def __init__(
        self,
        notebooks: Sequence[Notebook],
        chapters: Sequence[Chapter],
        profiles: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.notebooks = {nb.name: nb for nb in notebooks}
        self.chapters = list(chapters)
        self.profiles = dict(profiles)
        self._check_profiles()

    def _check_profiles(self) -> None:
        """Every profile entry must name a known notebook/chapter and a valid value."""
        for profile, spec in self.profiles.items():
            for target, values in (spec.get("chapters") or {}).items():
                notebook = self._notebook_of(target, profile)
                for name, value in (values or {}).items():
                    try:
                        notebook.param(name).check(value)
                    except ParamError as err:
                        raise ParamError(f"profile {profile}, {target}: {err}") from None

    def _notebook_of(self, target: str, profile: str) -> Notebook:
        if target in self.notebooks:
            return self.notebooks[target]
        try:
            return self.chapter(target).notebook
        except ParamError:
            raise ParamError(f"profile {profile} names unknown chapter '{target}'") from None

    def check_profile(self, profile: str) -> None:
        """``ParamError`` naming the valid profiles if ``profile`` is not one."""
        if profile not in self.profiles:
            valid = ", ".join(self.profiles)
            raise ParamError(f"unknown profile '{profile}'; valid: {valid}")

    def chapter_ids(self) -> list[str]:
        return [chapter.id for chapter in self.chapters]

    def chapter(self, chapter_id: str) -> Chapter:
        """The chapter ``chapter_id``; also ids such as ``incremental-cifar10`` that are not in the
        book's table of contents but are a valid notebook + instance value."""
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        for notebook in self.notebooks.values():
            if notebook.instance_param and chapter_id.startswith(notebook.name + "-"):
                value = chapter_id[len(notebook.name) + 1 :]
                param = notebook.param(notebook.instance_param)
                if param.choices is None or value in param.choices:
                    return Chapter(chapter_id, notebook, {notebook.instance_param: value})
        ids, names = ", ".join(self.chapter_ids()), ", ".join(self.notebooks)
        raise ParamError(f"unknown chapter '{chapter_id}'; valid: {ids} (or a notebook: {names})")

    def select(self, name: str, overrides: Mapping[str, Any] | None = None) -> Chapter:
        """Chapter named on the command line: a chapter id, or a notebook name whose instance
        parameter (taken from ``overrides``, else its default) picks the id."""
        overrides = dict(overrides or {})
        notebook = self.notebooks.get(name)
        if notebook is None:
            return self.chapter(name)
        if notebook.instance_param is None:
            return self.chapter(name) if name in self.chapter_ids() else Chapter(name, notebook)
        param = notebook.param(notebook.instance_param)
        value = param.check(overrides.get(param.name, param.default))
        return self.chapter(f"{name}-{value}")

    def resolve_sources(
        self, chapter_id: str, profile: str, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, tuple[Any, str]]:
        """Like :meth:`resolve`, in notebook form, with where each value came from."""
        self.check_profile(profile)
        chapter = self.chapter(chapter_id)
        notebook = chapter.notebook
        values = {param.name: (param.default, "default") for param in notebook.params}
        spec = self.profiles[profile].get("chapters") or {}
        for target in (notebook.name, chapter.id):
            for name, value in (spec.get(target) or {}).items():
                values[name] = (notebook.param(name).check(value), f"profile {profile}")
        for name, value in chapter.fixed.items():
            values[name] = (value, "chapter")
        for name, value in (overrides or {}).items():
            if value is None:
                continue
            checked = notebook.param(name).check(value)
            if name in chapter.fixed and checked != chapter.fixed[name]:
                raise ParamError(
                    f"chapter {chapter.id} fixes {name} = {chapter.fixed[name]}; "
                    f"run notebook {notebook.name} with {name} = {checked} instead"
                )
            values[name] = (checked, values[name][1] if name in chapter.fixed else "override")
        return values

    def resolve(
        self, chapter_id: str, profile: str, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Protocol keyword arguments for ``chapter_id`` under ``profile`` plus ``overrides``.

        Order: declared default < profile's notebook entry < profile's chapter entry < the
        chapter's fixed values < overrides (``None`` overrides are ignored). Every value is
        validated; ``ParamError`` carries a one-line message.
        """
        notebook = self.chapter(chapter_id).notebook
        sources = self.resolve_sources(chapter_id, profile, overrides)
        return {name: notebook.param(name).to_protocol(v) for name, (v, _) in sources.items()}


def load_profiles(path: Path = PROFILES_FILE) -> dict[str, Any]:
    """Read ``profiles.yaml``."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The book as shipped: patches, incremental and rehearsal on MNIST and Fashion, status."""
    chapters = [
        Chapter("patches", PATCHES),
        Chapter("incremental-mnist", INCREMENTAL, {"dataset": "mnist"}),
        Chapter("incremental-fashion", INCREMENTAL, {"dataset": "fashion"}),
        Chapter("rehearsal-mnist", REHEARSAL, {"dataset": "mnist"}),
        Chapter("rehearsal-fashion", REHEARSAL, {"dataset": "fashion"}),
        Chapter("status", STATUS),
    ]
    return Registry([PATCHES, INCREMENTAL, REHEARSAL, STATUS], chapters, load_profiles())


def resolve(
    chapter_id: str, profile: str = DEFAULT_PROFILE, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Protocol keyword arguments of a book chapter (see :meth:`Registry.resolve`)."""
    return default_registry().resolve(chapter_id, profile, overrides)


@dataclass(frozen=True)
class ChapterSetup:
    """What a chapter notebook needs after its parameters cell."""

    chapter_id: str
    profile: str
    kwargs: dict[str, Any]
    sources: dict[str, str]

    def table(self) -> pd.DataFrame:
        """Parameters of this run and where each came from, for display in the chapter."""
        rows = [
            {"parameter": name, "value": value, "from": self.sources[name]}
            for name, value in self.kwargs.items()
        ]
        return pd.DataFrame(rows).set_index("parameter")


def chapter_setup(
    notebook: str, profile: str = DEFAULT_PROFILE, registry: Registry | None = None, **params: Any
) -> ChapterSetup:
    """Resolve a notebook's parameters cell: ``chapter_setup("incremental", profile, **cell)``.

    ``None`` values mean "take the profile's value". Returns the chapter id (which depends on the
    instance parameter, e.g. ``dataset``), the protocol's keyword arguments and their sources.
    """
    registry = registry or default_registry()
    given = {name: value for name, value in params.items() if value is not None}
    chapter = registry.select(notebook, given)
    sources = registry.resolve_sources(chapter.id, profile, given)
    nb = chapter.notebook
    kwargs = {name: nb.param(name).to_protocol(value) for name, (value, _) in sources.items()}
    return ChapterSetup(chapter.id, profile, kwargs, {k: s for k, (_, s) in sources.items()})
