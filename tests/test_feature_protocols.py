"""The CIFAR-10 and CUB-200 protocols end to end on generated features with the real shapes
(2048-d, 10 and 200 classes), read through the real loaders; and the chapter a reader sees when
the data is absent."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from sleeputils.chapters.registry import Book
from sleeputils.chapters.runner import run_chapter
from sleeputils.data import features, load_dataset
from sleeputils.params import ParamError
from sleeputils.protocols.cub200 import CubConfig, run_cub
from sleeputils.protocols.icarl import ICaRLConfig, run_icarl
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.rehearsal import RehearsalConfig, rehearsal_preset, run_rehearsal
from sleeputils.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
CIFAR_TRAIN, CIFAR_TEST = 120, 20  # per class
CUB_TRAIN, CUB_TEST = 6, 2  # per class


def _write(folder: Path, name: str, n_classes: int, train: int, test: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    y_train, y_test = np.repeat(np.arange(n_classes), train), np.repeat(np.arange(n_classes), test)
    centres = rng.uniform(0, 4, size=(n_classes, 2048))  # separable classes, raw-feature scale
    x = {s: np.abs(centres[y] + rng.normal(0, 1, size=(len(y), 2048)))
         for s, y in (("train", y_train), ("test", y_test))}
    np.savez(folder / name, x_train=x["train"], y_train=y_train, x_test=x["test"], y_test=y_test)


@pytest.fixture
def feature_data(tmp_path, monkeypatch):
    """Small CIFAR-10 and CUB-200 feature sets in their own folders, accepted as complete."""
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SLEEPUTILS_OFFLINE", "1")
    monkeypatch.setattr(features, "CIFAR10", dataclasses.replace(
        features.CIFAR10, train_total=10 * CIFAR_TRAIN, test_total=10 * CIFAR_TEST,
        train_per_class=CIFAR_TRAIN, test_per_class=CIFAR_TEST))
    monkeypatch.setattr(features, "CUB200", dataclasses.replace(
        features.CUB200, train_total=200 * CUB_TRAIN, test_total=200 * CUB_TEST))
    _write(tmp_path / "cifar", "cifar10_features.npz", 10, CIFAR_TRAIN, CIFAR_TEST, 0)
    _write(tmp_path / "cub", "cub200_features.npz", 200, CUB_TRAIN, CUB_TEST, 1)
    monkeypatch.setenv("SLEEPUTILS_CIFAR10_DIR", str(tmp_path / "cifar"))
    monkeypatch.setenv("SLEEPUTILS_CUB200_DIR", str(tmp_path / "cub"))


SMALL = {"trials": 1, "hidden": (32, 16), "epochs": 1, "sleep_scale": 0.02}


def _finals(df, metric: str) -> dict[str, float]:
    rows = df[df["metric"] == metric]
    return dict(zip(rows["method"], rows["value"], strict=True))


def test_cifar10_incremental_runs_with_its_own_protocol(feature_data) -> None:
    ds = load_dataset("cifar10")
    assert ds.n_features == 2048 and ds.n_classes == 10 and ds.x_train.max() == 1.0
    df = run_incremental(IncrementalConfig(dataset="cifar10", methods=("sequential", "src",
                                                                       "parallel"), **SMALL),
                         store=ResultStore.disabled(), progress=False)
    finals = _finals(df, "final_acc")
    assert set(finals) == {"sequential", "src", "parallel"}
    assert all(0 <= v <= 100 for v in finals.values())
    sleeps = df[df["metric"] == "sleep_steps"]["value"]
    assert len(sleeps) == 5 and (sleeps == round(15000 * 0.02)).all()  # fixed length on CIFAR


def test_cifar10_rehearsal_and_icarl_run(feature_data) -> None:
    store = ResultStore.disabled()
    reh = run_rehearsal(RehearsalConfig(dataset="cifar10", fractions=(0.1,),
                                        per_task_train=200, **SMALL), store=store,
                        progress=False)
    assert set(_finals(reh, "final_acc")) == {"rehearsal", "rehearsal_src"}
    assert set(reh.loc[reh["headline"].fillna(False).astype(bool), "fraction"]) == {0.1}
    assert [rehearsal_preset("cifar10", p) for p in (0, 0.01, 0.025, 0.05, 0.1, 0.5)] == [
        "cifar10_rehearsal_p0", "cifar10_rehearsal_p0.01", "cifar10_rehearsal_p0.025",
        "cifar10_rehearsal_p0.05", "cifar10_rehearsal_p0.1+", "cifar10_rehearsal_p0.1+"]
    icarl = run_icarl(ICaRLConfig(dataset="cifar10", memories=(50,), variants=("herding",),
                                  per_task_train=200, **SMALL), store=store, progress=False)
    assert set(_finals(icarl, "nme_acc")) == {"icarl", "icarl_src"}


def test_cub200_two_tasks(feature_data) -> None:
    ds = load_dataset("cub200")
    assert ds.n_classes == 200 and ds.n_features == 2048
    config = CubConfig(per_task_train=CUB_TRAIN * 100, epochs=5, hidden=(64, 64), trials=1,
                       sleep_scale=0.1)
    df = run_cub(config, store=ResultStore.disabled(), progress=False)
    t1, t2 = _finals(df, "task1_acc"), _finals(df, "task2_acc")
    assert set(t1) == set(t2) == {"sequential", "src", "parallel"}
    # sequential training on task 2 forgets task 1 (separable classes: task 2 is learned)
    assert t1["sequential"] < t2["sequential"]
    with pytest.raises(ParamError, match="per_task_train = 2900 does not fit cub200"):
        CubConfig().check_data(ds)


def test_absent_data_renders_a_box_and_no_numbers(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SLEEPUTILS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SLEEPUTILS_CUB200_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "store"))
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    book = Book(tmp_path)
    done = run_chapter(book.resolve("cub200", "smoke"), book, progress=False,
                       render_missing=True)
    cells = nbformat.read(done.output, as_version=4).cells
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in cells
                     for o in c.get("outputs", []))
    assert cells[0].source.startswith("# CUB-200")  # the chapter's own title and introduction
    assert "Data not available" in text and "cub200_resnet50_train.mat" in text
    assert not (tmp_path / "store" / "records").exists()  # nothing recorded
    with pytest.raises(Exception, match="CUB-200 features are not available"):
        run_chapter(book.resolve("cub200", "smoke"), book, progress=False)
