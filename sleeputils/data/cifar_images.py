"""CIFAR-10 and CIFAR-100 as images, for WSCL's CIFAR-10 benchmark (book/methods/wscl.md,
wscl-cifar10).

Both come from the "python version" archives of the CIFAR site, which these machines cannot
download: put ``cifar-10-python.tar.gz`` (or its unpacked ``cifar-10-batches-py`` folder) and
``cifar-100-python.tar.gz`` (or ``cifar-100-python``) in ``$SLEEPUTILS_CIFAR_IMAGES_DIR`` or
``~/.cache/sleeputils/cifar-images``. Each batch file is a pickle holding ``data`` (uint8 rows of
3072 values, the red, green and blue planes of a 32 × 32 image in turn) and its labels.

* ``cifar10-images``: the 10 classes, 50,000 training and 10,000 test images.
* ``cifar100-dreams``: WSCL's dream data for CIFAR-10, the CIFAR-100 images of the 12 coarse
  superclasses that do not resemble a CIFAR-10 class, labelled 0..11 in superclass order
  (:data:`DREAM_SUPERCLASSES`), 2,500 training images each.
"""

from __future__ import annotations

import pickle
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import DataUnavailableError, DataVerificationError
from .sources import data_home, env_folder
from .splits import Dataset

ENV_FOLDER = "SLEEPUTILS_CIFAR_IMAGES_DIR"
IMAGE_SHAPE = (3, 32, 32)
SITE = "https://www.cs.toronto.edu/~kriz/"
#: The CIFAR-100 coarse superclasses WSCL dreams on: all but the 8 that resemble CIFAR-10 classes
#: (large carnivores 8, large omnivores and herbivores 11, medium mammals 12, non-insect
#: invertebrates 13, reptiles 15, small mammals 16, vehicles 1 18, vehicles 2 19).
DREAM_SUPERCLASSES = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 14, 17)
#: (archive, folder inside it, batch files per split) of each data set.
CIFAR10 = ("cifar-10-python.tar.gz", "cifar-10-batches-py",
           {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]})
CIFAR100 = ("cifar-100-python.tar.gz", "cifar-100-python", {"train": ["train"], "test": ["test"]})
#: Images per class of each split, as the archives hold them (checked on load).
PER_CLASS = {"cifar10-images": {"train": 5000, "test": 1000},
             "cifar100-dreams": {"train": 2500, "test": 500}}


def folders(root: str | Path | None = None) -> list[Path]:
    """Where the archives are looked for: ``root`` alone if given, else env var + cache."""
    if root is not None:
        return [Path(root).expanduser()]
    return [f for f in (env_folder(ENV_FOLDER), data_home() / "cifar-images") if f is not None]


def _read_batches(folder: Path, archive_name: str, inner: str,
                  files: Sequence[str]) -> list[dict] | None:
    """The unpickled batch files from ``folder/inner`` or from the archive in ``folder``."""
    unpacked = folder / inner
    if all((unpacked / f).is_file() for f in files):
        return [_unpickle((unpacked / f).read_bytes()) for f in files]
    archive = folder / archive_name
    if not archive.is_file():
        return None
    with tarfile.open(archive, "r:gz") as tar:
        try:
            return [_unpickle(tar.extractfile(f"{inner}/{f}").read()) for f in files]
        except KeyError as missing:
            raise DataVerificationError(f"{archive} lacks {missing}") from None


def _unpickle(raw: bytes) -> dict:
    return {k.decode() if isinstance(k, bytes) else k: v
            for k, v in pickle.loads(raw, encoding="bytes").items()}


def _images(batches: list[dict], what: str) -> np.ndarray:
    x = np.concatenate([np.asarray(b["data"]) for b in batches])
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
        raise DataVerificationError(f"{what}: expected uint8 rows of 3072 values, got "
                                    f"{x.dtype} {x.shape}")
    return x.astype(np.float32) / np.float32(255)


def _load(root: str | Path | None, which: tuple[str, str, dict[str, list[str]]],
          title: str) -> tuple[dict[str, list[dict]], Path]:
    archive, inner, files = which
    looked = folders(root)
    for folder in looked:
        train = _read_batches(folder, archive, inner, files["train"])
        if train is not None:
            test = _read_batches(folder, archive, inner, files["test"])
            if test is None:
                raise DataVerificationError(f"{title}: {folder} holds the training batches but "
                                            "not the test batch")
            return {"train": train, "test": test}, folder
    raise DataUnavailableError(
        f"{title} images are not available: no {archive} or {inner}/ in "
        f"{', '.join(map(str, looked))}. Download {SITE}{archive} on a machine with internet and "
        f"place it in {data_home() / 'cifar-images'} or in a folder named by {ENV_FOLDER}.")


def load_cifar10_images(root: str | Path | None = None) -> Dataset:
    """CIFAR-10 as (n, 3072) float images in [0, 1], channel planes in turn."""
    parts, folder = _load(root, CIFAR10, "CIFAR-10")
    x = {s: _images(b, f"CIFAR-10 {s}") for s, b in parts.items()}
    y = {s: np.concatenate([np.asarray(b["labels"]) for b in parts[s]]).astype(np.int64)
         for s in parts}
    _check_counts("CIFAR-10", y, 10, PER_CLASS["cifar10-images"])
    return Dataset("cifar10-images", x["train"], y["train"], x["test"], y["test"], 10,
                   IMAGE_SHAPE, f"CIFAR-10 python batches in {folder}")


def load_cifar100_dreams(root: str | Path | None = None) -> Dataset:
    """The CIFAR-100 images of :data:`DREAM_SUPERCLASSES`, labelled by their rank there."""
    parts, folder = _load(root, CIFAR100, "CIFAR-100")
    out = {}
    for split, batches in parts.items():
        x = _images(batches, f"CIFAR-100 {split}")
        coarse = np.concatenate([np.asarray(b["coarse_labels"]) for b in batches])
        keep = np.isin(coarse, DREAM_SUPERCLASSES)
        rank = np.searchsorted(np.array(DREAM_SUPERCLASSES), coarse[keep]).astype(np.int64)
        out[split] = (x[keep], rank)
    n = len(DREAM_SUPERCLASSES)
    _check_counts("CIFAR-100 dream superclasses", {s: v[1] for s, v in out.items()}, n,
                  PER_CLASS["cifar100-dreams"])
    return Dataset("cifar100-dreams", *out["train"], *out["test"], n, IMAGE_SHAPE,
                   f"CIFAR-100 python batches in {folder}, {n} coarse superclasses")


def _check_counts(title: str, y: dict[str, np.ndarray], n: int, per: dict[str, int]) -> None:
    for split, labels in y.items():
        counts = np.bincount(labels, minlength=n)
        if len(counts) != n or not (counts == per[split]).all():
            raise DataVerificationError(f"{title} {split}: class counts {counts.tolist()}, "
                                        f"expected {per[split]} each")
