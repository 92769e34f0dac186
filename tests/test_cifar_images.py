"""The CIFAR image loaders on generated archives in the real format (pickled batches of uint8
rows of 3072 values), WSCL's crop-and-flip augmentation against every crop it can make, and the
WSCL protocol on CIFAR-shaped images with ResNet-18."""

from __future__ import annotations

import io
import pickle
import shutil
import tarfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from sleeputils.chapters.registry import Book
from sleeputils.chapters.runner import run_chapter
from sleeputils.data import DataUnavailableError, DataVerificationError, cifar_images, load_dataset
from sleeputils.methods.wscl import crop_and_flip
from sleeputils.nets import modules
from sleeputils.protocols.wscl import WSCLConfig, run_wscl
from sleeputils.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
TRAIN, TEST = 30, 6  # CIFAR-10 images per class in the fixture
DREAM_TRAIN, DREAM_TEST = 12, 3  # per CIFAR-100 superclass


def _batch(y: np.ndarray, rng: np.random.Generator, **labels: np.ndarray) -> bytes:
    data = rng.integers(0, 256, size=(len(y), 3072), dtype=np.uint8)
    data[:, 0] = y  # the first red pixel carries the label, to check rows stay with labels
    return pickle.dumps({b"data": data, **{k.encode(): v.tolist() for k, v in labels.items()}},
                        protocol=2)


@pytest.fixture
def cifar(tmp_path: Path, monkeypatch) -> Path:
    """CIFAR-10 unpacked in a folder, CIFAR-100 as its tar.gz, both small."""
    rng = np.random.default_rng(0)
    ten = tmp_path / "cifar-10-batches-py"
    ten.mkdir(parents=True)
    y = rng.permutation(np.repeat(np.arange(10), TRAIN))
    for i, part in enumerate(np.array_split(y, 5), start=1):
        (ten / f"data_batch_{i}").write_bytes(_batch(part, rng, labels=part))
    y_test = np.repeat(np.arange(10), TEST)
    (ten / "test_batch").write_bytes(_batch(y_test, rng, labels=y_test))
    with tarfile.open(tmp_path / "cifar-100-python.tar.gz", "w:gz") as tar:
        for split, n in (("train", DREAM_TRAIN), ("test", DREAM_TEST)):
            coarse = np.repeat(np.arange(20), n)
            raw = _batch(coarse, rng, coarse_labels=coarse, fine_labels=coarse * 5)
            info = tarfile.TarInfo(f"cifar-100-python/{split}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    monkeypatch.setenv(cifar_images.ENV_FOLDER, str(tmp_path))
    monkeypatch.setattr(cifar_images, "PER_CLASS", {
        "cifar10-images": {"train": TRAIN, "test": TEST},
        "cifar100-dreams": {"train": DREAM_TRAIN, "test": DREAM_TEST}})
    return tmp_path


def test_loaders_read_the_real_format_and_keep_the_dream_superclasses(cifar: Path) -> None:
    ten = load_dataset("cifar10-images")
    assert ten.x_train.shape == (10 * TRAIN, 3072) and ten.image_shape == (3, 32, 32)
    assert np.array_equal(np.round(ten.x_train[:, 0] * 255), ten.y_train)  # rows keep labels
    dreams = load_dataset("cifar100-dreams")
    assert dreams.n_classes == 12 and len(dreams.y_train) == 12 * DREAM_TRAIN
    coarse = np.round(dreams.x_train[:, 0] * 255).astype(int)  # the superclass in the pixel
    assert not set(coarse) & {8, 11, 12, 13, 15, 16, 18, 19}  # the animal and vehicle ones go
    assert np.array_equal(np.array(cifar_images.DREAM_SUPERCLASSES)[dreams.y_train], coarse)


def test_wrong_counts_and_absent_archives_fail_in_one_message(cifar: Path, monkeypatch) -> None:
    monkeypatch.setattr(cifar_images, "PER_CLASS", {
        "cifar10-images": {"train": 5000, "test": 1000},
        "cifar100-dreams": {"train": 2500, "test": 500}})
    with pytest.raises(DataVerificationError, match="expected 5000 each"):
        load_dataset("cifar10-images")
    monkeypatch.setenv(cifar_images.ENV_FOLDER, str(cifar / "nowhere"))
    monkeypatch.setenv("SLEEPUTILS_DATA", str(cifar / "nowhere"))
    with pytest.raises(DataUnavailableError, match="cifar-100-python.tar.gz"):
        load_dataset("cifar100-dreams")


def test_crop_and_flip_makes_every_padded_crop_and_mirror_and_nothing_else() -> None:
    """Each output is one of the 9 x 9 offsets x 2 mirrors of the zero-padded image (listed here
    with numpy), and 4000 draws produce all 162."""
    image = np.random.default_rng(1).random((3, 8, 8)).astype(np.float32)
    padded = np.pad(image, ((0, 0), (4, 4), (4, 4)))
    crops = [padded[:, i : i + 8, j : j + 8] for i in range(9) for j in range(9)]
    allowed = {c.tobytes() for c in crops} | {c[:, :, ::-1].copy().tobytes() for c in crops}
    x = torch.from_numpy(np.tile(image.reshape(1, -1), (4000, 1)))
    out = crop_and_flip(x, (3, 8, 8), torch.Generator().manual_seed(0)).numpy()
    made = {row.reshape(3, 8, 8).tobytes() for row in out}
    assert made <= allowed and len(made) == len(allowed) == 162
    again = crop_and_flip(x, (3, 8, 8), torch.Generator().manual_seed(0)).numpy()
    assert np.array_equal(out, again)  # seeded by the loop's generator


class _NarrowResNet18(modules.ResNet18):
    """ResNet-18 at 8 filters in its stem instead of 64: the same blocks, stages and freezing
    scope at a sixtieth of the arithmetic (the real width made this test a minute long)."""

    built = 0  # how many the run made: the patch must reach the chapter's backbone

    def __init__(self, image: tuple[int, int, int], n_out: int) -> None:
        super().__init__(image, n_out, width=8)
        _NarrowResNet18.built += 1


def test_wscl_runs_on_cifar_images_with_resnet18(cifar: Path, monkeypatch) -> None:
    monkeypatch.setattr(modules, "ResNet18", _NarrowResNet18)
    config = WSCLConfig(dataset="cifar10-images", variants=("wscl",), trials=1, epochs=2,
                        train_per_class=10, dream_per_class=10, validation=10, hold=10,
                        buffer=20, test_subset=50)
    df = run_wscl(config, store=ResultStore.disabled(), progress=False)
    final = df[df["metric"] == "final_class_all"]["value"]
    assert len(final) == 1 and 0 <= final.iloc[0] <= 100
    heads = df[df["metric"] == "head"]["value"].astype(int)
    assert sorted(heads) == list(range(10))  # every CIFAR-10 class took its own head
    assert (df[df["metric"] == "frozen_blocks"]["value"] <= 6).all()  # ResNet-18's 6 blocks
    assert _NarrowResNet18.built >= 1


def test_the_chapter_without_its_dream_data_says_so(cifar: Path, monkeypatch) -> None:
    """CIFAR-10 is there but not CIFAR-100: the chapter renders the missing archive, no numbers."""
    (cifar / "cifar-100-python.tar.gz").unlink()
    monkeypatch.setenv("SLEEPUTILS_DATA", str(cifar / "empty"))
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(cifar / "store"))
    shutil.copytree(ROOT / "notebooks", cifar / "notebooks")
    shutil.copy(ROOT / "_toc.yml", cifar / "_toc.yml")
    book = Book(cifar)
    run = book.resolve("wscl-cifar10-images", "smoke")
    done = run_chapter(run, book, progress=False, render_missing=True)
    cells = nbformat.read(done.output, as_version=4).cells
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in cells
                     for o in c.get("outputs", []))
    assert cells[0].source.startswith("# Wake-Sleep Consolidated Learning: CIFAR-10")
    assert "Data not available" in text and "cifar-100-python.tar.gz" in text
    assert not (cifar / "store" / "records").exists()
