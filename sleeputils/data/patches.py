"""The toy task of four overlapping binary patches.

Four binary images of ``width`` x ``width`` pixels share a random set of ON pixels (the overlap)
and each has its own ON pixels that no other image uses. Task 1 is images 0 and 1, task 2 is
images 2 and 3; the overlap controls how much the tasks interfere.

Integer rule (ours). The original script asks for width**2 / 6 - overlap unique pixels per image,
which is 16.67 - overlap for width 10: a non-integer count that only works through legacy MATLAB
colon behaviour (effectively 16 - overlap). We use

* ``n_on = floor(width**2 / 6)`` target ON pixels per image (16 for width 10);
* ``shared``: exactly ``overlap`` pixels, ON in all four images;
* ``unique``: ``max(0, n_on - overlap)`` pixels per image, disjoint from each other and from the
  shared set.

So each image has ``max(n_on, overlap)`` ON pixels: ``n_on`` while ``overlap <= n_on``, and for
``overlap >= n_on`` the four images are identical, each with exactly ``overlap`` ON pixels.
``overlap`` may be 0..width**2. The four unique sets fit because 4 * n_on <= width**2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

N_IMAGES = 4
TASKS: tuple[tuple[int, int], ...] = ((0, 1), (2, 3))


@dataclass(frozen=True, eq=False)
class Patches:
    """Four flattened binary images and the masks they were built from.

    ``x`` is (4, width**2) float32 of 0/1; ``y`` is (4,) int64 = 0, 1, 2, 3; ``shared`` is the
    (width**2,) bool overlap mask; ``unique`` is (4, width**2) bool, row i the pixels only image i
    has. ``x[i] == shared | unique[i]``.
    """

    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    shared: np.ndarray = field(repr=False)
    unique: np.ndarray = field(repr=False)
    width: int
    overlap: int

    @property
    def n_on(self) -> int:
        """ON pixels per image, ``max(floor(width**2 / 6), overlap)``."""
        return int(self.x[0].sum())

    @property
    def tasks(self) -> tuple[tuple[int, int], ...]:
        """Image indices of each task: ((0, 1), (2, 3))."""
        return TASKS

    def task(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of task ``k`` (0-based)."""
        idx = list(TASKS[k])
        return self.x[idx], self.y[idx]


def target_on_pixels(width: int) -> int:
    """``floor(width**2 / 6)``: the integer version of the original's width**2 / 6."""
    return width * width // 6


def make_patches(overlap: int, width: int = 10, seed: int | np.random.Generator = 0) -> Patches:
    """Build the four patch images with ``overlap`` shared ON pixels (rule in the module doc).

    Pixels are drawn from one random permutation of all positions: the first ``overlap`` are
    shared, the next blocks of ``max(0, n_on - overlap)`` are images 0..3's unique pixels. The
    result is therefore a deterministic function of ``(overlap, width, seed)``.
    """
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 3:
        raise ValueError(f"width must be an int >= 3 (so that width**2 / 6 >= 1), got {width!r}")
    width = int(width)
    n_pixels = width * width
    if (
        isinstance(overlap, bool)
        or not isinstance(overlap, int | np.integer)
        or not 0 <= overlap <= n_pixels
    ):
        raise ValueError(f"overlap must be an int in 0..{n_pixels} (width**2), got {overlap!r}")
    overlap = int(overlap)
    n_unique = max(0, target_on_pixels(width) - overlap)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    order = rng.permutation(n_pixels)

    shared = np.zeros(n_pixels, dtype=bool)
    shared[order[:overlap]] = True
    unique = np.zeros((N_IMAGES, n_pixels), dtype=bool)
    for i in range(N_IMAGES):
        start = overlap + i * n_unique
        unique[i, order[start : start + n_unique]] = True

    x = (shared[None, :] | unique).astype(np.float32)
    y = np.arange(N_IMAGES, dtype=np.int64)
    return Patches(x=x, y=y, shared=shared, unique=unique, width=width, overlap=overlap)
