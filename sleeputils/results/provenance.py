"""Provenance: where a number came from (code, configuration, machine, time).

Every stored result carries these fields so that a number in the book can be traced back to the
exact code and configuration that produced it, and so that the result store can tell whether a
stored unit is still valid (same configuration + same code → reuse).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

#: The file whose presence marks the project (book) root.
PROJECT_MARKER = "_toc.yml"

#: Package folder of ``sleeputils`` (this file lives in ``sleeputils/results/``).
PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: Parts of the package that cannot change a computed number (chapters, tables and figures, the
#: result store and checks, the command line). They are left out of the code fingerprint so that
#: editing a page, a figure or the CLI does not throw away hours of cached training runs.
FINGERPRINT_EXCLUDE: tuple[str, ...] = ("chapters/", "report/", "results/", "cli.py")

#: Torch threads every unit computes with, wherever it runs (``sleeputils.results.executor``):
#: the thread count changes how reductions are split, so it is part of the protocol.
UNIT_THREADS = 1

#: Packages whose versions are recorded beside every unit.
VERSIONED_PACKAGES: tuple[str, ...] = ("torch", "numpy", "numba", "sleeputils")

#: The locked environment `make setup` installs: every package but torch at one exact version.
LOCK_FILE = "requirements.lock"


def project_root(start: Path | None = None) -> Path | None:
    """Return the nearest folder at or above ``start`` (default: cwd) holding ``_toc.yml``.

    ``None`` when there is none, e.g. when the package is used outside the book's checkout.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_MARKER).is_file():
            return folder
    return None


def _jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types (tuples → lists, numpy scalars → Python, paths → str).

    Non-finite floats become strings so that the canonical form is valid, portable JSON.
    """
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy / torch scalars
        return _jsonable(value.item())
    if hasattr(value, "tolist"):  # numpy arrays
        return _jsonable(value.tolist())
    raise TypeError(f"cannot put a {type(value).__name__} into a result configuration: {value!r}")


def canonical_json(config: Mapping[str, Any]) -> str:
    """Serialise a configuration the same way every time (sorted keys, no spaces).

    Two configurations that differ only in key order or tuple-vs-list give the same text, and
    therefore the same hash.
    """
    return json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))


def sha(text: str, length: int = 16) -> str:
    """Hex SHA-256 of ``text``, shortened to ``length`` characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def config_hash(config: Mapping[str, Any]) -> str:
    """Short, stable hash of a configuration (of its canonical JSON)."""
    return sha(canonical_json(config), 12)


def code_fingerprint(
    package_dir: Path = PACKAGE_DIR, exclude: tuple[str, ...] = FINGERPRINT_EXCLUDE
) -> str:
    """Hash of the contents of every ``*.py`` and ``*.yaml`` file of the package (minus
    ``exclude``).

    Any change to the code that computes results changes the fingerprint, which invalidates the
    stored units: cached numbers are only reused when they would come out of the same code. The
    YAML files count because the SRC hyperparameter vectors live in one (``sleep/presets.yaml``).
    ``exclude`` holds path prefixes relative to ``package_dir`` (``"book/"``, ``"cli.py"``).
    """
    digest = hashlib.sha256()
    files = [*package_dir.rglob("*.py"), *package_dir.rglob("*.yaml")]
    for path in sorted(files, key=lambda p: p.relative_to(package_dir).as_posix()):
        rel = path.relative_to(package_dir).as_posix()
        if rel.startswith(exclude) or "__pycache__" in path.parts:
            continue
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _git(args: list[str], cwd: Path) -> str | None:
    """Run a read-only git command; ``None`` if git is missing or ``cwd`` is not a repository."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit(repo: Path | None = None) -> str:
    """Commit of the checkout holding the package, with ``-dirty`` if tracked files changed.

    ``"unknown"`` outside a git repository. Uses ``--no-optional-locks`` so that it never takes
    the index lock (it may run while someone else commits).
    """
    repo = repo or PACKAGE_DIR.parent
    head = _git(["rev-parse", "HEAD"], repo)
    if not head:
        return "unknown"
    status = _git(["status", "--porcelain", "--untracked-files=no"], repo)
    return f"{head}-dirty" if status else head


#: CPU flags that change which vector kernels torch and numba pick (and so float rounding).
SIMD_FLAGS = ("avx", "fma", "amx", "sse4", "asimd", "sve")


@lru_cache(maxsize=1)
def machine() -> str:
    """What decides float rounding here: CPU, cores, torch threads per unit, Python, torch,
    numpy, numba.

    Two runs with the same value reproduce every trial bit for bit (seeded and deterministic);
    the check compares trials tightly only then (``sleeputils.results.reference``).
    """
    model = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8").split("\n\n")[0]
    except OSError:
        info = ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    if fields:  # a virtual CPU's name can hide its generation: family, model and SIMD say it
        simd = sorted(f for f in fields.get("flags", "").split() if f.startswith(SIMD_FLAGS))
        model = (f"{fields.get('model name', model)} (family {fields.get('cpu family')} model "
                 f"{fields.get('model')}; {' '.join(simd)})")
    versions = package_versions()
    parts = [model, f"{os.cpu_count()} cores", f"{UNIT_THREADS} torch thread per unit",
             platform.machine(),
             *(f"{k} {versions[k]}" for k in ("python", "torch", "numpy", "numba")),
             lock_state()]
    return " / ".join(parts)


def lock_state(lock: Path = PACKAGE_DIR.parent / LOCK_FILE) -> str:
    """``lock <hash>`` (the first 12 hex digits of ``sha256sum requirements.lock``) when every
    package the lock pins is installed at its version; else ``unlocked`` and how many differ.

    Part of :func:`machine`: two environments installed from the same lock compute alike,
    while any other package set is named as different, even with the same numpy and numba.
    """
    try:
        text = lock.read_bytes()
    except OSError:
        return f"unlocked (no {LOCK_FILE})"
    pins = dict(_PIN.findall(text.decode("utf-8")))
    differ = []
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ.append(name)
    if differ:
        return f"unlocked ({len(differ)} of {len(pins)} {LOCK_FILE} pins differ)"
    return f"lock {hashlib.sha256(text).hexdigest()[:12]}"


#: A pin of requirements.lock: ``name==version`` at the start of a line.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==([^\s;\\]+)", re.MULTILINE)


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def utc_now() -> str:
    """Current time, UTC, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one.

    The text goes to a temporary file in the same folder, is flushed to disk, and then replaces
    ``path`` in one ``os.replace`` step. If anything fails the temporary file is removed, so an
    interrupted run never leaves a half-written result behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
