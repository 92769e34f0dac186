"""The book's chapters, the profiles that tune them, and how a run's parameters are resolved.

* A *notebook* (``notebooks/incremental.md``) runs one protocol, whose config dataclass declares
  the parameters (:mod:`sleeputils.params`).
* A *chapter* is one rendering of a notebook under an id: ``incremental-mnist`` is ``incremental``
  with ``dataset = "mnist"``. The book's chapters are the ``book/chapters/*`` entries of
  ``_toc.yml``: the one chapter list.
* A *profile* (``smoke``, ``quick``, ``paper``; ``profiles.yaml``) overrides some parameters.

:meth:`Book.resolve` turns (chapter, profile, overrides) into a :class:`Resolved` run, checking
everything first, so that a typo fails in one line before anything runs. A run whose parameters
differ from its profile's is labelled ``custom-<hash>``, never as the profile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ..params import ParamError, Params, clip, show
from ..protocols.crossmodal import CrossModalConfig
from ..protocols.cub200 import CubConfig
from ..protocols.epochs import EpochsConfig
from ..protocols.icarl import ICaRLConfig
from ..protocols.incremental import IncrementalConfig
from ..protocols.interleave import InterleaveConfig
from ..protocols.owm_recipe import OWMRecipeConfig
from ..protocols.paradigms import ParadigmsConfig
from ..protocols.patches import PatchesConfig
from ..protocols.recipes import RecipesConfig
from ..protocols.rehearsal import RehearsalConfig
from ..protocols.replay import ReplayConfig
from ..protocols.representations import RepresentationsConfig
from ..protocols.single import SingleTaskConfig
from ..protocols.sleep_search import SleepSearchConfig
from ..protocols.task2 import Task2Config
from ..protocols.vae import ScheduleConfig
from ..protocols.wscl import WSCLConfig
from ..results import provenance

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
DEFAULT_PROFILE = "quick"
CHAPTERS_DIR = "book/chapters"


@dataclass(frozen=True)
class Notebook:
    """A chapter source: ``notebooks/<name>.md``, the config it runs and the field (if any)
    whose value is part of the chapter id."""

    name: str
    config: type[Params] | None = None
    instance: str | None = None
    #: Reads what the other chapters recorded (the status page): a build runs it after them.
    summary: bool = False

    @property
    def source(self) -> str:
        return f"notebooks/{self.name}.md"


NOTEBOOKS: dict[str, Notebook] = {
    nb.name: nb
    for nb in (
        Notebook("patches", PatchesConfig),
        Notebook("incremental", IncrementalConfig, "dataset"),
        Notebook("rehearsal", RehearsalConfig, "dataset"),
        Notebook("crossmodal", CrossModalConfig),
        Notebook("icarl", ICaRLConfig, "dataset"),
        Notebook("epochs", EpochsConfig, "dataset"),
        Notebook("cub200", CubConfig),
        Notebook("single", SingleTaskConfig),
        Notebook("task2", Task2Config, "dataset"),
        Notebook("recipes", RecipesConfig, "dataset"),
        Notebook("owm-recipe", OWMRecipeConfig),
        Notebook("sleep-search", SleepSearchConfig),
        Notebook("representations", RepresentationsConfig, "dataset"),
        Notebook("vae", ScheduleConfig, "split"),
        Notebook("replay", ReplayConfig, "split"),
        Notebook("interleave", InterleaveConfig),
        Notebook("wscl", WSCLConfig, "dataset"),
        Notebook("paradigms", ParadigmsConfig),
        Notebook("status", summary=True),
    )
}

#: How an instance value is spelled in a chapter title.
DISPLAY_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST", "cifar10": "CIFAR-10",
                 "cifar10-images": "CIFAR-10",
                 "cub200": "CUB-200", "inverted": "MNIST, then inverted MNIST",
                 "digits": "digits 0-4, then 5-9"}
#: The generative chapters' ``split`` names a pair of datasets, not one.
SPLIT_NAMES = {**DISPLAY_NAMES, "fashion": "MNIST, then Fashion-MNIST"}


@dataclass(frozen=True)
class Chapter:
    """One chapter: a notebook with its instance field (if any) fixed by the id."""

    id: str
    notebook: Notebook
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        """Executed notebook, relative to the project root."""
        return f"{CHAPTERS_DIR}/{self.id}.ipynb"

    @property
    def title_suffix(self) -> str | None:
        """``MNIST`` for ``incremental-mnist``: two renderings of a notebook get distinct titles."""
        if not self.fixed:
            return None
        field_name, value = next(iter(self.fixed.items()))
        names = SPLIT_NAMES if field_name == "split" else DISPLAY_NAMES
        return names.get(str(value), str(value))


def toc_chapter_ids(project: Path) -> list[str]:
    """The ``book/chapters/*`` entries of ``<project>/_toc.yml``, in book order."""
    toc = yaml.safe_load((project / provenance.PROJECT_MARKER).read_text(encoding="utf-8"))
    ids: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            entry = node.get("file") or node.get("root")
            if isinstance(entry, str) and entry.startswith(CHAPTERS_DIR + "/"):
                ids.append(entry.removeprefix(CHAPTERS_DIR + "/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return ids


@dataclass(frozen=True)
class Resolved:
    """One chapter run, fully resolved: its config and how it differs from its profile's."""

    chapter: Chapter
    profile: str
    config: Params | None
    profile_config: Params | None  # what the profile alone gives, for comparison

    @property
    def chapter_id(self) -> str:
        return self.chapter.id

    @property
    def differences(self) -> dict[str, tuple[Any, Any]]:
        """``{name: (this run's value, the profile's value)}``."""
        if self.config is None or self.profile_config is None:
            return {}
        return self.config.differences(self.profile_config)

    @property
    def label(self) -> str:
        """Where the numbers are recorded: the profile, or ``custom-<hash>`` if they differ."""
        if not self.differences:
            return self.profile
        return "custom-" + provenance.config_hash({"chapter": self.chapter.id,
                                                   **self.config.as_dict()})[:8]

    def differences_text(self) -> str:
        """``trials = 2 (quick: 3), seed = 1 (quick: 0)``; empty if none."""
        return ", ".join(f"{name} = {show(ours)} ({self.profile}: {show(theirs)})"
                         for name, (ours, theirs) in self.differences.items())


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key repeated in one mapping: plain YAML keeps the last one, which
    silently drops every value written under the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ParamError(f"{key_node.start_mark.name}, line {key_node.start_mark.line + 1}:"
                                 f" '{key}' appears twice in one mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class Profiles:
    """The profiles of ``profiles.yaml``: overrides only, every one checked on load."""

    def __init__(self, table: Mapping[str, Any], notebooks: Mapping[str, Notebook]) -> None:
        self.table = dict(table)
        self.names = list(self.table)
        for name, entry in self.table.items():
            for target, values in ((entry or {}).get("chapters") or {}).items():
                config = _config_of(target, notebooks)
                if config is None:
                    raise ParamError(f"profile {name} names unknown notebook or chapter "
                                     f"'{target}'")
                config().replace(values or {}, where=f"profile {name}, {target}: ")

    @classmethod
    def load(cls, notebooks: Mapping[str, Notebook], path: Path = PROFILES_FILE) -> Profiles:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.load(handle, Loader=_UniqueKeyLoader) or {}, notebooks)

    def check(self, profile: str) -> None:
        """``ParamError`` naming the valid profiles if ``profile`` is not one."""
        if profile not in self.table:
            raise ParamError(f"unknown profile '{clip(profile)}'; valid: {', '.join(self.names)}")

    def help(self, profile: str) -> str:
        return (self.table[profile] or {}).get("help", "")

    def overrides(self, profile: str, chapter: Chapter) -> dict[str, Any]:
        """The profile's values for ``chapter``: its notebook's entry, then the chapter's."""
        entries = (self.table[profile] or {}).get("chapters") or {}
        return {**(entries.get(chapter.notebook.name) or {}), **(entries.get(chapter.id) or {})}


def split_id(chapter_id: str, names: Collection[str]) -> tuple[str, str]:
    """(notebook name, instance value) of a chapter id: the longest notebook name the id starts
    with, followed by ``-``, so names and values may contain dashes (``wscl-cifar10-images``);
    ``(chapter_id, "")`` when no name is such a prefix."""
    prefixes = [n for n in names if chapter_id.startswith(f"{n}-")]
    if not prefixes:
        return chapter_id, ""
    name = max(prefixes, key=len)
    return name, chapter_id[len(name) + 1:]


def _config_of(target: str, notebooks: Mapping[str, Notebook]) -> type[Params] | None:
    """Config class of a notebook name or a chapter id (``incremental-mnist``)."""
    name = target if target in notebooks else split_id(target, notebooks)[0]
    notebook = notebooks.get(name)
    return notebook.config if notebook else None


class Book:
    """The book of one project folder: its chapters (from ``_toc.yml``) and profiles."""

    def __init__(
        self,
        project: Path,
        notebooks: Mapping[str, Notebook] = NOTEBOOKS,
        profiles: Profiles | None = None,
    ) -> None:
        self.project = Path(project)
        self.notebooks = dict(notebooks)
        self.profiles = profiles or Profiles.load(self.notebooks)

    @cached_property
    def chapters(self) -> list[Chapter]:
        """The book's chapters in order (``ParamError`` if ``_toc.yml`` names an unknown one)."""
        return [self.chapter(chapter_id) for chapter_id in toc_chapter_ids(self.project)]

    def chapter(self, chapter_id: str) -> Chapter:
        """The chapter ``chapter_id``: a notebook name, or notebook name + ``-`` + instance value
        (also ids such as ``incremental-cifar10`` that are not in the table of contents)."""
        notebook = self.notebooks.get(chapter_id)
        if notebook is not None and notebook.instance is None:
            return Chapter(chapter_id, notebook)
        name, value = split_id(chapter_id, self.notebooks)
        notebook = self.notebooks.get(name)
        if notebook is not None and notebook.instance and value:
            decl = notebook.config.field(notebook.instance)
            if decl.choices is None or value in decl.choices:
                return Chapter(chapter_id, notebook, {notebook.instance: value})
        ids = ", ".join(toc_chapter_ids(self.project))
        raise ParamError(f"unknown chapter '{clip(chapter_id)}'; valid: {ids} "
                         f"(or a notebook: {', '.join(self.notebooks)})")

    def notebook_of(self, name: str) -> Notebook:
        """The notebook a chapter id or notebook name runs."""
        return self.notebooks[name] if name in self.notebooks else self.chapter(name).notebook

    def parse(self, name: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """Typed values of ``-p KEY VALUE`` pairs for chapter or notebook ``name``; a key given
        twice is an error (which one was meant?)."""
        config = self.notebook_of(name).config
        if config is None and pairs:
            raise ParamError(f"chapter {name} has no parameters (only --profile)")
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                given = ", ".join(f"-p {k} {clip(v, 20)}" for k, v in pairs if k == key)
                raise ParamError(f"parameter '{clip(key)}' is given {keys.count(key)} times "
                                 f"({given}): give it once")
        return {key: config.parse(key, value) for key, value in pairs}

    def resolve(
        self, name: str, profile: str, overrides: Mapping[str, Any] | None = None
    ) -> Resolved:
        """The run of chapter (or notebook) ``name`` under ``profile`` with ``overrides``.

        Order: declared default < profile's notebook entry < profile's chapter entry < the
        chapter's fixed instance value < overrides. A notebook name picks its chapter from the
        instance override (else the declared default). Everything is checked: ``ParamError``.
        """
        self.profiles.check(profile)
        overrides = dict(overrides or {})
        chapter = self._select(name, overrides)
        config_class = chapter.notebook.config
        if config_class is None:
            if overrides:
                raise ParamError(f"chapter {chapter.id} has no parameters (only --profile)")
            return Resolved(chapter, profile, None, None)
        for key, value in chapter.fixed.items():
            if key in overrides and overrides[key] != value:
                raise ParamError(f"chapter {chapter.id} fixes {key} = {value}; run notebook "
                                 f"{chapter.notebook.name} with {key} = {overrides[key]} instead")
        base = config_class().replace(self.profiles.overrides(profile, chapter))
        base = base.replace(chapter.fixed)
        return Resolved(chapter, profile, base.replace(overrides), base)

    def _select(self, name: str, overrides: Mapping[str, Any]) -> Chapter:
        notebook = self.notebooks.get(name)
        if notebook is None or notebook.instance is None:
            return self.chapter(name)
        decl = notebook.config.field(notebook.instance)
        value = decl.check(overrides.get(notebook.instance, decl.default))
        return self.chapter(f"{name}-{value}")


def find_project(root: Path | None = None) -> Path:
    """The book's root folder: ``root`` (``ParamError`` unless it holds ``_toc.yml``), else the
    nearest ``_toc.yml`` above the working directory, else the checkout the package was
    installed from (editable installs)."""
    if root is not None:
        folder = Path(root).expanduser().resolve()
        if not (folder / provenance.PROJECT_MARKER).is_file():
            raise ParamError(f"--root {clip(str(root))} holds no book (no "
                             f"{provenance.PROJECT_MARKER}): give the folder of the sleepbook "
                             "checkout")
        return folder
    found = provenance.project_root()
    if found is None and (provenance.PACKAGE_DIR.parent / provenance.PROJECT_MARKER).is_file():
        found = provenance.PACKAGE_DIR.parent
    if found is None:
        raise FileNotFoundError("no book found: run from inside the sleepbook checkout (_toc.yml)")
    return found
