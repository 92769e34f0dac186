"""Data layer of the report: verified loading of every data set, task splits, toy patches.

``load_dataset(name)`` returns a ``Dataset`` (float32 inputs in [0, 1], int64 labels) for
``"mnist"``, ``"fashion"``, ``"cifar10"``, ``"cub200"``, ``"cifar10-images"`` or
``"cifar100-dreams"``. MNIST and Fashion-MNIST come from the
first working source (npz cache, user folder, installed package, download; see
``sleeputils.data.mnist``); CIFAR-10 and CUB-200 are pre-extracted ResNet features that the user
must provide (see ``sleeputils.data.features``), and so are the CIFAR images of WSCL's benchmark
(``sleeputils.data.cifar_images``). When data cannot be found a
``DataUnavailableError`` says what was tried and how to get it.
"""

from __future__ import annotations

from pathlib import Path

from .cifar_images import load_cifar10_images, load_cifar100_dreams
from .errors import DataUnavailableError, DataVerificationError
from .features import load_cifar10, load_cub200
from .mnist import load_fashion, load_mnist
from .patches import Patches, make_patches
from .sources import data_home
from .splits import Dataset, Task, class_incremental_tasks, subset_seen

DATASETS: tuple[str, ...] = ("mnist", "fashion", "cifar10", "cub200", "cifar10-images",
                             "cifar100-dreams")

__all__ = [
    "DATASETS",
    "DataUnavailableError",
    "DataVerificationError",
    "Dataset",
    "Patches",
    "Task",
    "class_incremental_tasks",
    "data_home",
    "load_dataset",
    "make_patches",
    "prepare_all",
    "subset_seen",
]


def load_dataset(
    name: str, root: str | Path | None = None, offline: bool | None = None
) -> Dataset:
    """Load data set ``name`` (one of ``DATASETS``), verified.

    ``root`` is a folder holding the data set's files, overriding its environment variable;
    ``offline=True`` (or ``$SLEEPUTILS_OFFLINE=1``) forbids downloads. CIFAR-10 features are never
    downloaded implicitly; use ``sleeputils.data.features.load_cifar10(download=True)``.
    An unknown name raises ``ValueError`` before any file or network access.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if key == "mnist":
        return load_mnist(root=root, offline=offline)
    if key == "fashion":
        return load_fashion(root=root, offline=offline)
    if key == "cifar10":
        return load_cifar10(root=root, offline=offline)
    if key == "cifar10-images":
        return load_cifar10_images(root=root)
    if key == "cifar100-dreams":
        return load_cifar100_dreams(root=root)
    return load_cub200(root=root)


def prepare_all(offline: bool | None = None) -> list[str]:
    """Load every data set that can be loaded; one human-readable status line per data set.

    Each line reads ``<name> OK <train>/<test> ... from <source>`` or ``<name> missing: <why>``
    (or ``<name> INVALID: <why>`` for data that was found but failed verification). Loading fills
    the npz caches, so this doubles as a "download and check everything" step.
    """
    lines = []
    width = max(map(len, DATASETS))
    for name in DATASETS:
        try:
            ds = load_dataset(name, offline=offline)
        except DataUnavailableError as exc:
            lines.append(f"{name:<{width}}  missing: {exc}")
            continue
        except DataVerificationError as exc:
            lines.append(f"{name:<{width}}  INVALID: {exc}")
            continue
        lines.append(
            f"{name:<{width}}  OK  train={ds.n_train} test={ds.n_test} "
            f"classes={ds.n_classes} features={ds.n_features}  from {ds.source}"
        )
        del ds
    return lines
