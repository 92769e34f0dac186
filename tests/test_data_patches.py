"""The four overlapping binary patches: pixel counts, disjointness, determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest

from sleeputils.data import make_patches
from sleeputils.data.patches import target_on_pixels


@pytest.mark.parametrize("overlap", [0, 1, 5, 15, 16, 17, 40, 100])
def test_counts_follow_the_integer_rule(overlap):
    p = make_patches(overlap, width=10, seed=3)
    unique = max(0, 16 - overlap)
    assert p.x.shape == (4, 100) and p.x.dtype == np.float32
    assert set(np.unique(p.x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(p.y, [0, 1, 2, 3])
    assert p.shared.sum() == overlap
    np.testing.assert_array_equal(p.unique.sum(axis=1), [unique] * 4)
    np.testing.assert_array_equal(p.x.sum(axis=1), [max(16, overlap)] * 4)
    assert p.n_on == max(16, overlap)
    np.testing.assert_array_equal(p.x.astype(bool), p.shared[None, :] | p.unique)


def test_unique_sets_are_disjoint_from_each_other_and_the_overlap():
    p = make_patches(6, seed=11)
    owners = p.unique.sum(axis=0)
    assert owners.max() == 1  # no pixel belongs to two images' unique sets
    assert not (p.unique & p.shared[None, :]).any()
    # a pixel ON in all four images is exactly a shared pixel
    np.testing.assert_array_equal(p.x.min(axis=0).astype(bool), p.shared)


def test_full_overlap_makes_identical_images():
    p = make_patches(16)
    assert (p.x == p.x[0]).all() and not p.unique.any()
    p0 = make_patches(0)
    assert not p0.shared.any() and p0.x.sum() == 64


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b, c = make_patches(4, seed=7), make_patches(4, seed=7), make_patches(4, seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    g = make_patches(4, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(g.x, a.x)


def test_tasks_are_images_01_and_23():
    p = make_patches(3)
    assert p.tasks == ((0, 1), (2, 3))
    x, y = p.task(1)
    np.testing.assert_array_equal(y, [2, 3])
    np.testing.assert_array_equal(x, p.x[2:])


def test_other_widths():
    assert target_on_pixels(10) == 16 and target_on_pixels(28) == 130
    p = make_patches(10, width=28, seed=0)
    assert p.x.shape == (4, 784) and p.x.sum(axis=1).tolist() == [130.0] * 4
    assert make_patches(784, width=28).x.sum() == 4 * 784


@pytest.mark.parametrize("overlap", [-1, 101, 2.5, True, "3"])
def test_overlap_outside_0_to_width_squared_is_rejected(overlap):
    with pytest.raises(ValueError, match=r"overlap must be an int in 0\.\.100"):
        make_patches(overlap)


@pytest.mark.parametrize("width", [2, 0, 4.0])
def test_bad_width_is_rejected(width):
    with pytest.raises(ValueError, match="width must be an int >= 3"):
        make_patches(0, width=width)
