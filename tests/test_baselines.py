"""EWC, SI and OWM: each against a known answer (closed forms, a second implementation, an
invariant), never against a stored number."""

import numpy as np
import pytest
import torch

from sleeputils.methods import EWC, OWM, SI
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.training import TaskContext, one_hot, run_tasks


class _Task:
    def __init__(self, x, y, classes):
        self.x_train, self.y_train, self.classes = x, y, classes


def _tasks(n=200, d=12, zero_feature=None, seed=0):
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(2):
        x = rng.random((n, d)).astype(np.float32)
        if zero_feature is not None:
            x[:, zero_feature] = 0.0
        y = rng.integers(2 * t, 2 * t + 2, n)
        tasks.append(_Task(x, y, (2 * t, 2 * t + 1)))
    return tasks


def _net(seed=0, **kw):
    cfg = MLPConfig(sizes=(12, 16, 16, 4), init_scale=0.3, **kw)
    return MLP(cfg, torch.Generator().manual_seed(seed))


def _run(hooks, seed=0, **kw):
    net = _net(seed, **kw)
    run_tasks(net, _tasks(), hooks, 2, torch.Generator().manual_seed(1))
    return net


def test_squared_example_gradients_equal_a_loop_over_examples():
    net = _net(dropout=0.25)
    x = torch.rand(30, 12, generator=torch.Generator().manual_seed(3))
    y = one_hot(np.arange(30) % 4, 4)
    fast = net.squared_example_gradients(x, y, batch=7)
    slow = [torch.zeros_like(w) for w in net.weights]
    for i in range(30):
        ws = [w.clone().requires_grad_(True) for w in net.weights]
        h = x[i : i + 1]
        for k, w in enumerate(ws):
            z = h @ w.T
            h = torch.relu(z) * 0.75 if k < 2 else z
        a = h + (torch.relu(h) - h).detach()
        loss = 0.5 * ((a - y[i : i + 1]) ** 2).sum()
        for k, g in enumerate(torch.autograd.grad(loss, ws)):
            slow[k] += g**2
    for f, s in zip(fast, slow, strict=True):
        torch.testing.assert_close(f, s, rtol=1e-4, atol=1e-7)


def test_ewc_with_zero_strength_is_sequential_training_exactly():
    plain = _run([])
    ewc = _run([EWC(0.0)])
    for a, b in zip(plain.weights, ewc.weights, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("hook", [EWC(50.0), EWC(50.0, "online", 0.9), SI(5.0)])
def test_penalty_gradient_is_the_gradient_of_the_penalty(hook):
    net = _run([hook])
    ws = [w.clone().requires_grad_(True) for w in net.weights]
    auto = torch.autograd.grad(_penalty(hook, ws), ws)
    ctx = TaskContext(index=1, tasks=[], net=MLP.__new__(MLP))
    ctx.net.weights = [w.detach() for w in ws]
    zeros = [torch.zeros_like(w) for w in net.weights]
    added = hook.gradients(ctx, None, zeros)
    for a, g in zip(auto, added, strict=True):
        torch.testing.assert_close(a, g, rtol=1e-4, atol=1e-6)


def _penalty(hook, ws):
    return hook.strength * sum((0.5 * a * w * w - b * w).sum()
                               for a, w, b in zip(hook.A, ws, hook.B, strict=True))


def test_standard_ewc_keeps_one_anchor_per_task():
    """A = F1 + F2, B = F1 W1 + F2 W2, so the penalty's minimum is the Fisher-weighted mean."""
    hook = EWC(1.0)
    fishers, anchors = [], []
    original = hook.anchor

    def spy(importance, weights):
        fishers.append(importance)
        anchors.append(weights)
        original(importance, weights)

    hook.anchor = spy
    _run([hook])
    for k in range(3):
        torch.testing.assert_close(hook.A[k], fishers[0][k] + fishers[1][k])
        torch.testing.assert_close(hook.B[k], fishers[0][k] * anchors[0][k]
                                   + fishers[1][k] * anchors[1][k])


def test_si_importance_of_an_untouched_weight_is_zero():
    hook = SI(1.0)
    net = _net()
    run_tasks(net, _tasks(zero_feature=5), [hook], 2, torch.Generator().manual_seed(1))
    assert torch.all(hook.Omega[0][:, 5] == 0)
    assert hook.Omega[0].abs().sum() > 0


@pytest.mark.parametrize("output", ["softmax", "relu"])
def test_si_path_integral_equals_the_fall_of_the_loss(output):
    """With full-batch steps, no dropout and no momentum, sum(-g dW) is the loss's fall to first
    order in the step size, when g is the loss gradient (softmax output). The original ReLU
    output's linear backward pass is not the gradient of its loss: there the identity fails."""
    net = _net(dropout=0.0, momentum=0.0, lr=0.05, batch_size=200, output=output)
    task = _tasks()[0]
    x, y = torch.from_numpy(task.x_train), one_hot(task.y_train, 4)
    loss_before = net.gradients(x, y, torch.Generator()).loss
    hook = SI(1.0)
    run_tasks(net, [task], [hook], 30, torch.Generator().manual_seed(1))
    loss_after = net.gradients(x, y, torch.Generator()).loss
    path = float(sum(o.sum() for o in hook.omega))
    assert loss_before - loss_after > 0.01
    if output == "softmax":
        assert path == pytest.approx(loss_before - loss_after, rel=0.02)
    else:
        assert path != pytest.approx(loss_before - loss_after, rel=0.2)


def test_owm_projector_is_the_closed_form_inverse():
    """The recursion from P = I gives P = (I + X^T X / alpha)^-1 (Sherman-Morrison)."""
    rng = np.random.default_rng(0)
    X = rng.random((6, 10))
    hook = OWM(alpha=0.5)
    hook.P, hook._P32 = [torch.eye(10, dtype=torch.float64)], [torch.eye(10)]
    for x in X:
        hook.absorb(0, torch.from_numpy(x))
    closed = np.linalg.inv(np.eye(10) + X.T @ X / 0.5)
    np.testing.assert_allclose(hook.P[0].numpy(), closed, atol=1e-10)


def test_owm_update_leaves_absorbed_inputs_unchanged():
    """After task 1, a projected gradient barely moves the first layer's response to the inputs
    it absorbed; the raw gradient moves it."""
    hook = OWM(alpha=1e-4)
    net = _net(dropout=0.0)
    tasks = _tasks()
    run_tasks(net, tasks[:1], [hook], 1, torch.Generator().manual_seed(1))
    # Means of task-1 batches are what P_1 absorbed; rebuild a few of them.
    x1 = torch.from_numpy(tasks[0].x_train)
    step = net.gradients(torch.from_numpy(tasks[1].x_train[:100]),
                         one_hot(tasks[1].y_train[:100], 4), torch.Generator())
    projected = hook.gradients(None, step, step.grads)
    probe = x1.mean(dim=0)  # in the span of the absorbed batch means
    raw_move = (step.grads[0] @ probe).norm()
    owm_move = (projected[0] @ probe).norm()
    assert owm_move < 1e-3 * raw_move


@pytest.mark.parametrize("make", [lambda: EWC(-1.0), lambda: EWC(1.0, "offline"),
                                  lambda: SI(1.0, xi=0.0), lambda: OWM(0.0)])
def test_bad_settings_fail_at_construction(make):
    with pytest.raises(ValueError):
        make()


def test_owm_fast_projection_equals_the_plain_product():
    """delta^T (H P) and G P are the same matrix (G = delta^T H)."""
    hook = OWM(alpha=0.01)
    net = _net()
    tasks = _tasks()
    run_tasks(net, tasks[:1], [hook], 1, torch.Generator().manual_seed(1))
    x, y = torch.from_numpy(tasks[1].x_train[:100]), one_hot(tasks[1].y_train[:100], 4)
    step = net.gradients(x, y, torch.Generator().manual_seed(2), deltas=True)
    fast = hook.gradients(None, step, step.grads)
    plain = hook.gradients(None, step, list(step.grads))
    for f, p in zip(fast, plain, strict=True):
        torch.testing.assert_close(f, p, rtol=1e-4, atol=1e-7)


def test_asking_for_deltas_leaves_the_weight_gradients_bit_identical():
    net = _net()
    task = _tasks()[0]
    x, y = torch.from_numpy(task.x_train[:50]), one_hot(task.y_train[:50], 4)
    a = net.gradients(x, y, torch.Generator().manual_seed(2))
    b = net.gradients(x, y, torch.Generator().manual_seed(2), deltas=True)
    assert all(torch.equal(g, h) for g, h in zip(a.grads, b.grads, strict=True))
    for k in range(3):
        torch.testing.assert_close(b.deltas[k].T @ b.inputs[k], b.grads[k])
