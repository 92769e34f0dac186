"""CIFAR-10 and CUB-200 feature loaders on tiny .mat and .npz fixtures written here."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
import scipy.io

from sleeputils.data import features
from sleeputils.data.errors import DataUnavailableError, DataVerificationError

D = 2048


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Private cache folder, offline, and no feature folders from the caller's environment."""
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "1")
    for var in ("SLEEPUTILS_CIFAR10_DIR", "SLEEPUTILS_CUB200_DIR"):
        monkeypatch.delenv(var, raising=False)


def feats(n: int, scale: float, seed: int) -> np.ndarray:
    """Non-negative float64 features whose maximum is exactly ``scale``."""
    x = np.random.default_rng(seed).uniform(0.0, scale, size=(n, D))
    x[0, 0] = scale
    return x


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[labels]


def cifar_labels(per_class: int) -> np.ndarray:
    return np.repeat(np.arange(10), per_class)


@pytest.fixture
def small_cifar(monkeypatch):
    """Make 3 train / 1 test example per class count as a complete CIFAR-10 split."""
    spec = dataclasses.replace(
        features.CIFAR10, train_total=30, test_total=10, train_per_class=3, test_per_class=1
    )
    monkeypatch.setattr(features, "CIFAR10", spec)
    return spec


def write_cifar_mat(folder, train_per_class=3, test_per_class=1, train_max=7.5, test_max=3.0):
    folder.mkdir(parents=True, exist_ok=True)
    ytr, yte = cifar_labels(train_per_class), cifar_labels(test_per_class)
    scipy.io.savemat(
        folder / "cifar_data_1000_256_tinyimagenet.mat",
        {
            "train_x": feats(len(ytr), train_max, 1),
            "train_y": one_hot(ytr, 10),
            "test_x": feats(len(yte), test_max, 2),
            "test_y": one_hot(yte, 10),
        },
    )
    return ytr, yte


def test_cifar_mat_loads_with_per_split_max_scaling(tmp_path, small_cifar):
    ytr, yte = write_cifar_mat(tmp_path / "c", train_max=7.5, test_max=3.0)
    ds = features.load_cifar10(tmp_path / "c")
    raw = scipy.io.loadmat(tmp_path / "c" / "cifar_data_1000_256_tinyimagenet.mat")
    assert ds.x_train.shape == (30, D) and ds.x_test.shape == (10, D)
    assert ds.x_train.dtype == np.float32 and ds.image_shape is None
    # each split divided by its own maximum (7.5 and 3.0), not a common one
    np.testing.assert_allclose(ds.x_train, raw["train_x"] / 7.5, rtol=1e-6)
    np.testing.assert_allclose(ds.x_test, raw["test_x"] / 3.0, rtol=1e-6)
    assert ds.x_train.max() == 1.0 and ds.x_test.max() == 1.0
    np.testing.assert_array_equal(ds.y_train, ytr)
    np.testing.assert_array_equal(ds.y_test, yte)
    assert ds.y_train.dtype == np.int64
    assert ds.source.startswith("MATLAB file ") and ds.source.endswith(".mat")


def test_cifar_full_size_requires_5000_and_1000_per_class(tmp_path):
    write_cifar_mat(tmp_path / "c")  # the real FeatureSpec: 3 per class is far from 5000
    with pytest.raises(DataVerificationError, match=r"expected 5000 per class .*verify=False"):
        features.load_cifar10(tmp_path / "c")
    ds = features.load_cifar10(tmp_path / "c", verify=False)
    assert ds.n_train == 30 and "counts not verified" in ds.source


def test_cifar_unbalanced_split_is_rejected(tmp_path, small_cifar):
    folder = tmp_path / "c"
    folder.mkdir()
    y = cifar_labels(3)
    y[0] = 1  # class 0 loses one example, class 1 gains one
    np.savez(folder / "cifar10_features.npz", x_train=feats(30, 2.0, 3), y_train=y,
             x_test=feats(10, 2.0, 4), y_test=cifar_labels(1))
    with pytest.raises(DataVerificationError, match=r"class counts \[2, 4, 3,"):
        features.load_cifar10(folder)


def test_cifar_from_env_folder_with_npz_and_transposed_matrix(tmp_path, monkeypatch, small_cifar):
    folder = tmp_path / "env"
    folder.mkdir()
    np.savez(folder / "cifar10_features.npz", x_train=feats(30, 4.0, 5).T,
             y_train=cifar_labels(3), x_test=feats(10, 4.0, 6), y_test=one_hot(cifar_labels(1), 10))
    monkeypatch.setenv("SLEEPUTILS_CIFAR10_DIR", str(folder))
    ds = features.load_cifar10()
    assert ds.x_train.shape == (30, D)
    np.testing.assert_array_equal(ds.y_test, np.arange(10))
    assert ds.source == f"npz file {folder / 'cifar10_features.npz'}"


def test_cifar_missing_says_which_file_goes_where(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        features.load_cifar10()
    message = str(info.value)
    assert "cifar_data_1000_256_tinyimagenet.mat" in message
    assert str(tmp_path / "cache" / "cifar10") in message
    assert "SLEEPUTILS_CIFAR10_DIR" in message
    assert "https://zenodo.org/records/7262424" in message


def test_cifar_download_is_skipped_offline(tmp_path):
    with pytest.raises(DataUnavailableError, match="offline"):
        features.load_cifar10(download=True)
    assert features.zenodo_url("a.mat") == "https://zenodo.org/records/7262424/files/a.mat?download=1"


def test_download_with_checksum(tmp_path, monkeypatch, small_cifar):
    """A download (from a file:// URL standing in for Zenodo) is checked against ``md5``."""
    write_cifar_mat(tmp_path / "zenodo")
    source = tmp_path / "zenodo" / "cifar_data_1000_256_tinyimagenet.mat"
    monkeypatch.setattr(features, "zenodo_url", lambda name: source.as_uri())
    from sleeputils.data.idx import md5_hex

    good = md5_hex(source.read_bytes())
    with pytest.raises(DataVerificationError, match="md5"):
        features.download_cifar10_features(tmp_path / "dl", md5="0" * 32, offline=False)
    assert not (tmp_path / "dl" / source.name).exists()
    ds = features.load_cifar10(download=True, offline=False, md5=good)
    assert ds.source == f"MATLAB file {tmp_path / 'cache' / 'cifar10' / source.name}"


def test_bad_one_hot_and_wrong_width_are_rejected(tmp_path, small_cifar):
    folder = tmp_path / "c"
    folder.mkdir()
    y = one_hot(cifar_labels(3), 10)
    y[0, 5] = 1  # two ones in a row
    np.savez(folder / "cifar10_features.npz", x_train=feats(30, 1.0, 7), y_train=y,
             x_test=feats(10, 1.0, 8), y_test=cifar_labels(1))
    with pytest.raises(DataVerificationError, match="single 1"):
        features.load_cifar10(folder)
    np.savez(folder / "cifar10_features.npz", x_train=np.ones((30, 100)),
             y_train=cifar_labels(3), x_test=feats(10, 1.0, 8), y_test=cifar_labels(1))
    with pytest.raises(DataVerificationError, match=r"expected an \(n, 2048\) matrix"):
        features.load_cifar10(folder, verify=False)


def test_negative_features_are_rejected(tmp_path, small_cifar):
    folder = tmp_path / "c"
    folder.mkdir()
    x = feats(30, 1.0, 9)
    x[3, 3] = -0.5
    np.savez(folder / "cifar10_features.npz", x_train=x, y_train=cifar_labels(3),
             x_test=feats(10, 1.0, 8), y_test=cifar_labels(1))
    with pytest.raises(DataVerificationError, match="non-negative"):
        features.load_cifar10(folder)


def test_mat_missing_variable_is_named(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    scipy.io.savemat(folder / "cifar_data_1000_256_tinyimagenet.mat", {"train_x": feats(2, 1, 0)})
    with pytest.raises(DataVerificationError, match=r"missing variable\(s\) \['train_y'"):
        features.load_cifar10(folder, verify=False)


def test_mat_v73_without_h5py_gives_install_hint(tmp_path, monkeypatch):
    """A v7.3 header makes scipy refuse the file; without h5py the error says what to do."""
    folder = tmp_path / "c"
    folder.mkdir()
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 ."
    header = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    (folder / "cifar_data_1000_256_tinyimagenet.mat").write_bytes(header + b"\x00" * 384)
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py -> ImportError
    with pytest.raises(DataUnavailableError, match="v7.3 .*needs h5py.*pip install h5py"):
        features.load_cifar10(folder)


# --- CUB-200 ----------------------------------------------------------------------------------


@pytest.fixture
def small_cub(monkeypatch):
    """A 4-class CUB with 7 train / 5 test examples stands in for the 200-class split."""
    spec = dataclasses.replace(features.CUB200, n_classes=4, train_total=7, test_total=5)
    monkeypatch.setattr(features, "CUB200", spec)
    return spec


def write_cub(folder, y_train, y_test):
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / "cub200_resnet50_train.mat",
                     {"X": feats(len(y_train), 5.0, 1), "y": np.asarray(y_train)[None, :]})
    scipy.io.savemat(folder / "cub200_resnet50_test.mat",
                     {"X": feats(len(y_test), 2.0, 2), "y": np.asarray(y_test)[:, None]})


def test_cub_mat_labels_become_zero_based(tmp_path, small_cub):
    write_cub(tmp_path / "cub", [1, 2, 3, 4, 4, 2, 1], [4, 3, 2, 1, 1])
    ds = features.load_cub200(tmp_path / "cub")
    np.testing.assert_array_equal(ds.y_train, [0, 1, 2, 3, 3, 1, 0])
    np.testing.assert_array_equal(ds.y_test, [3, 2, 1, 0, 0])
    assert ds.n_classes == 4 and ds.x_train.max() == 1.0 and ds.x_test.max() == 1.0
    assert ds.source.startswith("MATLAB files ") and "cub200_resnet50_test.mat" in ds.source


def test_cub_missing_class_and_wrong_total_are_rejected(tmp_path, small_cub):
    write_cub(tmp_path / "a", [1, 2, 3, 3, 3, 2, 1], [4, 3, 2, 1, 1])  # class 4 absent in train
    with pytest.raises(DataVerificationError, match=r"train: 1 of 4 classes have no .*\[3\]"):
        features.load_cub200(tmp_path / "a")
    write_cub(tmp_path / "b", [1, 2, 3, 4, 4, 2], [4, 3, 2, 1, 1])  # 6 instead of 7
    with pytest.raises(DataVerificationError, match="train: 6 examples, expected 7"):
        features.load_cub200(tmp_path / "b")
    assert features.load_cub200(tmp_path / "b", verify=False).n_train == 6


def test_cub_label_zero_in_mat_is_out_of_range(tmp_path, small_cub):
    write_cub(tmp_path / "cub", [0, 1, 2, 3, 3, 1, 0], [3, 2, 1, 0, 0])  # 0-based by mistake
    with pytest.raises(DataVerificationError, match=r"labels span 0\.\.3, expected 1\.\.4"):
        features.load_cub200(tmp_path / "cub")


def test_cub_missing_partner_file_is_reported(tmp_path):
    folder = tmp_path / "cub"
    write_cub(folder, [1, 2], [1, 2])
    (folder / "cub200_resnet50_test.mat").unlink()
    with pytest.raises(DataUnavailableError) as info:
        features.load_cub200(folder)
    message = str(info.value)
    assert "cub200_resnet50_train.mat exists but not its partner" in message
    assert "labels 1..200" in message and "SLEEPUTILS_CUB200_DIR" in message


def test_real_specs_match_the_standard_splits():
    assert (features.CIFAR10.train_total, features.CIFAR10.test_total) == (50000, 10000)
    assert (features.CUB200.train_total, features.CUB200.test_total) == (5994, 5794)
    assert features.CUB200.n_classes == 200
