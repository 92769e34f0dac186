"""Networks, training loop, normalisation, presets and metrics against closed-form cases."""

import numpy as np
import pytest
import torch

from sleeputils.metrics import backward_transfer, forgetting
from sleeputils.training import Hook, run_tasks
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.sleep.normalisation import diehl_lambdas, layer_scales
from sleeputils.sleep.presets import preset, preset_names


def _net(sizes=(3, 4, 2), **kw) -> MLP:
    return MLP(MLPConfig(sizes=sizes, **kw), torch.Generator().manual_seed(0))


def test_init_is_uniform_in_range():
    net = _net((784, 1200, 10))
    w = torch.cat([w.ravel() for w in net.weights])
    assert w.abs().max() <= 0.01 and w.min() < -0.0099 and w.max() > 0.0099
    assert abs(float(w.mean())) < 2e-4


def test_test_mode_scales_hidden_by_keep_probability():
    net = _net(dropout=0.25)
    x = torch.rand(5, 3)
    h = torch.relu(x @ net.weights[0].T) * 0.75
    out = torch.relu(h @ net.weights[1].T)
    acts = net.activations(x)
    torch.testing.assert_close(acts[0], h)
    torch.testing.assert_close(acts[1], out)


def test_mse_relu_output_is_linear_in_backprop_and_momentum():
    """delta_out = a - y even where the ReLU output is 0 (spec §3); v <- mu v + lr g."""
    net = _net((2, 1), dropout=0.0, lr=0.5, momentum=0.5)
    net.weights = [torch.tensor([[-1.0, -1.0]])]  # output pre-activation negative -> a = 0
    x, y = torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]])
    g = (0.0 - 1.0) * x  # (a - y) x^T, ReLU derivative not applied
    net.train_step(x, y, torch.Generator().manual_seed(0))
    v1 = 0.5 * g
    torch.testing.assert_close(net.weights[0], torch.tensor([[-1.0, -1.0]]) - v1)
    # second step: a still 0 (weights still negative); velocity accumulates
    net.train_step(x, y, torch.Generator().manual_seed(0))
    v2 = 0.5 * v1 + 0.5 * g
    torch.testing.assert_close(net.weights[0], torch.tensor([[-1.0, -1.0]]) - v1 - v2)
    torch.testing.assert_close(net.velocity[0], v2)


def test_dropout_zeroes_without_rescaling():
    net = _net((1, 2000, 1), dropout=0.25, lr=1e-9)
    net.weights[0] = torch.ones(2000, 1)
    net.weights[1] = torch.ones(1, 2000)
    gen = torch.Generator().manual_seed(1)
    net.train_step(torch.ones(1, 1), torch.zeros(1, 1), gen)
    # gradient of W2 is (a - y) * h = a * h with h in {0, 1}: fraction of kept units ~ 0.75
    kept = float((net.velocity[1] != 0).float().mean())
    assert kept == pytest.approx(0.75, abs=0.03)
    a = float(net.velocity[1].abs().max()) / 1e-9
    assert a == pytest.approx(kept * 2000, rel=1e-3)  # output = number of kept units: no 1/(1-p)


def test_diehl_lambda_quirk_closed_form():
    # spec §1.2: lambda = [1/s1, s1/s2, s2/(s1 s3)]
    assert diehl_lambdas([2.0, 4.0, 8.0]) == pytest.approx([0.5, 0.5, 0.25])
    assert diehl_lambdas([3.0, 5.0]) == pytest.approx([1 / 3, 3 / 5])  # textbook for 2 layers
    with pytest.raises(ValueError, match="layer 2"):
        diehl_lambdas([1.0, 0.0])


def test_layer_scales_take_weight_or_activation_maximum():
    w = [np.array([[0.3, -1.0]]), np.array([[-0.2]])]
    assert layer_scales(w, [0.1, 0.0]) == [0.3, 0.0]
    assert layer_scales(w, [2.0, 0.5]) == [2.0, 0.5]


def test_presets_load_and_lengths_follow_spec():
    names = preset_names()
    assert {"mnist", "fashion", "cifar10", "cub200", "patches", "crossmodal"} <= set(names)
    for name in names:
        p = preset(name)
        assert p.spike_gain == pytest.approx(2 * 0.001 * p.r_max)
    mnist = preset("mnist")
    assert [mnist.sleep_length(i) for i in range(1, 6)] == [15000, 20000, 25000, 30000, 35000]
    assert preset("cifar10").sleep_length(4) == 15000
    assert preset("crossmodal").sleep_length(2) == 255
    assert mnist.sleep_length(2, scale=0.1) == 2000
    assert preset("patches").thresholds(1) == (pytest.approx(1.045),)


def test_bad_presets_are_rejected():
    with pytest.raises(ValueError, match="valid presets: mnist"):
        preset("mnits")
    with pytest.raises(ValueError, match="beta"):
        preset("mnist").with_(beta=(1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="lengths"):
        preset("mnist").with_(lengths={"fixed": -5})
    with pytest.raises(ValueError, match="3 layers need 3 beta"):
        preset("mnist").with_(beta=(1.0,)).thresholds(3)


def test_bwt_and_forgetting_closed_form():
    R = np.array([[90.0, 0, 0], [50.0, 80, 0], [30.0, 60, 70]])
    assert backward_transfer(R) == pytest.approx(((30 - 90) + (60 - 80)) / 2)
    assert forgetting(R) == pytest.approx(((90 - 30) + (80 - 60)) / 2)
    R2 = np.array([[50.0, 0], [70.0, 90]])  # improvement: negative forgetting
    assert forgetting(R2) == pytest.approx(-20.0)
    with pytest.raises(ValueError):
        forgetting(np.zeros((2, 3)))


class _Recorder(Hook):
    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def training_data(self, ctx, x, y):
        self.calls.append((self.name, "data", ctx.index))
        return x, y

    def after_task(self, ctx):
        self.calls.append((self.name, "after", ctx.index))
        return f"after_{self.name}"


def test_loop_calls_hooks_in_order_and_evaluates_each_stage():
    class T:
        def __init__(self, c):
            self.x_train = np.random.default_rng(c).random((100, 3)).astype(np.float32)
            self.y_train = np.full(100, c)

    calls, stages = [], []
    run_tasks(_net(), [T(0), T(1)], [_Recorder("a", calls), _Recorder("b", calls)], 1,
              torch.Generator().manual_seed(0), evaluate=lambda s, i, n: stages.append((s, i)))
    assert calls[:4] == [("a", "data", 0), ("b", "data", 0), ("a", "after", 0),
                         ("b", "after", 0)]
    assert stages == [("after_task", 0), ("after_a", 0), ("after_b", 0),
                      ("after_task", 1), ("after_a", 1), ("after_b", 1)]
