"""The SRC engines: closed-form cases, and the fast engine equal to the readable one."""

import numpy as np
import pytest
from scipy.special import expit

from sleeputils.sleep.fast import sleep_fast
from sleeputils.sleep.inputs import SpikeTrain, make_spike_train
from sleeputils.sleep.readable import plasticity_factor, sleep_readable


def _train(steps: list[list[int]], n_inputs: int) -> SpikeTrain:
    indptr = np.cumsum([0] + [len(s) for s in steps]).astype(np.int64)
    indices = np.array([i for s in steps for i in s], dtype=np.int64)
    return SpikeTrain(indptr=indptr, indices=indices, n_inputs=n_inputs)


def test_plasticity_factor_matches_its_closed_form_values():
    # book/methods/sleep.md, eq-sigmoid-gate: g(w) = 2 / (1 + exp(1000 w))
    w = np.array([-0.05, -0.002, 0.0, 0.001, 0.005, 0.05])
    expected = 2.0 / (1.0 + np.exp(1000.0 * w))
    np.testing.assert_allclose(plasticity_factor(w), expected, rtol=1e-12)
    assert plasticity_factor(np.array([0.0]))[0] == pytest.approx(1.0)
    assert plasticity_factor(np.array([5.0]))[0] == 0.0  # no overflow warning, exactly frozen


def test_neuron_fires_every_step_trajectory():
    """Leak, threshold and reset on a case computed by hand: constant current 0.6, threshold 1,
    decay 0.5: v = 0.6, 0.9, 1.05 -> fire, reset, 0.6, 0.9, 1.05 -> fire ..."""
    for engine in (sleep_readable, sleep_fast):
        W = [np.array([[0.6]])]  # frozen (g(0.6) = 0), so the dynamics stay periodic
        _, counts, _ = engine(W, [1.0], [1.0], 0.1, 0.1, 0.5, _train([[0]] * 9, 1))
        assert counts[1] == 3  # fires at steps 3, 6, 9


def test_potentiation_and_depression_trajectory():
    """A post neuron driven to fire every step by a frozen weight; the other two synapses
    follow the closed-form recursions of book/methods/sleep.md, eq-plasticity (pre spike ->
    +inc g, none -> -dec g)."""
    inc, dec, steps = 0.01, 0.003, 40
    # inputs: 0 drives (w = 2, frozen), 1 spikes with it, 2 never spikes.
    W = [np.array([[2.0, -0.004, 0.001]])]
    expected = W[0][0].copy()
    for _ in range(steps):
        g = 2.0 * expit(-1000.0 * expected)
        expected = expected + np.array([inc, inc, -dec]) * g
    for engine in (sleep_readable, sleep_fast):
        out, counts, _ = engine(W, [1.0], [0.5], inc, dec, 0.999, _train([[0, 1]] * steps, 3))
        assert counts[1] == steps
        np.testing.assert_allclose(out[0][0], expected, rtol=1e-12, atol=1e-15)
    assert W[0][0, 1] == -0.004  # the input weights are not modified in place


def test_silent_rows_unchanged():
    W = [np.array([[2.0, -0.004], [-2.0, -0.004]])]
    out, _, _ = sleep_fast(W, [1.0], [0.5], 0.01, 0.003, 0.999, _train([[0]] * 10, 2))
    np.testing.assert_array_equal(out[0][1], W[0][1])  # neuron 1 never fired
    assert not np.allclose(out[0][0, 1], W[0][0, 1])


def test_fast_equals_readable_on_a_784_1200_1200_10_net():
    """Hundreds of steps in both regimes: sparse (a few spikes) and busy (many neurons fire)."""
    rng = np.random.default_rng(0)
    W = [
        rng.uniform(-0.012, 0.02, (1200, 784)),
        rng.uniform(-0.012, 0.02, (1200, 1200)),
        rng.uniform(-0.012, 0.02, (10, 1200)),
    ]
    xbar = rng.random(784) * 0.6
    spikes = make_spike_train(xbar, 500, 0.479, np.random.default_rng(1), window=11,
                              image_shape=(28, 28))
    for alpha in ([40.0, 8.0, 3.0], [12.0, 3.0, 1.0]):  # busy, then sparse
        thresholds = [14.5, 44.5, 38.0]
        ref, c_ref, u_ref = sleep_readable(W, alpha, thresholds, 0.032, 0.0033, 0.999, spikes)
        fast, c_fast, u_fast = sleep_fast(W, alpha, thresholds, 0.032, 0.0033, 0.999, spikes)
        np.testing.assert_array_equal(c_ref, c_fast)
        for k, (a, b) in enumerate(zip(u_ref, u_fast, strict=True)):  # every neuron's count
            np.testing.assert_array_equal(a, b)
            assert a.sum() == c_ref[k + 1] and a.shape == (W[k].shape[0],)
        for a, b in zip(ref, fast, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert np.abs(ref[0] - W[0]).max() > 1e-3  # sleep really changed the weights
        assert c_ref[1] > 0 and c_ref[2] > 0
    assert c_ref[1] < 500 * 10  # the sparse regime is sparse


def test_spike_train_window_and_rates():
    rng = np.random.default_rng(3)
    xbar = np.full(784, 0.5)
    train = make_spike_train(xbar, 4000, 0.4, rng, window=11, image_shape=(28, 28))
    for t in range(0, 4000, 97):
        idx = train.indices[train.indptr[t] : train.indptr[t + 1]]
        if idx.size:
            r, c = np.divmod(idx, 28)
            assert r.max() - r.min() <= 10 and c.max() - c.min() <= 10
    # each step: 121 window pixels, each firing with P = 0.4 * 0.5 = 0.2
    rate = train.indices.size / (4000 * 121)
    assert rate == pytest.approx(0.2, abs=0.01)
    full = make_spike_train(np.array([0.0, 0.25, 1.0, 5.0]), 20000, 2.0, rng)
    freq = np.bincount(full.indices, minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.0, 0.5, 1.0, 1.0], atol=0.015)
    assert full.dense(0)[2] == 1.0


def test_spike_train_is_seeded():
    a = make_spike_train(np.full(784, 0.3), 300, 0.5, np.random.default_rng(9), 11, (28, 28))
    b = make_spike_train(np.full(784, 0.3), 300, 0.5, np.random.default_rng(9), 11, (28, 28))
    np.testing.assert_array_equal(a.indices, b.indices)
