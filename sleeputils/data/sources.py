"""Generic machinery for loading a data set from the first source that works.

A *source* is a labelled function that either returns verified data or says why it could not
(``SourceSkipped`` for "not here", ``DataVerificationError`` for "here but wrong"). ``run_chain``
tries sources in order and, if all fail, raises one ``DataUnavailableError`` listing every attempt
and how to get the data, so the user sees the whole picture at once.

This module also holds what every source shares: the cache folder (``$SLEEPUTILS_DATA``), the
offline switch (``$SLEEPUTILS_OFFLINE``), atomic file writes and a small urllib downloader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from .errors import DataUnavailableError, DataVerificationError

log = logging.getLogger(__name__)

ENV_DATA_HOME = "SLEEPUTILS_DATA"
ENV_OFFLINE = "SLEEPUTILS_OFFLINE"
DEFAULT_DATA_HOME = Path("~/.cache/sleeputils")
DOWNLOAD_TIMEOUT = 15.0  # seconds without progress before a download attempt is abandoned
_TRUE = {"1", "true", "yes", "on"}


def data_home() -> Path:
    """The cache folder: ``$SLEEPUTILS_DATA`` if set, else ``~/.cache/sleeputils``."""
    return Path(os.environ.get(ENV_DATA_HOME) or DEFAULT_DATA_HOME).expanduser()


def is_offline(offline: bool | None = None) -> bool:
    """Whether downloads are forbidden: the argument if given, else ``$SLEEPUTILS_OFFLINE``."""
    if offline is not None:
        return bool(offline)
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in _TRUE


def env_folder(var: str) -> Path | None:
    """The folder named by environment variable ``var``, or None when it is unset or empty."""
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


class SourceSkipped(Exception):  # noqa: N818 - a control-flow signal, not an error condition
    """A source does not have the data (not installed, folder absent, offline, ...)."""


@dataclass(frozen=True, eq=False)
class RawSplits:
    """Verified uint8 images (n, pixels) and uint8 labels, plus where they came from."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    source: str


@dataclass(frozen=True)
class Source:
    """One way of obtaining a data set: ``fetch`` returns verified data or raises."""

    label: str
    fetch: Callable[[], RawSplits]


def run_chain(title: str, sources: Sequence[Source], how_to_get: str) -> RawSplits:
    """Return the data of the first source that succeeds, else raise ``DataUnavailableError``.

    A source that holds data failing verification is reported and skipped rather than fatal:
    the next source may well hold the genuine data, and the final error lists the failure.
    """
    attempts: list[str] = []
    for src in sources:
        try:
            return src.fetch()
        except SourceSkipped as exc:
            attempts.append(f"{src.label}: {exc}")
        except DataVerificationError as exc:
            log.warning("%s: %s rejected: %s", title, src.label, exc)
            attempts.append(f"{src.label}: rejected ({exc})")
    tried = "; ".join(f"({i}) {a}" for i, a in enumerate(attempts, start=1))
    raise DataUnavailableError(f"{title} is not available. Tried: {tried}. To get it: {how_to_get}")


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path``; on success move it over ``path`` atomically.

    Readers therefore never see a half-written file, even if the process dies mid-write; on error
    the temporary file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache is ordinary readable data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_raw_cache(path: Path, raw: RawSplits) -> None:
    """Store verified splits as an uncompressed ``.npz`` (fast to load) plus their origin."""
    with atomic_writer(path) as fh:
        np.savez(
            fh,
            x_train=raw.x_train,
            y_train=raw.y_train,
            x_test=raw.x_test,
            y_test=raw.y_test,
            source=np.array(raw.source),
        )


def load_raw_cache(path: Path, verify: Callable[[RawSplits], None]) -> RawSplits | None:
    """Load a cache written by ``save_raw_cache`` and re-verify it; None if absent or corrupt.

    A corrupt or stale cache is only logged, so the caller rebuilds it from a real source.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = RawSplits(
                x_train=npz["x_train"],
                y_train=npz["y_train"],
                x_test=npz["x_test"],
                y_test=npz["y_test"],
                source=str(npz["source"]),
            )
        verify(raw)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring corrupt cache %s (%s); rebuilding it", path, exc)
        return None
    return raw


def download(
    url: str, dest: Path, timeout: float = DOWNLOAD_TIMEOUT, md5: str | None = None
) -> Path:
    """Download ``url`` to ``dest`` atomically; check the MD5 of the bytes if one is given.

    ``timeout`` bounds each network wait (connect or read), not the whole transfer, so large
    files still work while a dead mirror fails fast. Raises ``OSError`` (including urllib's
    ``URLError``) on network failure and ``DataVerificationError`` on a checksum mismatch.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "sleeputils-data/1"})
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_writer(dest) as fh:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                fh.write(chunk)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise DataVerificationError(f"{url}: md5 {digest.hexdigest()}, expected {md5}")
    return dest
