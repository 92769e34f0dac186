"""The result store: one file per computed unit (one trial of one configuration of a chapter).

Protocols call :meth:`ResultStore.unit` for each trial. The unit's key is a hash of the chapter,
its configuration, the trial number and the code fingerprint, so a stored unit is reused exactly
when the same code would recompute it from the same configuration. Each unit is written
atomically as soon as it is computed, so an interrupted sweep resumes from the trials it finished.

A unit proves itself complete: its last line is a trailer holding the number of records and the
SHA-256 of the record lines above it. Units come back from clusters and are copied between
machines, so a file that is empty, cut short (even at a line boundary), altered, or written
before units had a trailer is not trusted: it is reported by path and recomputed
(:class:`DamagedUnit`).

Layout under the store root::

    units/<chapter>/<config hash>_t<trial>_<key>.jsonl   one JSON record per line, then the trailer
    records/<profile>/<chapter id>.csv                   headline summaries (see ``record.py``)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sleeputils.results import provenance, session

#: Environment variable that overrides the default store root.
ENV_ROOT = "SLEEPBOOK_RESULTS"

#: The ``worker`` of a unit computed in the caller's own process (not on a Dask worker).
IN_PROCESS = "in-process"

#: Keys every record returned by a protocol's compute function must have.
REQUIRED_KEYS: tuple[str, ...] = ("dataset", "method", "metric", "value")

#: The one key of a unit's last line, the trailer: ``{"unit_trailer": {"records": n, "sha256":
#: hex digest of the record lines above it}}``.
TRAILER = "unit_trailer"


class DamagedUnit(ValueError):
    """A unit file that does not prove itself complete; the message says why, in a few words."""


def default_root(project: Path | None = None) -> Path:
    """Where results live when no root is given.

    ``$SLEEPBOOK_RESULTS`` if set; else ``<project>/results/cache`` where ``project`` is the given
    folder or the nearest folder above the working directory holding ``_toc.yml``; else
    ``~/.cache/sleeputils/results``.
    """
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env).expanduser()
    project = project or provenance.project_root()
    if project is not None:
        return project / "results" / "cache"
    return Path.home() / ".cache" / "sleeputils" / "results"


class StoreUnwritable(RuntimeError):
    """The results folder cannot be written; the message is one line naming it."""


def require_writable(root: Path) -> None:
    """Fail in one line (:class:`StoreUnwritable`) unless units can be written under ``root``:
    asked before a command computes anything, not after its first unit."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-"):
            pass
    except OSError as err:
        origin = f" (from ${ENV_ROOT})" if os.environ.get(ENV_ROOT) else ""
        reason = err.strerror or type(err).__name__
        raise StoreUnwritable(f"the results folder {root}{origin} is not writable: {reason}; "
                              f"point ${ENV_ROOT} at a folder you can write") from None


def _plain(value: Any) -> Any:
    """JSON-friendly scalar: numpy/torch scalars become Python numbers, NaN stays NaN."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, tuple):
        return list(value)
    return value


class ResultStore:
    """Cache of computed result units, one JSON-lines file per (chapter, config, trial, code).

    ``ResultStore()`` uses :func:`default_root`. ``ResultStore.disabled()`` computes every unit
    and writes nothing (for tests). ``fingerprint`` pins the code fingerprint instead of hashing
    the package (tests use it to simulate a code change).
    """

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        enabled: bool = True,
        fingerprint: str | None = None,
    ) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.enabled = enabled
        self._fingerprint = fingerprint

    @classmethod
    def disabled(cls) -> ResultStore:
        """A store that always computes and never reads or writes files."""
        return cls(Path(os.devnull), enabled=False)

    def __repr__(self) -> str:
        state = "" if self.enabled else ", disabled"
        return f"ResultStore({str(self.root)!r}{state})"

    @property
    def fingerprint(self) -> str:
        """Code fingerprint used in unit keys (computed once per store)."""
        if self._fingerprint is None:
            self._fingerprint = provenance.code_fingerprint()
        return self._fingerprint

    @property
    def units_dir(self) -> Path:
        """Folder holding the unit files, one sub-folder per chapter."""
        return self.root / "units"

    def records_dir(self, profile: str) -> Path:
        """Folder of the headline summaries of ``profile`` (all profiles but ``paper``)."""
        return self.root / "records" / profile

    def unit_key(self, chapter: str, config: Mapping[str, Any], trial: int) -> str:
        """Hash identifying one unit: chapter, canonical config, trial and code fingerprint."""
        payload = json.dumps(
            {
                "chapter": chapter,
                "config": provenance.canonical_json(config),
                "trial": int(trial),
                "code": self.fingerprint,
            },
            sort_keys=True,
        )
        return provenance.sha(payload, 20)

    def unit_path(self, chapter: str, config: Mapping[str, Any], trial: int) -> Path:
        """File of one unit; the name shows config hash and trial for people browsing the cache."""
        key = self.unit_key(chapter, config, trial)
        name = f"{provenance.config_hash(config)}_t{int(trial):03d}_{key}.jsonl"
        return self.units_dir / chapter / name

    def unit(
        self,
        chapter: str,
        config: Mapping[str, Any],
        trial: int,
        compute: Callable[[], list[dict[str, Any]]],
    ) -> pd.DataFrame:
        """Return the records of one unit, computing and storing them only if not stored yet.

        ``compute()`` returns a list of record dicts with at least ``dataset``, ``method``,
        ``metric`` and ``value`` (plus optional context such as ``stage``, ``task_i``,
        ``overlap``, ``headline``). Provenance columns are added: ``chapter``, ``trial``,
        ``config_json``, ``config_hash``, ``base_seed``, ``git_commit``, ``code_fingerprint``,
        ``unit_key``, ``python``, ``torch``, ``numpy``, ``sleeputils``, ``wall_time_s``,
        ``worker``, ``created``.
        """
        stored = self.cached(chapter, config, trial)
        if stored is not None:
            return stored
        start = time.perf_counter()
        records = compute()
        return self.save(chapter, config, trial, records, time.perf_counter() - start)

    def cached(self, chapter: str, config: Mapping[str, Any], trial: int) -> pd.DataFrame | None:
        """The stored records of one unit, or None if it is not stored, or is damaged (reported
        by path; the caller recomputes it and the new file replaces it)."""
        path = self.unit_path(chapter, config, trial) if self.enabled else None
        if path is None or not path.is_file():
            return None
        try:
            return read_unit(path)
        except (OSError, ValueError) as err:
            _report(path, err, "recomputing")
            return None

    def save(
        self,
        chapter: str,
        config: Mapping[str, Any],
        trial: int,
        records: list[dict[str, Any]],
        wall_time_s: float,
        worker: str = IN_PROCESS,
    ) -> pd.DataFrame:
        """Add provenance to one unit's computed records (``worker`` says who computed them)
        and write them atomically; the records as a DataFrame."""
        rows = self._with_provenance(chapter, config, trial, records, wall_time_s, worker)
        if self.enabled:
            path = self.unit_path(chapter, config, trial)
            provenance.atomic_write_text(path, unit_text(rows))
            session.note(session.STORED, key=self.unit_key(chapter, config, trial))
        return pd.DataFrame.from_records(rows)

    def _with_provenance(
        self,
        chapter: str,
        config: Mapping[str, Any],
        trial: int,
        records: list[dict[str, Any]],
        wall_time_s: float,
        worker: str = IN_PROCESS,
    ) -> list[dict[str, Any]]:
        """Check the records and add the provenance columns to each of them."""
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise TypeError(f"{chapter}: compute() must return a list of dicts")
        for record in records:
            missing = [key for key in REQUIRED_KEYS if key not in record]
            if missing:
                raise ValueError(f"{chapter}: record {record!r} lacks keys {missing}")
        extra = {
            "chapter": chapter,
            "trial": int(trial),
            "config_json": provenance.canonical_json(config),
            "config_hash": provenance.config_hash(config),
            "base_seed": config.get("seed"),  # the protocol derives the trial's seed from it
            "git_commit": provenance.git_commit(),
            "code_fingerprint": self.fingerprint,
            "unit_key": self.unit_key(chapter, config, trial),
            **provenance.package_versions(),
            "wall_time_s": round(wall_time_s, 3),
            "worker": worker,
            "created": provenance.utc_now(),
        }
        rows = []
        for record in records:
            row = {key: _plain(value) for key, value in record.items()}
            for key, value in extra.items():
                row.setdefault(key, value)  # a record may carry its own seed, say
            rows.append(row)
        return rows

    def load(self, chapter: str | None = None) -> pd.DataFrame:
        """All stored records (of one chapter, or of every chapter) as one DataFrame.

        Includes units of older code versions; filter on ``code_fingerprint`` or
        ``config_hash`` to select one run. A damaged unit is left out and reported by path (the
        next run that needs it recomputes it).
        """
        if not self.enabled:
            return pd.DataFrame()
        folder = self.units_dir / chapter if chapter else self.units_dir
        files = sorted(folder.rglob("*.jsonl")) if folder.is_dir() else []
        frames = []
        for path in files:
            try:
                frames.append(read_unit(path))
            except (OSError, ValueError) as err:
                _report(path, err, "skipping")
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _report(path: Path, err: Exception, doing: str) -> None:
    """Tell the running command about a damaged unit (it prints the path at the end), or warn
    when there is none."""
    if not session.note(session.DAMAGED, path=str(path), reason=str(err)):
        warnings.warn(f"{doing} damaged result unit {path}: {err}", stacklevel=3)


def unit_text(rows: list[dict[str, Any]]) -> str:
    """A unit file's text: one JSON record per line, then the trailer that proves them whole."""
    body = "".join(json.dumps(row, allow_nan=True) + "\n" for row in rows)
    trailer = {TRAILER: {"records": len(rows), "sha256": _digest(body)}}
    return body + json.dumps(trailer) + "\n"


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def read_unit(path: Path) -> pd.DataFrame:
    """The records of one unit file; :class:`DamagedUnit` unless its trailer vouches for them."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if not text:
        raise DamagedUnit("empty file")
    body, _, last = text.rstrip("\n").rpartition("\n")
    body = body + "\n" if body else ""
    try:
        trailer = json.loads(last)[TRAILER]
        count, digest = int(trailer["records"]), str(trailer["sha256"])
    except (ValueError, TypeError, KeyError):
        raise DamagedUnit("no trailer: cut short, or written before units had one") from None
    lines = body.splitlines()
    if len(lines) != count:
        raise DamagedUnit(f"{len(lines)} record line(s) where the trailer says {count}")
    if _digest(body) != digest:
        raise DamagedUnit("the records do not match the trailer's checksum")
    return pd.DataFrame.from_records([json.loads(line) for line in lines])
