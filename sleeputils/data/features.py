"""CIFAR-10 and CUB-200 as pre-extracted 2048-d feature vectors.

The original experiments never train on CIFAR-10 or CUB-200 pixels: they use ResNet feature
matrices stored in MATLAB files,

* ``cifar_data_1000_256_tinyimagenet.mat`` with ``train_x``, ``train_y`` (one-hot), ``test_x``,
  ``test_y`` (one-hot);
* ``cub200_resnet50_train.mat`` and ``cub200_resnet50_test.mat``, each with ``X`` (n, 2048) and
  ``y`` (labels 1..200, the standard 5994/5794 split).

Neither file ships with any package, so the loaders read a folder the user provides: the ``root``
argument, else ``$SLEEPUTILS_CIFAR10_DIR`` / ``$SLEEPUTILS_CUB200_DIR``, else
``$SLEEPUTILS_DATA/cifar10`` / ``$SLEEPUTILS_DATA/cub200``. Instead of the ``.mat`` files a folder
may hold ``cifar10_features.npz`` / ``cub200_features.npz`` with ``x_train``, ``y_train``,
``x_test``, ``y_test`` (labels 0-based integers or one-hot). Integer labels in ``.mat`` files are
taken as 1-based (MATLAB convention).

Scaling: the original CIFAR-10 script divides ``train_x`` by ``max(train_x(:))`` and ``test_x`` by
``max(test_x(:))`` -- each split by its *own* global maximum, a quirk we keep. The original CUB
script feeds raw features; we apply the same per-split rule so the data meet ``Dataset``'s [0, 1]
contract (a global scale factor; note it when comparing against the original numbers).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataUnavailableError, DataVerificationError
from .sources import data_home, env_folder, is_offline
from .sources import download as download_file
from .splits import Dataset

ZENODO_RECORD = "7262424"
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class FeatureSpec:
    """File names and expected sizes of one feature data set.

    ``train_per_class``/``test_per_class`` are exact per-class counts when the data set is
    balanced; None means "every class present, totals match" (CUB-200 is not balanced).
    """

    name: str
    title: str
    n_classes: int
    train_total: int
    test_total: int
    train_per_class: int | None
    test_per_class: int | None
    folder_env: str
    mat_files: tuple[str, ...]
    npz_file: str
    n_features: int = 2048


CIFAR10 = FeatureSpec(
    name="cifar10",
    title="CIFAR-10 features",
    n_classes=10,
    train_total=50000,
    test_total=10000,
    train_per_class=5000,
    test_per_class=1000,
    folder_env="SLEEPUTILS_CIFAR10_DIR",
    mat_files=("cifar_data_1000_256_tinyimagenet.mat",),
    npz_file="cifar10_features.npz",
)

CUB200 = FeatureSpec(
    name="cub200",
    title="CUB-200 features",
    n_classes=200,
    train_total=5994,
    test_total=5794,
    train_per_class=None,
    test_per_class=None,
    folder_env="SLEEPUTILS_CUB200_DIR",
    mat_files=("cub200_resnet50_train.mat", "cub200_resnet50_test.mat"),
    npz_file="cub200_features.npz",
)


# --- reading containers -------------------------------------------------------------------------


def _load_mat(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Variables ``keys`` of a MATLAB file; v7.3 (HDF5) files need h5py."""
    import scipy.io

    try:
        found = scipy.io.loadmat(path, variable_names=list(keys))
    except NotImplementedError:  # scipy's signal for a v7.3 (HDF5) file
        found = _load_mat_v73(path, keys)
    except (ValueError, TypeError, OSError) as exc:
        raise DataVerificationError(f"{path}: not a readable MATLAB file ({exc})") from exc
    missing = [k for k in keys if k not in found]
    if missing:
        present = sorted(k for k in found if not k.startswith("__"))
        raise DataVerificationError(f"{path}: missing variable(s) {missing}; found {present}")
    return {k: np.asarray(found[k]) for k in keys}


def _load_mat_v73(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Read a MATLAB v7.3 file with h5py; MATLAB is column-major, so arrays are transposed."""
    try:
        import h5py
    except ImportError as exc:
        raise DataUnavailableError(
            f"{path} is a MATLAB v7.3 (HDF5) file and reading it needs h5py, which is not "
            "installed: pip install h5py (or re-save the file in MATLAB with save(..., '-v7'))"
        ) from exc
    with h5py.File(path, "r") as fh:
        return {k: np.asarray(fh[k]).T for k in keys if k in fh}


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """The four split arrays of a feature ``.npz``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in SPLIT_KEYS if k in npz.files}
            present = sorted(npz.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataVerificationError(f"{path}: not a readable .npz file ({exc})") from exc
    missing = [k for k in SPLIT_KEYS if k not in arrays]
    if missing:
        raise DataVerificationError(f"{path}: missing array(s) {missing}; found {present}")
    return arrays


def _read_container(spec: FeatureSpec, kind: str, paths: list[Path]) -> dict[str, np.ndarray]:
    """Raw split arrays (x_train, y_train, x_test, y_test) from the files found for ``spec``."""
    if kind == "npz":
        return _load_npz(paths[0])
    if len(paths) == 1:  # CIFAR-10: one file with both splits
        mat = _load_mat(paths[0], ("train_x", "train_y", "test_x", "test_y"))
        return {"x_train": mat["train_x"], "y_train": mat["train_y"],
                "x_test": mat["test_x"], "y_test": mat["test_y"]}
    train, test = (_load_mat(p, ("X", "y")) for p in paths)  # CUB-200: one file per split
    return {"x_train": train["X"], "y_train": train["y"], "x_test": test["X"], "y_test": test["y"]}


# --- conversion and checks ----------------------------------------------------------------------


def _features(x: np.ndarray, spec: FeatureSpec, what: str) -> np.ndarray:
    """Check a feature matrix (samples in rows; a transposed matrix is turned round)."""
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] != spec.n_features and x.shape[0] == spec.n_features:
        x = x.T
    if x.ndim != 2 or x.shape[1] != spec.n_features or x.shape[0] == 0:
        raise DataVerificationError(
            f"{spec.title} {what}: expected an (n, {spec.n_features}) matrix, got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise DataVerificationError(f"{spec.title} {what}: features must be finite numbers")
    if x.min() < 0 or x.max() <= 0:
        raise DataVerificationError(
            f"{spec.title} {what}: features must be non-negative with a positive maximum "
            f"(post-ReLU ResNet activations); found range [{x.min()}, {x.max()}]"
        )
    return x


def _labels(y: np.ndarray, spec: FeatureSpec, one_based: bool, what: str) -> np.ndarray:
    """0-based int64 class indices from one-hot rows or integer labels."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:  # MATLAB stores vectors as (n, 1) or (1, n)
        y = y.reshape(-1)
    if y.ndim == 2:
        if y.shape[1] != spec.n_classes and y.shape[0] == spec.n_classes:
            y = y.T
        if y.shape[1] != spec.n_classes:
            raise DataVerificationError(
                f"{spec.title} {what}: one-hot labels need {spec.n_classes} columns, got {y.shape}"
            )
        if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
            raise DataVerificationError(
                f"{spec.title} {what}: one-hot rows must hold a single 1 and zeros elsewhere"
            )
        return np.argmax(y, axis=1).astype(np.int64)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.number):
        raise DataVerificationError(f"{spec.title} {what}: cannot read labels of shape {y.shape}")
    if not np.all(y == np.round(y)):
        raise DataVerificationError(f"{spec.title} {what}: labels must be whole numbers")
    first = 1 if one_based else 0
    if y.min() < first or y.max() > spec.n_classes - 1 + first:
        raise DataVerificationError(
            f"{spec.title} {what}: labels span {int(y.min())}..{int(y.max())}, expected "
            f"{first}..{spec.n_classes - 1 + first}"
        )
    return y.astype(np.int64) - first


def verify_counts(spec: FeatureSpec, y_train: np.ndarray, y_test: np.ndarray) -> None:
    """Check split sizes and class coverage (exact per-class counts where balanced)."""
    for split, y, total, per_class in (
        ("train", y_train, spec.train_total, spec.train_per_class),
        ("test", y_test, spec.test_total, spec.test_per_class),
    ):
        counts = np.bincount(y, minlength=spec.n_classes)
        hint = " (pass verify=False to load a deliberate subset)"
        if per_class is not None and not (counts == per_class).all():
            raise DataVerificationError(
                f"{spec.title} {split}: class counts {counts.tolist()}, expected {per_class} "
                f"per class{hint}"
            )
        absent = np.flatnonzero(counts == 0)
        if absent.size:
            raise DataVerificationError(
                f"{spec.title} {split}: {absent.size} of {spec.n_classes} classes have no "
                f"examples (0-based: {absent[:10].tolist()}{'...' if absent.size > 10 else ''})"
                f"{hint}"
            )
        if len(y) != total:
            raise DataVerificationError(
                f"{spec.title} {split}: {len(y)} examples, expected {total}{hint}"
            )


def scale_by_global_max(x: np.ndarray) -> np.ndarray:
    """``x / max(x)`` as float32: the original CIFAR-10 normalisation, applied per split."""
    return (x / x.max()).astype(np.float32)


def features_to_dataset(
    spec: FeatureSpec,
    arrays: Mapping[str, np.ndarray],
    source: str,
    one_based: bool = False,
    verify: bool = True,
) -> Dataset:
    """Check, convert and scale raw split arrays into a ``Dataset``.

    Structure (shapes, feature width, label range, one-hot validity) is always checked; class
    counts only when ``verify`` is true. Train and test are each divided by their own maximum.
    """
    x_train = _features(arrays["x_train"], spec, "train")
    x_test = _features(arrays["x_test"], spec, "test")
    y_train = _labels(arrays["y_train"], spec, one_based, "train labels")
    y_test = _labels(arrays["y_test"], spec, one_based, "test labels")
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if len(x) != len(y):
            raise DataVerificationError(
                f"{spec.title} {split}: {len(x)} feature rows but {len(y)} labels"
            )
    if verify:
        verify_counts(spec, y_train, y_test)
    else:
        source += " (counts not verified: verify=False)"
    return Dataset(
        name=spec.name,
        x_train=scale_by_global_max(x_train),
        y_train=y_train,
        x_test=scale_by_global_max(x_test),
        y_test=y_test,
        n_classes=spec.n_classes,
        image_shape=None,
        source=source,
    )


# --- locating files -----------------------------------------------------------------------------


def candidate_folders(spec: FeatureSpec, root: str | Path | None = None) -> list[Path]:
    """Folders searched for ``spec``'s files: ``root`` alone if given, else env var + cache."""
    if root is not None:
        return [Path(root).expanduser()]
    folders = [env_folder(spec.folder_env), data_home() / spec.name]
    return [f for f in folders if f is not None]


def find_feature_files(spec: FeatureSpec, folder: Path) -> tuple[str, list[Path]] | None:
    """(``"mat"`` or ``"npz"``, paths) for the files in ``folder``; the .mat files win."""
    mats = [folder / name for name in spec.mat_files]
    if all(p.is_file() for p in mats):
        return "mat", mats
    npz = folder / spec.npz_file
    if npz.is_file():
        return "npz", [npz]
    return None


def _missing_message(spec: FeatureSpec, folders: Sequence[Path], extra: str = "") -> str:
    """One-paragraph explanation of which files to put where."""
    mats = " + ".join(spec.mat_files)
    looked = ", ".join(str(f) for f in folders)
    partial = [
        f"{f / name} exists but not its partner"
        for f in folders
        for name in spec.mat_files
        if len(spec.mat_files) > 1 and (f / name).is_file()
    ]
    if spec.name == CIFAR10.name:
        what = (f"{spec.mat_files[0]} (variables train_x, train_y one-hot, test_x, test_y; from "
                f"https://zenodo.org/records/{ZENODO_RECORD})")
        fetch = (" or fetch it with sleeputils.data.features.download_cifar10_features() "
                 "(or load_cifar10(download=True))")
    else:
        what = (f"{mats} (variables X of shape (n, {spec.n_features}) and y with labels "
                f"1..{spec.n_classes})")
        fetch = ""
    return (
        f"{spec.title} are not available: no {mats} or {spec.npz_file} in {looked}"
        f"{'; ' + '; '.join(partial) if partial else ''}{extra}. Place {what} in "
        f"{data_home() / spec.name} or in a folder named by {spec.folder_env} (or pass root=)"
        f"{fetch}; a {spec.npz_file} with x_train, y_train, x_test, y_test works too."
    )


# --- public loaders -----------------------------------------------------------------------------


def load_features(
    spec: FeatureSpec, root: str | Path | None = None, verify: bool = True
) -> Dataset:
    """Load ``spec`` from the first candidate folder that holds its files."""
    folders = candidate_folders(spec, root)
    for folder in folders:
        found = find_feature_files(spec, folder)
        if found is None:
            continue
        kind, paths = found
        arrays = _read_container(spec, kind, paths)
        label = "MATLAB file" if kind == "mat" else "npz file"
        source = f"{label}{'s' if len(paths) > 1 else ''} {', '.join(map(str, paths))}"
        return features_to_dataset(spec, arrays, source, one_based=kind == "mat", verify=verify)
    raise DataUnavailableError(_missing_message(spec, folders))


def zenodo_url(filename: str, record: str = ZENODO_RECORD) -> str:
    """Download URL of ``filename`` in a Zenodo record."""
    return f"https://zenodo.org/records/{record}/files/{filename}?download=1"


def download_cifar10_features(
    dest_dir: str | Path | None = None,
    md5: str | None = None,
    offline: bool | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download the CIFAR-10 feature file from Zenodo record 7262424 and return its path.

    The file goes to ``dest_dir`` (default ``$SLEEPUTILS_DATA/cifar10``), written atomically.
    If ``md5`` is given the download is rejected unless its MD5 matches; no checksum is built in
    because none could be verified here, but the loader still checks shapes and class counts.
    """
    name = CIFAR10.mat_files[0]
    dest = Path(dest_dir).expanduser() if dest_dir is not None else data_home() / CIFAR10.name
    url = zenodo_url(name)
    if is_offline(offline):
        raise DataUnavailableError(
            f"{CIFAR10.title}: download of {url} skipped because offline mode is on; "
            f"download it by hand and place {name} in {dest}"
        )
    try:
        return download_file(url, dest / name, timeout=timeout, md5=md5)
    except OSError as exc:
        raise DataUnavailableError(
            f"{CIFAR10.title}: could not download {url} ({exc}); download it by hand and "
            f"place {name} in {dest} or in a folder named by {CIFAR10.folder_env}"
        ) from exc


def load_cifar10(
    root: str | Path | None = None,
    *,
    verify: bool = True,
    download: bool = False,
    offline: bool | None = None,
    md5: str | None = None,
) -> Dataset:
    """CIFAR-10 as 2048-d features, each split divided by its own global maximum (see module).

    With ``verify`` (default) the split must be complete: 5000 examples per class in train and
    1000 in test. ``download=True`` fetches the feature file from Zenodo when it is not found
    (it is large, so this is never done implicitly); ``md5`` then checks the download.
    """
    try:
        return load_features(CIFAR10, root, verify=verify)
    except DataUnavailableError:
        if not download:
            raise
    target = Path(root).expanduser() if root is not None else data_home() / CIFAR10.name
    download_cifar10_features(target, md5=md5, offline=offline)
    return load_features(CIFAR10, target, verify=verify)


def load_cub200(root: str | Path | None = None, *, verify: bool = True) -> Dataset:
    """CUB-200 as 2048-d ResNet-50 features, labels 1..200 mapped to 0..199.

    With ``verify`` (default) all 200 classes must be present in both splits and the sizes must
    be the standard 5994 train / 5794 test. Each split is divided by its own maximum.
    """
    return load_features(CUB200, root, verify=verify)
