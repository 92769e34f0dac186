"""Wake-Sleep Consolidated Learning on any :class:`~sleeputils.nets.modules.Backbone`
(book/methods/wscl.md). Each stage is a switch; with all off this is plain ER-ACE.

* wake (wscl-wake): ER-ACE steps on the task's real images (:mod:`.er_ace`);
* dreaming (wscl-dreaming): every output head no real class owns yet is trained on one class of
  an auxiliary data set the stream never shows; at each new task the new classes take the free
  heads they already activate most (greedy on the count matrix);
* dynamic freezing (wscl-freezing): in epoch 0 of every task after the first, copies frozen up to
  each not-yet-frozen block train side by side; the one with the lowest held-out loss wins and its
  freezing is permanent;
* NREM (wscl-nrem, our reading of the paper, off by default): after a task, replay the task's
  held-out images and the reservoir, then strengthen the most important weights and weaken the
  least important ones.

:func:`run_stream` trains one backbone through a task stream and returns the accuracy matrices of
the three evaluation conventions (wscl-evaluation).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.modules import Backbone
from .er_ace import ERACE
from .registry import MethodSpec, register

CONVENTIONS = ("class_all", "class_seen", "task")


@dataclass(frozen=True)
class StreamTask:
    """One task: its classes and, per split, inputs and global labels. ``hold`` is the task's
    held-out memory: the freezing buffer of the next task's selection, NREM's short-term memory."""

    classes: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_hold: np.ndarray
    y_hold: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Stages:
    """Which WSCL stages run, and the hyperparameters of the loop."""

    dreaming: bool = True
    freezing: bool = True
    nrem: bool = False
    epochs: int = 10
    batch: int = 32
    replay_batch: int = 32
    lr: float = 0.03
    buffer: int = 200
    nrem_epochs: int = 1
    nrem_fraction: float = 0.1  # share of weights strengthened, and share weakened
    nrem_strength: float = 0.05  # relative change of a strengthened or weakened weight
    augment: tuple[int, int, int] | None = None  # crop-and-flip the new images of this shape


class Heads:
    """Which output head each real class owns (``label -> head``); the rest are free."""

    def __init__(self, n_heads: int) -> None:
        self.owner = np.full(n_heads, -1)  # head -> label, -1 for a free head

    def of(self, labels: np.ndarray) -> np.ndarray:
        """The heads of ``labels`` (all must be assigned)."""
        lookup = {int(c): h for h, c in enumerate(self.owner) if c >= 0}
        return np.array([lookup[int(c)] for c in labels], dtype=np.int64)

    def free(self) -> list[int]:
        return [h for h, c in enumerate(self.owner) if c < 0]

    def assign(self, classes: Sequence[int], heads: Sequence[int]) -> None:
        for c, h in zip(classes, heads, strict=True):
            self.owner[h] = c


def greedy_assignment(counts: np.ndarray) -> list[int]:
    """Column of each row: repeatedly bind the largest remaining entry's row and column (first in
    row-major order on ties), then strike both out. ``counts`` has no more rows than columns."""
    counts = np.asarray(counts, dtype=float).copy()
    out = [-1] * counts.shape[0]
    for _ in range(counts.shape[0]):
        r, c = np.unravel_index(int(np.argmax(counts)), counts.shape)
        out[r] = int(c)
        counts[r, :] = -np.inf
        counts[:, c] = -np.inf
    return out


@torch.no_grad()
def logits_of(model: Backbone, x: np.ndarray, batch: int = 2000) -> torch.Tensor:
    """Test-mode outputs of ``model`` on ``x``."""
    model.eval()
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    out = torch.cat([model(xt[i : i + batch]) for i in range(0, len(xt), batch)])
    model.train()
    return out


def choose_heads(model: Backbone, heads: Heads, task: StreamTask) -> list[int]:
    """The free heads the task's classes take (wscl-dreaming): count where the model's argmax falls
    on each free head for each new class's training images, then assign greedily."""
    free = heads.free()
    pred = logits_of(model, task.x_train).argmax(dim=1).numpy()
    counts = np.array([[np.sum(pred[task.y_train == c] == h) for h in free]
                       for c in task.classes])
    return [free[j] for j in greedy_assignment(counts)]


def accuracies(model: Backbone, heads: Heads, x: np.ndarray, y: np.ndarray,
               task_heads: Sequence[int], seen_heads: Sequence[int]) -> dict[str, float]:
    """Accuracy (%) under the three conventions of wscl-evaluation: argmax over all heads (free
    heads count as wrong), over the heads of classes seen so far, and over the task's own heads."""
    logits = logits_of(model, x)
    out = {}
    for name, allowed in (("class_all", None), ("class_seen", seen_heads),
                          ("task", task_heads)):
        masked = logits
        if allowed is not None:
            keep = torch.zeros(logits.shape[1], dtype=torch.bool)
            keep[list(allowed)] = True
            masked = logits.masked_fill(~keep, -torch.inf)
        pred = heads.owner[masked.argmax(dim=1).numpy()]
        out[name] = 100.0 * float(np.mean(pred == y))
    return out


def dream_set(heads: Heads, dreams: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Every free head's auxiliary images, labelled with that head."""
    free = [h for h in heads.free() if h in dreams]
    if not free:
        return np.empty((0, 0), np.float32), np.empty(0, np.int64)
    return (np.concatenate([dreams[h] for h in free]),
            np.concatenate([np.full(len(dreams[h]), h, np.int64) for h in free]))


def held_out_loss(model: Backbone, sets: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean over ``sets`` of the cross-entropy over all heads (labels are heads), rounded to 2
    decimals as the public code does, so near-ties go to less freezing."""
    losses = [float(F.cross_entropy(logits_of(model, x), torch.from_numpy(y)))
              for x, y in sets if len(y)]
    return round(float(np.mean(losses)), 2)


def epoch(learners: Sequence[ERACE], x: torch.Tensor, y: torch.Tensor, keep: torch.Tensor,
          task: int, batch: int, generator: torch.Generator,
          augment: tuple[int, int, int] | None = None) -> None:
    """One pass over (x, y) in a random order, every learner seeing the same batches (cropped
    and flipped the same way when ``augment`` gives the image shape)."""
    perm = torch.randperm(len(x), generator=generator)
    for i in range(0, len(x), batch):
        idx = perm[i : i + batch]
        xb = x[idx] if augment is None else crop_and_flip(x[idx], augment, generator)
        for learner in learners:
            learner.observe(xb, y[idx], task, keep[idx])


def crop_and_flip(x: torch.Tensor, image: tuple[int, int, int], generator: torch.Generator,
                  pad: int = 4) -> torch.Tensor:
    """The public code's CIFAR augmentation (wscl-cifar10): each flattened image padded with
    ``pad`` zeros on every side, cropped back to its size at a random offset, and mirrored left
    to right with probability 1/2."""
    c, h, w = image
    n = len(x)
    padded = F.pad(x.reshape(n, c, h, w), (pad, pad, pad, pad))
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    return torch.where(flip[:, None, None, None], out.flip(-1), out).reshape(n, -1)


def select_freezing(learner: ERACE, x: torch.Tensor, y: torch.Tensor, keep: torch.Tensor,
                    task: int, stages: Stages, generator: torch.Generator,
                    held_out: Sequence[tuple[np.ndarray, np.ndarray]]) -> int:
    """Epoch 0 of a task with dynamic freezing (wscl-freezing): train one copy per freezing level
    on the same batches, keep the best copy's weights, freeze the main model for good to its
    level. Only the weights come back, as in the public code: the main model's reservoir misses
    this epoch. Returns the number of blocks frozen now."""
    model: Backbone = learner.model
    done = model.frozen_blocks()
    copies = []
    for level in range(done, len(model.blocks) + 1):
        c = copy.deepcopy(learner)
        c.model.freeze(level)
        copies.append(c)
    epoch(copies, x, y, keep, task, stages.batch, generator, stages.augment)
    losses = [held_out_loss(c.model, held_out) for c in copies]
    best = int(np.argmin(losses))  # first minimum: the least freezing
    model.load_state_dict(copies[best].model.state_dict())
    model.freeze(done + best)
    return done + best


def nrem(learner: ERACE, short: tuple[np.ndarray, np.ndarray], stages: Stages,
         generator: torch.Generator) -> None:
    """Our reading of WSCL's NREM stage (wscl-nrem): replay short-term memory (the task's held-out
    images) with long-term memory (the reservoir), accumulating each weight's importance
    |w * dL/dw|, then scale the most important ``nrem_fraction`` of every trainable weight tensor
    by 1 + s and the least important by 1 - s (s = ``nrem_strength``)."""
    model, buf = learner.model, learner.buffer
    xs = [torch.from_numpy(short[0])] + ([buf.x[: buf.n]] if len(buf) else [])
    ys = [torch.from_numpy(short[1])] + ([buf.y[: buf.n]] if len(buf) else [])
    x, y = torch.cat(xs), torch.cat(ys)
    weights = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    importance = [torch.zeros_like(w) for w in weights]
    model.train()
    for _ in range(stages.nrem_epochs):
        perm = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), stages.batch):
            idx = perm[i : i + stages.batch]
            learner.opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            for imp, w in zip(importance, weights, strict=True):
                imp += (w.detach() * w.grad).abs()
            learner.opt.step()
    with torch.no_grad():
        for imp, w in zip(importance, weights, strict=True):
            k = max(1, int(stages.nrem_fraction * imp.numel()))
            flat = imp.flatten()
            top = flat.topk(k).indices
            low = (-flat).topk(k).indices
            scale = torch.ones_like(flat)
            scale[top] += stages.nrem_strength
            scale[low] -= stages.nrem_strength
            w.mul_(scale.view_as(w))


def run_stream(model: Backbone, tasks: Sequence[StreamTask], stages: Stages, n_heads: int,
               seed: int, dreams: dict[int, np.ndarray] | None = None) -> dict:
    """Train ``model`` through ``tasks`` with the switched-on stages.

    Returns ``R[conv]`` (after task i, accuracy on task j; tasks not yet met count 0), ``pre[conv]``
    (accuracy on task j at its start, after its heads are chosen: FWT's numerator), the heads
    each task took, the blocks frozen after each task and the wall time in seconds.
    """
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    learner = ERACE(model, n_heads, stages.lr, stages.buffer, stages.replay_batch,
                    np.random.default_rng([seed, 5]))
    heads = Heads(n_heads)
    T = len(tasks)
    R = {c: np.zeros((T, T)) for c in CONVENTIONS}
    pre = {c: np.full(T, np.nan) for c in CONVENTIONS}
    taken, frozen = [], []
    for t, task in enumerate(tasks):
        if stages.dreaming and t > 0:
            chosen = choose_heads(model, heads, task)
        else:  # the first task, or no dreaming: task t's classes take heads 2t, 2t + 1
            chosen = list(range(t * len(task.classes), (t + 1) * len(task.classes)))
        heads.assign(task.classes, chosen)
        taken.append(chosen)
        seen = [h for hs in taken for h in hs]
        if t > 0:
            for c, a in accuracies(model, heads, task.x_test, task.y_test, chosen, seen).items():
                pre[c][t] = a
        x = task.x_train
        y = heads.of(task.y_train)
        keep = np.ones(len(y), dtype=bool)
        if stages.dreaming and dreams:
            dx, dy = dream_set(heads, dreams)
            if len(dy):
                x, y = np.concatenate([x, dx]), np.concatenate([y, dy])
                keep = np.concatenate([keep, np.zeros(len(dy), dtype=bool)])
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        yt, kt = torch.from_numpy(y), torch.from_numpy(keep)
        for e in range(stages.epochs):
            if e == 0 and t > 0 and stages.freezing:
                prev = tasks[t - 1]
                held = [(task.x_val, heads.of(task.y_val)), (prev.x_hold, heads.of(prev.y_hold))]
                select_freezing(learner, xt, yt, kt, t, stages, generator, held)
            else:
                epoch([learner], xt, yt, kt, t, stages.batch, generator, stages.augment)
        if stages.nrem:
            nrem(learner, (task.x_hold, heads.of(task.y_hold)), stages, generator)
        frozen.append(model.frozen_blocks())
        for j in range(t + 1):
            done = tasks[j]
            accs = accuracies(model, heads, done.x_test, done.y_test, taken[j], seen)
            for c, a in accs.items():
                R[c][t, j] = a
    return {"R": R, "pre": pre, "heads": taken, "frozen": frozen,
            "seconds": time.perf_counter() - start, "memory": len(learner.buffer)}


def random_baseline(model: Backbone, tasks: Sequence[StreamTask],
                    classes_per_task: int) -> dict[str, np.ndarray]:
    """Accuracy of the untrained ``model`` on each task with class c on head c (FWT's reference,
    as Mammoth's random-initialisation baseline)."""
    heads = Heads(len(tasks) * classes_per_task)
    heads.owner[:] = np.arange(len(heads.owner))
    out = {c: np.zeros(len(tasks)) for c in CONVENTIONS}
    for j, task in enumerate(tasks):
        own = list(task.classes)
        seen = list(range((j + 1) * classes_per_task))
        for c, a in accuracies(model, heads, task.x_test, task.y_test, own, seen).items():
            out[c][j] = a
    return out


@dataclass(frozen=True)
class WSCLSettings:
    """WSCL's settings in the cross-paradigm protocol."""

    budget: int  # reservoir size, images
    dream_per_class: int = 1000  # auxiliary images per free head


#: Runs on its own loop (:func:`run_stream`); it also keeps 100 held-out images per class
#: for its freezing choice.
SPEC = register(MethodSpec(
    name="wscl", display="WSCL", label="wscl", order=80, chapters=("paradigms",),
    settings=WSCLSettings, loop="module", budgeted=True, keeps="200 held out"))
