"""The source chain on a tiny MNIST-like data set: order, verification, cache, download, errors.

Nothing here touches the network or the real cache: ``SLEEPUTILS_DATA`` points into ``tmp_path``,
``SLEEPUTILS_OFFLINE`` is set, and "downloads" use ``file://`` URLs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sleeputils.data import mnist
from sleeputils.data.errors import DataUnavailableError, DataVerificationError
from sleeputils.data.idx import md5_hex, to_idx_bytes, write_idx
from sleeputils.data.sources import (
    DEFAULT_DATA_HOME,
    RawSplits,
    Source,
    SourceSkipped,
    data_home,
    is_offline,
    load_raw_cache,
    run_chain,
    save_raw_cache,
)

# A 2-class data set of 2x2 images: 3 + 2 training and 1 + 1 test examples.
X_TRAIN = np.arange(5 * 4, dtype=np.uint8).reshape(5, 2, 2)
Y_TRAIN = np.array([0, 1, 0, 1, 0], dtype=np.uint8)
X_TEST = np.arange(2 * 4, dtype=np.uint8).reshape(2, 2, 2) * 10
Y_TEST = np.array([1, 0], dtype=np.uint8)
ARRAYS = {"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_test": X_TEST, "y_test": Y_TEST}

TINY = mnist.IdxDatasetSpec(
    name="tiny",
    title="Tiny-MNIST",
    train_counts=(3, 2),
    test_counts=(1, 1),
    folder_env="SLEEPUTILS_TINY_DIR",
    install_hint="make a tiny folder",
    image_shape=(2, 2),
    md5={mnist.IDX_FILES[role]: md5_hex(to_idx_bytes(a)) for role, a in ARRAYS.items()},
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Private cache folder, offline, and no user folders from the caller's environment."""
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "1")
    for var in ("SLEEPUTILS_MNIST_DIR", "SLEEPUTILS_FASHION_DIR", "SLEEPUTILS_TINY_DIR"):
        monkeypatch.delenv(var, raising=False)


def write_folder(folder: Path, gz: bool = False, **override: np.ndarray) -> Path:
    """Write the tiny data set's four IDX files (``override`` replaces arrays by role)."""
    folder.mkdir(parents=True, exist_ok=True)
    for role, stem in mnist.IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), override.get(role, ARRAYS[role]))
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_user_folder_loads_and_scales(tmp_path, gz):
    folder = write_folder(tmp_path / "user", gz=gz)
    ds = mnist.load_idx_dataset(TINY, root=folder)
    assert ds.source == f"user folder {folder}"
    assert ds.x_train.shape == (5, 4) and ds.x_train.dtype == np.float32
    np.testing.assert_array_equal(ds.x_train * 255, X_TRAIN.reshape(5, 4).astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, [1, 0])
    assert ds.y_train.dtype == np.int64 and ds.image_shape == (2, 2) and ds.n_classes == 2


def test_env_var_names_the_user_folder(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "from-env")
    monkeypatch.setenv("SLEEPUTILS_TINY_DIR", str(folder))
    assert mnist.load_idx_dataset(TINY).source == f"user folder {folder}"


def test_user_folder_wins_over_system_folder(tmp_path):
    user, system = write_folder(tmp_path / "user"), write_folder(tmp_path / "system")
    spec = dataclasses.replace(TINY, system_folders=(system,))
    assert mnist.load_idx_dataset(spec, root=user).source == f"user folder {user}"
    (tmp_path / "cache" / "tiny-v1.npz").unlink()
    assert mnist.load_idx_dataset(spec).source == f"system folder {system}"


def test_md5_mismatch_rejects_a_folder_and_falls_through(tmp_path):
    tampered = X_TRAIN.copy()
    tampered[0, 0, 0] += 1  # same shapes and labels, different pixels
    user = write_folder(tmp_path / "user", x_train=tampered)
    system = write_folder(tmp_path / "system")
    spec = dataclasses.replace(TINY, system_folders=(system,))
    assert mnist.load_idx_dataset(spec, root=user).source == f"system folder {system}"
    with pytest.raises(DataVerificationError, match="md5 of decompressed train-images-idx3-ubyte"):
        mnist.read_idx_folder(TINY, user, "user folder")


def test_class_count_check_catches_a_corrupted_label_file(tmp_path):
    labels = Y_TRAIN.copy()
    labels[-1] = 1  # counts become (2, 3) instead of (3, 2)
    folder = write_folder(tmp_path / "user", y_train=labels)
    no_md5 = dataclasses.replace(TINY, md5={})  # so that the count check itself is exercised
    counts_msg = r"train label counts \[2, 3\] differ from the official \[3, 2\]"
    with pytest.raises(DataVerificationError, match=counts_msg):
        mnist.read_idx_folder(no_md5, folder, "user folder")
    with pytest.raises(DataUnavailableError, match=r"rejected \(Tiny-MNIST train label counts"):
        mnist.load_idx_dataset(no_md5, root=folder)


def test_out_of_range_label_is_rejected(tmp_path):
    folder = write_folder(tmp_path / "user", y_test=np.array([1, 7], dtype=np.uint8))
    with pytest.raises(DataVerificationError, match="found label 7"):
        mnist.read_idx_folder(dataclasses.replace(TINY, md5={}), folder, "user folder")


def test_every_source_missing_gives_one_clear_message(tmp_path):
    spec = dataclasses.replace(
        TINY, system_folders=(tmp_path / "absent",), mirrors=("http://example.invalid/",)
    )
    with pytest.raises(DataUnavailableError) as info:
        mnist.load_idx_dataset(spec)
    message = str(info.value)
    assert message.startswith("Tiny-MNIST is not available. Tried: (1) user folder: ")
    assert "SLEEPUTILS_TINY_DIR is not set" in message
    assert f"(2) system folder {tmp_path / 'absent'}: " in message
    assert "(3) download: skipped, offline" in message
    assert message.endswith("To get it: make a tiny folder")
    assert "\n" not in message


def test_incomplete_folder_names_the_missing_files(tmp_path):
    folder = write_folder(tmp_path / "user")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataUnavailableError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        mnist.load_idx_dataset(TINY, root=folder)


def test_cache_is_written_atomically_and_reused(tmp_path):
    folder = write_folder(tmp_path / "user")
    mnist.load_idx_dataset(TINY, root=folder)
    cache = tmp_path / "cache" / "tiny-v1.npz"
    assert cache.is_file()
    assert [p.name for p in cache.parent.iterdir()] == ["tiny-v1.npz"]  # no temp files left
    for path in folder.iterdir():
        path.unlink()  # the cache alone must now suffice
    ds = mnist.load_idx_dataset(TINY, root=folder)
    assert ds.source == f"cache {cache} (from user folder {folder})"
    np.testing.assert_array_equal(ds.y_train, Y_TRAIN)


@pytest.mark.parametrize("damage", ["garbage", "wrong_counts"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    folder = write_folder(tmp_path / "user")
    cache = tmp_path / "cache" / "tiny-v1.npz"
    cache.parent.mkdir()
    if damage == "garbage":
        cache.write_bytes(b"not a zip file")
    else:
        raw = RawSplits(X_TRAIN.reshape(5, 4), np.zeros(5, np.uint8), X_TEST.reshape(2, 4),
                        Y_TEST, source="bogus")
        save_raw_cache(cache, raw)
    ds = mnist.load_idx_dataset(TINY, root=folder)
    assert ds.source == f"user folder {folder}"
    rebuilt = load_raw_cache(cache, lambda raw: mnist.verify_splits(TINY, raw))
    assert rebuilt is not None and rebuilt.source == f"user folder {folder}"


def test_download_from_mirror_into_cache_folder(tmp_path):
    mirror = write_folder(tmp_path / "mirror", gz=True)
    dead = (tmp_path / "dead").as_uri() + "/"
    spec = dataclasses.replace(TINY, mirrors=(dead, mirror.as_uri() + "/"))
    ds = mnist.load_idx_dataset(spec, offline=False)
    raw_dir = tmp_path / "cache" / "raw" / "tiny"
    assert ds.source == f"downloaded from {mirror.as_uri()}/ into {raw_dir}"
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(
        f"{stem}.gz" for stem in mnist.IDX_FILES.values()
    )


def test_download_failing_verification_is_deleted(tmp_path):
    mirror = write_folder(tmp_path / "mirror", gz=True, x_test=X_TEST[::-1].copy())
    spec = dataclasses.replace(TINY, mirrors=(mirror.as_uri() + "/",))
    rejected = r"download: rejected \(md5 of decompressed t10k-images-idx3-ubyte"
    with pytest.raises(DataUnavailableError, match=rejected):
        mnist.load_idx_dataset(spec, offline=False)
    assert list((tmp_path / "cache" / "raw" / "tiny").iterdir()) == []


def test_offline_argument_overrides_environment(monkeypatch):
    assert is_offline() is True  # from the fixture
    assert is_offline(False) is False
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "0")
    assert is_offline() is False and is_offline(True) is True


def test_data_home_default_and_override(tmp_path, monkeypatch):
    assert data_home() == tmp_path / "cache"
    monkeypatch.delenv("SLEEPUTILS_DATA")
    assert data_home() == DEFAULT_DATA_HOME.expanduser()
    assert str(DEFAULT_DATA_HOME) == "~/.cache/sleeputils"


def test_run_chain_stops_at_first_success():
    calls = []

    def fail() -> RawSplits:
        calls.append("fail")
        raise SourceSkipped("nothing here")

    def succeed() -> RawSplits:
        calls.append("ok")
        return RawSplits(X_TRAIN, Y_TRAIN, X_TEST, Y_TEST, source="second")

    def never() -> RawSplits:
        raise AssertionError("must not be reached")

    sources = [Source("a", fail), Source("b", succeed), Source("c", never)]
    assert run_chain("T", sources, "hint").source == "second"
    assert calls == ["fail", "ok"]


def test_real_specs_have_complete_checksums():
    for spec in (mnist.MNIST, mnist.FASHION):
        assert set(spec.md5) == set(mnist.IDX_FILES.values())
        assert sum(spec.train_counts) == 60000 and sum(spec.test_counts) == 10000
