"""The method registry: one :class:`MethodSpec` per continual-learning method, read by the
protocols and the reports (book/methods/training.md, training-loop).

A MethodSpec says what a method is called in records and in tables, which methods-page
section states it, what it keeps besides the network, which settings it reads (a small frozen
dataclass) and how its hooks are made for one trial (:class:`MethodContext`). Every module of
:mod:`sleeputils.methods` may register specs; they are found by importing the package's modules,
so adding a method is one new module (plus its methods-page section). SRC composes onto any
method: :func:`with_src` returns the MethodSpec whose hooks are the method's, then an SRC sleep
after every task.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..data import Dataset
from ..results.unit import Unit
from ..training import Hook

__all__ = ["MethodContext", "MethodSpec", "MethodUnit", "NoSettings", "all_specs", "get",
           "register", "with_src"]


@dataclass(frozen=True)
class NoSettings:
    """The settings of a method that reads none of its own."""


@dataclass(frozen=True)
class MethodContext:
    """What a method's hooks are made from in one trial, whatever the protocol."""

    ds: Dataset  # the data set the tasks come from (stored examples are drawn from it)
    seed: int  # the trial's seed; each hook derives its own random stream from it
    settings: Any  # the method's own settings: an instance of its spec's ``settings`` class
    #: The protocol's SRC hook at a length factor: the protocol chooses the hyperparameter vector
    #: and the sleep's data (book/methods/sleep.md, src-hook). ``None`` where nothing sleeps.
    sleep: Callable[[float], Hook] | None = None


HookFactory = Callable[[MethodContext], list[Hook]]


def _no_hooks(ctx: MethodContext) -> list[Hook]:
    return []


@dataclass(frozen=True)
class MethodSpec:
    """One method: its names, what it keeps, its settings and its hooks."""

    name: str  # id in records; results and reference numbers are keyed by it, never rename
    display: str  # name in tables
    label: str  # the methods-page section that states it (a MyST label in book/methods/*.md)
    order: float  # where it sits in method lists and tables (lower first)
    chapters: tuple[str, ...]  # the chapters comparing methods that run it
    hooks: HookFactory = _no_hooks  # its hooks on the one training loop, in order
    settings: type = NoSettings  # frozen dataclass of the unit settings it reads
    #: ``sequence``: hooks on the training loop; ``joint``: one net on every task's data at once
    #: (the upper bound); ``module``: its own loop on the network as a module (wscl-backbones).
    loop: Literal["sequence", "joint", "module"] = "sequence"
    budgeted: bool = False  # keeps a memory of ``budget`` stored images (a swept setting)
    keeps: str = ""  # what else it keeps besides the network and the stored images
    #: (config field of its strength, config field of the grid searched when that is None).
    strength: tuple[str, str] | None = None
    output: str | None = None  # the net's output when not the protocol's ("softmax": iCaRL)
    nearest_mean: bool = False  # also scored by the nearest mean of its exemplars (iCaRL)
    #: The SRC vector the original tuned for this method with SRC, from (data set, budget);
    #: ``None``: the data set's main vector.
    src_preset: Callable[[str, int | None], str] | None = None
    base: str | None = None  # the MethodSpec SRC was composed onto (:func:`with_src`)
    sleeps: bool = False  # sleeps after every task (its ``sleep_scale`` setting)
    #: sleeps with the vector the committed sleep search chose instead of the original's; a
    #: chapter runs it only when asked (``-p methods ...``), as it needs that search's records
    searched_vector: bool = False

    def memory(self, budget: int | None) -> str:
        """What the method keeps besides the network, e.g. ``100 images + sleep data``."""
        parts = [f"{int(budget)} images"] if self.budgeted else []
        parts += [self.keeps] if self.keeps else []
        return " + ".join(parts) or "—"

    def declares(self, name: str) -> bool:
        """Whether ``name`` is one of the method's settings."""
        return any(f.name == name for f in dataclasses.fields(self.settings))

    def settings_of(self, unit: Mapping[str, Any] | Unit) -> Any:
        """The method's typed settings from a unit's settings, by name (the settings the unit
        lacks keep their declared defaults)."""
        values = unit if isinstance(unit, Mapping) else unit.key()
        names = [f.name for f in dataclasses.fields(self.settings)]
        return self.settings(**{n: values[n] for n in names if n in values})

    def unit_settings(self, config: Any, shared: Mapping[str, Any],
                      strength: float | None = None) -> dict[str, Any]:
        """The method's own settings for a unit of a protocol whose config is ``config``: every
        setting it declares that the config has and ``shared`` does not already hold, and the
        strength (given: it may come from a search)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self.settings):
            if f.name == "strength" and self.strength is not None:
                out["strength"] = strength
            elif f.name not in shared and hasattr(config, f.name):
                out[f.name] = getattr(config, f.name)
        return out

    def unit(self, config: Any, shared: Mapping[str, Any],
             strength: float | None = None) -> MethodUnit:
        """The method as one unit of a protocol whose config is ``config`` runs it: its own
        settings (:meth:`unit_settings`) identify the unit beside ``shared``, the unit's other
        settings, from which it reads the ones it declares (a budget, a fraction)."""
        own = self.unit_settings(config, shared, strength)
        given = {f.name: shared[f.name] for f in dataclasses.fields(self.settings)
                 if f.name in shared and f.name not in own}
        return MethodUnit(self.name, tuple(own.items()), tuple(given.items()))

    def make_hooks(self, ctx: MethodContext) -> list[Hook]:
        """The method's hooks for one trial."""
        if self.loop != "sequence":
            raise ValueError(f"method {self.name!r} does not run on the training loop's hooks")
        return self.hooks(ctx)


@dataclass(frozen=True)
class MethodUnit(Unit):
    """One method as a unit runs it: its id and its settings, as values (a unit travels to
    other processes, and an SRC composition's settings class cannot be pickled); the typed
    settings are :attr:`settings`. Its key is the id and the ``own`` settings."""

    method: str
    own: tuple[tuple[str, Any], ...] = ()  # settings that identify the unit
    given: tuple[tuple[str, Any], ...] = ()  # settings read from the unit's shared ones

    @property
    def spec(self) -> MethodSpec:
        """The method's registered spec."""
        return get(self.method)

    @property
    def settings(self) -> Any:
        """The method's typed settings (an instance of its spec's ``settings`` class)."""
        return self.spec.settings_of({**dict(self.given), **dict(self.own)})

    def key(self) -> dict[str, Any]:
        return {"method": self.method, **dict(self.own)}


@dataclass(frozen=True)
class SleepSettings:
    """What SRC adds to a method's settings."""

    sleep_scale: float = 1.0  # factor on every sleep length T


def with_src(spec: MethodSpec, *, name: str | None = None, display: str | None = None,
             order: float | None = None, chapters: tuple[str, ...] | None = None) -> MethodSpec:
    """``spec`` followed by an SRC sleep after every task: the method's hooks, then the
    protocol's SRC hook (``ctx.sleep``) at the unit's ``sleep_scale``.

    The id is ``<name>_src`` (``src`` on sequential training), as the records have it.
    """
    if spec.loop != "sequence":
        raise ValueError(f"SRC composes with methods on the training loop, not {spec.name!r}")
    settings = dataclasses.make_dataclass(
        f"{spec.settings.__name__}AndSleep",
        [(f.name, f.type, field(default=f.default)) for f in dataclasses.fields(spec.settings)]
        + [("sleep_scale", float, field(default=1.0))], frozen=True)

    def hooks(ctx: MethodContext) -> list[Hook]:
        if ctx.sleep is None:
            raise ValueError(f"{spec.name} + SRC needs the protocol's sleep (ctx.sleep)")
        return [*spec.hooks(ctx), ctx.sleep(ctx.settings.sleep_scale)]

    plain = spec.name == "sequential"
    keeps = " + ".join(p for p in (spec.keeps, "sleep data") if p)
    if plain:
        keeps = "sleep data (seen images)"
    return dataclasses.replace(
        spec, name=name or ("src" if plain else f"{spec.name}_src"),
        display=display or ("SRC" if plain else f"{spec.display} + SRC"),
        label="src-hook" if plain else spec.label, order=spec.order + 0.5 if order is None
        else order, chapters=spec.chapters if chapters is None else chapters, hooks=hooks,
        settings=settings, keeps=keeps, base=spec.name, sleeps=True)


_SPECS: dict[str, MethodSpec] = {}
_loaded = False


def register(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to the registry (its id must be new); returns it."""
    if spec.name in _SPECS and _SPECS[spec.name] is not spec:
        raise ValueError(f"method {spec.name!r} is registered twice")
    _SPECS[spec.name] = spec
    return spec


def _load() -> None:
    """Import every module of :mod:`sleeputils.methods`, so each registers its specs."""
    global _loaded
    if _loaded:
        return
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    _loaded = True


def all_specs(chapter: str | None = None) -> list[MethodSpec]:
    """Every registered method (those ``chapter`` runs, if given), in table order."""
    _load()
    specs = [s for s in _SPECS.values() if chapter is None or chapter in s.chapters]
    return sorted(specs, key=lambda s: (s.order, s.name))


def names(chapter: str) -> tuple[str, ...]:
    """The ids of the methods ``chapter`` runs, in table order."""
    return tuple(s.name for s in all_specs(chapter))


def get(name: str) -> MethodSpec:
    """The spec of method ``name``; one line naming the valid ids otherwise."""
    _load()
    if name not in _SPECS:
        raise KeyError(f"unknown method {name!r}; valid: {', '.join(sorted(_SPECS))}")
    return _SPECS[name]
