"""What the generative-replay chapters share (book/methods/generative.md): the dataset splits,
the initial VAE and the fixed digit classifier (each a stored unit), and packing of weights and
images into records."""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass

import numpy as np
import torch

from ..data import load_dataset
from ..nets.vae import CODE_VERSIONS, VAE, VAEConfig, absolute_errors
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit

#: What each split trains the initial VAE on: the MNIST-first splits share one initial VAE.
DATASET_1 = {"inverted": "mnist", "digits": "mnist digits 0-4", "fashion": "mnist"}
#: The dataset splits (book/methods/generative.md, vae-data).
SPLITS = tuple(DATASET_1)
#: Training images of the fixed digit classifier (the first ones of MNIST's training set).
CLASSIFIER_IMAGES = 10_000


def split_data(split: str) -> dict[str, np.ndarray]:
    """Training and test images (n, 784) of dataset 1 and dataset 2, and the test labels
    (book/methods/generative.md, vae-data): MNIST and inverted MNIST, digits 0-4 and 5-9, or
    MNIST and Fashion-MNIST (whose labels are not digits: ``d2_digits`` is False)."""
    mnist = load_dataset("mnist")
    if split == "inverted":
        return {"d1_train": mnist.x_train, "d1_test": mnist.x_test, "d1_test_y": mnist.y_test,
                "d2_train": 1.0 - mnist.x_train, "d2_test": 1.0 - mnist.x_test,
                "d2_test_y": mnist.y_test, "d2_inverted": True, "d2_digits": True}
    if split == "digits":
        low_tr, low_te = mnist.y_train < 5, mnist.y_test < 5
        return {"d1_train": mnist.x_train[low_tr], "d1_test": mnist.x_test[low_te],
                "d1_test_y": mnist.y_test[low_te], "d2_train": mnist.x_train[~low_tr],
                "d2_test": mnist.x_test[~low_te], "d2_test_y": mnist.y_test[~low_te],
                "d2_inverted": False, "d2_digits": True}
    fashion = load_dataset("fashion")
    return {"d1_train": mnist.x_train, "d1_test": mnist.x_test, "d1_test_y": mnist.y_test,
            "d2_train": fashion.x_train, "d2_test": fashion.x_test, "d2_test_y": fashion.y_test,
            "d2_inverted": False, "d2_digits": False}


@functools.cache
def blank_errors(split: str, test_subset: int | None = None) -> dict[str, dict[str, float]]:
    """The error (book/methods/generative.md, vae-memory) of a recall that is one blank page
    whatever the input, black (0) or white (1), on each dataset's scored test images: a VAE
    whose errors sit on these on both datasets has collapsed to that page. Cached: a page
    asks once per verdict, and the answer never changes (read it, do not modify it)."""
    data = split_data(split)
    out = {}
    for page, value in (("black", 0.0), ("white", 1.0)):
        out[page] = {}
        for d in ("d1", "d2"):
            x = data[f"{d}_test"][:test_subset]
            out[page][d] = float(absolute_errors(x, np.full_like(x, value)).mean())
    return out


def make_vae(latent: int, loss: str, lr: float, seed: int, weights: dict | None = None,
             version: str = "2024") -> VAE:
    """A VAE of code version ``version`` (vae-versions) seeded with ``seed``, holding ``weights``
    if given, in evaluation mode."""
    config = VAEConfig.of(version, latent=latent, loss=loss, lr=lr)
    vae = VAE(config, torch.Generator().manual_seed(seed))
    if weights is not None:
        vae.load_state_dict(weights)
    vae.eval()
    return vae


def code_version(config) -> str:
    """The config's code version of the original (vae-versions): its ``code_version`` field,
    else 2024 (the replay and interleaving chapters'; the schedule chapters sweep versions and
    name each one to :func:`vae_loss` and :func:`initial_settings`)."""
    return getattr(config, "code_version", "2024")


def vae_loss(config, version: str | None = None) -> str:
    """The config's reconstruction term: its ``loss`` field, or if unset the one of code version
    ``version`` (by default the config's, :func:`code_version`)."""
    if config.loss is not None:
        return config.loss
    return CODE_VERSIONS[version or code_version(config)]["loss"]


@dataclass(frozen=True)
class InitialVAE(Unit):
    """The initial VAE's unit: trained on ``dataset_1`` (the most ``epochs``, early stopping;
    ``images`` None = all)."""

    dataset_1: str
    latent: int
    loss: str
    code_version: str
    epochs: int
    images: int | None
    lr: float
    seed: int


def initial_settings(config, version: str | None = None) -> InitialVAE:
    """What identifies the initial VAE of a config with ``split``, ``latent``, ``loss``,
    ``initial_epochs``, ``initial_images``, ``lr`` and ``seed`` fields, under code version
    ``version`` (by default the config's, :func:`code_version`): dataset 1, not the split, so
    MNIST → inverted MNIST and MNIST → Fashion-MNIST train it once per version."""
    version = version or code_version(config)
    return InitialVAE(DATASET_1[config.split], config.latent, vae_loss(config, version),
                      version, config.initial_epochs, config.initial_images, config.lr,
                      config.seed)


def initial_vae(unit: InitialVAE, data: dict, *, store: ResultStore | None,
                progress: bool) -> dict:
    """The VAE trained on dataset 1 (batch 32, early stopping on the training loss with patience
    3), stored as a unit of chapter ``vae-initial``; its weights (a state dict)."""

    def train(unit: InitialVAE, trial: int) -> list[dict]:
        vae = make_vae(unit.latent, unit.loss, unit.lr, unit.seed, version=unit.code_version)
        gen = torch.Generator().manual_seed(unit.seed + 1)
        losses, best, waited = [], np.inf, 0
        for _ in range(unit.epochs):
            losses += vae.fit(data["d1_train"][: unit.images], 1, 32, gen)
            best, waited = (losses[-1], 0) if losses[-1] < best else (best, waited + 1)
            if waited >= 3:
                break
        rows = [{"dataset": unit.dataset_1, "method": "initial_vae", "metric": "train_loss",
                 "epoch": e + 1, "value": v} for e, v in enumerate(losses)]
        return rows + [{"dataset": unit.dataset_1, "method": "initial_vae",
                        "metric": "weights", "value": len(losses),
                        "blob": pack_state(vae.state_dict())}]

    df = run_units("vae-initial", [(unit, 0)], train, store=store, progress=progress,
                   desc="initial VAE")
    return unpack_state(df.loc[df["metric"] == "weights", "blob"].item())


@dataclass(frozen=True)
class DigitClassifier:
    """A fixed multinomial logistic regression on MNIST pixels: what digit an image shows."""

    coef: np.ndarray  # (10, 784)
    intercept: np.ndarray  # (10,)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most probable digit of each image (n, 784)."""
        return np.argmax(np.asarray(x, np.float64) @ self.coef.T + self.intercept, axis=1)


@dataclass(frozen=True)
class ClassifierUnit(Unit):
    """The digit classifier's unit: the first ``images`` MNIST training images, ``model``."""

    images: int
    model: str


def digit_classifier(*, store: ResultStore | None, progress: bool) -> DigitClassifier:
    """scikit-learn's logistic regression trained once on the first 10000 MNIST training images
    (book/methods/generative.md, vae-recall), stored as a unit of chapter ``vae-classifier``."""

    def train(*_: object) -> list[dict]:
        from sklearn.linear_model import LogisticRegression

        mnist = load_dataset("mnist")
        model = LogisticRegression(max_iter=200)
        model.fit(mnist.x_train[:CLASSIFIER_IMAGES], mnist.y_train[:CLASSIFIER_IMAGES])
        blob = pack_state({"coef": torch.as_tensor(model.coef_),
                           "intercept": torch.as_tensor(model.intercept_)})
        return [{"dataset": "mnist", "method": "classifier", "metric": "test_accuracy",
                 "value": 100 * model.score(mnist.x_test, mnist.y_test), "blob": blob}]

    unit = ClassifierUnit(CLASSIFIER_IMAGES, "LogisticRegression(max_iter=200)")
    df = run_units("vae-classifier", [(unit, 0)], train, store=store, progress=progress,
                   desc="digit classifier")
    state = unpack_state(df["blob"].item())
    return DigitClassifier(state["coef"].numpy(), state["intercept"].numpy())


def recall_accuracy(classifier: DigitClassifier, recalled: np.ndarray, labels: np.ndarray,
                    inverted: bool) -> float:
    """Percent of recalled images the fixed classifier reads as their true digit (an inverted
    image is inverted back first)."""
    x = 1.0 - recalled if inverted else recalled
    return float(100 * np.mean(classifier.predict(x) == labels))


def pack_state(state: dict) -> str:
    """Tensors as one base64 string (a record field)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def unpack_state(blob: str) -> dict:
    """Inverse of :func:`pack_state`."""
    return torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)


def pack_images(x: np.ndarray) -> str:
    """Images in [0, 1] as base64 of 8-bit grey levels (n, 784) -> str, for figures."""
    grey = np.round(np.clip(np.asarray(x), 0, 1) * 255).astype(np.uint8)
    return base64.b64encode(grey.reshape(len(grey), -1).tobytes()).decode("ascii")


def unpack_images(blob: str) -> np.ndarray:
    """Inverse of :func:`pack_images`: (n, 28, 28) floats in [0, 1]."""
    grey = np.frombuffer(base64.b64decode(blob), dtype=np.uint8)
    return grey.reshape(-1, 28, 28).astype(np.float32) / 255
