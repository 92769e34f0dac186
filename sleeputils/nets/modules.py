"""Backbones as ``torch.nn.Module``s, for the methods that train with autograd losses
(ER-ACE and WSCL; book/methods/wscl.md, wscl-backbones).

Each backbone takes flattened inputs (rows of a :class:`~sleeputils.data.Dataset`), exposes
``blocks``, its freezable units in input-to-output order, then ``last``, its last block, and
``head``, the output layer. Dynamic freezing (wscl-freezing) freezes a prefix of ``blocks``; as
in WSCL's public code, where ResNet-18's last stage and classifier are never candidates, ``last``
and ``head`` are never frozen.

* :class:`BiasFreeMLP`: the SRC network as a module, initialised exactly as
  :class:`~sleeputils.nets.mlp.MLP` from the same generator (a test asserts equal weights);
  its hidden layers but the last are the blocks.
* :class:`SmallCNN`: two conv-ReLU-max-pool blocks and a linear head, sized for 2 CPU cores;
  the first block is the freezable one.
* :class:`ResNet18`: the 18-layer residual net WSCL's public code uses on CIFAR (64 filters, 3x3
  stem, no max-pool, global average pool); its blocks are the six residual blocks of stages 1-3.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

BACKBONES = ("mlp", "cnn", "resnet18")


class Backbone(nn.Module):
    """A network with freezable ``blocks`` (a prefix is frozen at a time), then a ``last`` block
    and a ``head`` that are never frozen."""

    blocks: nn.ModuleList
    last: nn.Module
    head: nn.Module

    def frozen_blocks(self) -> int:
        """How many leading blocks are frozen (no parameter requires a gradient)."""
        n = 0
        for block in self.blocks:
            if any(p.requires_grad for p in block.parameters()):
                break
            n += 1
        return n

    def freeze(self, n: int) -> None:
        """Freeze blocks 0..n-1 for good (their parameters stop taking gradients)."""
        for block in list(self.blocks)[:n]:
            for p in block.parameters():
                p.requires_grad_(False)


class BiasFreeMLP(Backbone):
    """Bias-free ReLU MLP; ``init_scale`` and ``generator`` give the weights of
    ``MLP(MLPConfig(sizes, init_scale=...), generator)``. No dropout: ER-ACE and WSCL train
    without it."""

    def __init__(self, sizes: Sequence[int], init_scale: float,
                 generator: torch.Generator) -> None:
        super().__init__()
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layer = nn.Linear(n_in, n_out, bias=False)
            u = torch.rand(n_out, n_in, generator=generator, dtype=torch.float32)
            with torch.no_grad():
                layer.weight.copy_((u - 0.5) * 2.0 * init_scale)
            layers.append(layer)
        hidden = [nn.Sequential(w, nn.ReLU()) for w in layers[:-1]]
        self.blocks = nn.ModuleList(hidden[:-1])
        self.last = hidden[-1] if hidden else nn.Identity()
        self.head = layers[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(self.last(x))


class SmallCNN(Backbone):
    """conv3x3-ReLU-maxpool blocks over a (channels, height, width) image, then a linear head."""

    def __init__(self, image: tuple[int, int, int], n_out: int,
                 widths: Sequence[int] = (16, 32)) -> None:
        super().__init__()
        self.image = tuple(image)
        c, h, w = image
        blocks = []
        for width in widths:
            blocks.append(nn.Sequential(nn.Conv2d(c, width, 3, padding=1), nn.ReLU(),
                                        nn.MaxPool2d(2)))
            c, h, w = width, h // 2, w // 2
        self.blocks = nn.ModuleList(blocks[:-1])
        self.last = blocks[-1]
        self.head = nn.Linear(c * h * w, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(len(x), *self.image)
        for block in self.blocks:
            x = block(x)
        return self.head(self.last(x).flatten(1))


class _Residual(nn.Module):
    """Two 3x3 conv-batchnorm layers with an identity (or 1x1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(Backbone):
    """ResNet-18 for small images: a 3x3 stem, stages of 2 residual blocks with 64, 128, 256 and
    512 filters, global average pooling, a linear head. The stem is frozen with the first block;
    the last stage is never frozen, like the head."""

    def __init__(self, image: tuple[int, int, int], n_out: int, width: int = 64) -> None:
        super().__init__()
        self.image = tuple(image)
        self.stem = nn.Sequential(nn.Conv2d(image[0], width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        widths = [width, 2 * width, 4 * width, 8 * width]
        units, c = [], width
        for s, w in enumerate(widths):
            for b in range(2):
                units.append(_Residual(c, w, 2 if s > 0 and b == 0 else 1))
                c = w
        first = nn.Sequential(self.stem, units[0])
        self.blocks = nn.ModuleList([first, *units[1:6]])
        self.last = nn.Sequential(*units[6:])
        self.head = nn.Linear(c, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(len(x), *self.image)
        for block in self.blocks:
            x = block(x)
        x = self.last(x)
        return self.head(x.mean(dim=(2, 3)))


def make_backbone(name: str, n_in: int, n_out: int, image: tuple[int, int, int] | None,
                  seed: int, hidden: Sequence[int] = (1200, 1200),
                  init_scale: float = 0.01) -> Backbone:
    """One of :data:`BACKBONES`, its initial weights fixed by ``seed``. The MLP's match
    ``MLP(MLPConfig((n_in, *hidden, n_out), init_scale=init_scale), Generator(seed))``."""
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}, got {name!r}")
    if name == "mlp":
        return BiasFreeMLP((n_in, *hidden, n_out), init_scale,
                           torch.Generator().manual_seed(seed))
    if image is None:
        raise ValueError(f"the {name} backbone needs images, not feature vectors")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return SmallCNN(image, n_out) if name == "cnn" else ResNet18(image, n_out)
