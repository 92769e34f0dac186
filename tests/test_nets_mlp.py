"""The bias-free MLP follows the original training code's conventions."""

import pytest
import torch

from sleeputils.nets.mlp import MLP, MLPConfig


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
    """delta_out = a - y even where the ReLU output is 0; v <- mu v + lr g.

    See book/methods/training.md, eq-loss and eq-momentum.
    """
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
