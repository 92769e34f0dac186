"""OWM in its authors' recipe: each element against a known answer (closed forms, an invariant,
the book's SRC-protocol OWM as a second implementation), never against a stored number."""

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.data import load_dataset
from sleeputils.methods import OWM
from sleeputils.methods.owm_recipe import (
    OWMRecipe,
    OWMRecipeParams,
    clip_scale,
    recipe_hook,
    recipe_mlp,
    src_protocol_values,
)
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.params import ParamError
from sleeputils.protocols import incremental
from sleeputils.protocols.incremental import IncrementalConfig
from sleeputils.protocols.owm_recipe import OWMRecipeConfig, run_owm_recipe
from sleeputils.report import owm_recipe as owm_recipe_report
from sleeputils.results.setting import encode
from sleeputils.training import TaskContext, one_hot, run_tasks


class _Task:
    def __init__(self, x, y, classes):
        self.x_train, self.y_train, self.classes = x, y, classes


def _tasks(n=200, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return [_Task(rng.random((n, d)).astype(np.float32), rng.integers(2 * t, 2 * t + 2, n),
                  (2 * t, 2 * t + 1)) for t in range(2)]


def _hook(alphas=(0.5, 0.5, 0.5), decays=(1.0, 1.0, 1.0), clip=None, absorb="before",
          epochs=1, width=10):
    hook = OWMRecipe(alphas, decays, clip, absorb, epochs)
    hook.P = [torch.eye(width, dtype=torch.float64) for _ in alphas]
    hook._P32 = [p.float() for p in hook.P]
    return hook


def test_projector_with_layer_alphas_is_the_closed_form_inverse():
    """Absorbing x_i at alpha_i gives P = (I + sum_i x_i x_i^T / alpha_i)^-1, whatever the
    alphas (so the decaying schedule keeps P the inverse it should be)."""
    rng = np.random.default_rng(0)
    X, alphas = rng.random((6, 10)), [0.9 * 0.001 ** (i / 6) for i in range(6)]
    hook = _hook()
    for x, a in zip(X, alphas, strict=True):
        hook.absorb(0, torch.from_numpy(x), a)
    closed = np.linalg.inv(np.eye(10) + (X.T * (1 / np.array(alphas))) @ X)
    np.testing.assert_allclose(hook.P[0].numpy(), closed, atol=1e-10)


def test_projector_annihilates_absorbed_inputs_as_alpha_goes_to_zero():
    """With alpha -> 0 the projector maps every absorbed input to ~0 and leaves directions
    orthogonal to them unchanged."""
    rng = np.random.default_rng(1)
    X = rng.random((4, 10))
    hook = _hook()
    for x in X:
        hook.absorb(0, torch.from_numpy(x), 1e-9)
    P = hook.P[0].numpy()
    assert np.abs(P @ X.T).max() < 1e-6 * np.abs(X).max()
    q, _ = np.linalg.qr(np.c_[X.T, rng.random((10, 1))])
    v = q[:, -1]  # orthogonal to the 4 absorbed inputs
    np.testing.assert_allclose(P @ v, v, atol=1e-8)


def test_alpha_schedule_closed_form_and_steps_per_task():
    """alpha_k = a_k d_k^(s/S) for steps s = 0..S-1, S = (examples // batch) * epochs, and the
    schedule restarts with every task."""
    a, d = (0.9, 1.0, 0.6), (0.001, 0.1, 1.0)
    hook = OWMRecipe(a, d, None, "before", epochs=2)
    hook.step, hook.steps = 0, 10
    assert [hook.alpha_at(k) for k in range(3)] == list(a)
    hook.step = hook.steps  # lambda = 1
    np.testing.assert_allclose([hook.alpha_at(k) for k in range(3)],
                               [0.9e-3, 0.1, 0.6], rtol=1e-12)
    seen = []
    record = OWMRecipe.alpha_at

    def spy(self, k):
        if k == 0:
            seen.append((self.step, self.steps))
        return record(self, k)

    net = MLP(MLPConfig(sizes=(12, 16, 16, 4), batch_size=30), torch.Generator().manual_seed(0))
    OWMRecipe.alpha_at = spy
    try:
        run_tasks(net, _tasks(), [hook], 2, torch.Generator().manual_seed(1))
    finally:
        OWMRecipe.alpha_at = record
    per_task = 200 // 30 * 2
    assert seen == [(s, per_task) for s in range(per_task)] * 2


def test_clip_bounds_every_projected_gradient_and_is_a_plain_rescaling():
    """||clip(G) P|| <= clip (P has eigenvalues in (0, 1]); below the bound nothing changes,
    above it the result is (clip / ||G||) G P."""
    net = MLP(MLPConfig(sizes=(12, 16, 16, 4), init_scale=0.3),
              torch.Generator().manual_seed(0))
    task = _tasks()[0]
    x, y = torch.from_numpy(task.x_train[:100]), one_hot(task.y_train[:100], 4) * 50
    step = net.gradients(x, y, torch.Generator().manual_seed(2), deltas=True)
    norms = [float(g.norm()) for g in step.grads]
    clip = sorted(norms)[1]  # one layer under the bound, two over it
    free, clipped = _hook(clip=None, width=12), _hook(clip=clip, width=12)
    for h in (free, clipped):
        h.P = [torch.eye(w.shape[1], dtype=torch.float64) for w in net.weights]
        h._P32 = [p.float() for p in h.P]
    raw = free.gradients(None, step, step.grads)
    out = clipped.gradients(None, step, step.grads)
    for r, o, n in zip(raw, out, norms, strict=True):
        assert float(o.norm()) <= clip * (1 + 1e-5)
        torch.testing.assert_close(o, r * min(1.0, clip / n))
    assert clip_scale(torch.ones(4), 1.0) == pytest.approx(0.5)
    assert clip_scale(torch.ones(4), None) == 1.0


@pytest.mark.parametrize("absorb, moves", [("before", False), ("after", True)])
def test_absorbing_first_protects_the_batch_itself(absorb, moves):
    """Absorbing the batch before projecting (alpha -> 0) leaves the layer's response to the
    batch's own mean input unchanged by the step; absorbing after (P = I at step 1) does not."""
    net = MLP(MLPConfig(sizes=(12, 16, 4), dropout=0.0, init_scale=0.3),
              torch.Generator().manual_seed(0))
    hook = OWMRecipe((1e-9, 1e-9), (1.0, 1.0), None, absorb, 1)
    task = _tasks()[0]
    ctx = TaskContext(0, [task], net)
    hook.before_task(ctx)
    hook.training_data(ctx, task.x_train, task.y_train)
    x = torch.from_numpy(task.x_train[:40])
    step = net.gradients(x, one_hot(task.y_train[:40], 4), torch.Generator(), deltas=True)
    projected = hook.gradients(ctx, step, step.grads)
    mean = x.mean(dim=0)
    move = float((projected[0] @ mean).norm()) / float((step.grads[0] @ mean).norm())
    assert (move > 0.1) if moves else (move < 1e-6)


def test_src_protocol_values_reproduce_the_src_protocol_owm_hook():
    """With every element at the SRC protocol's value, the recipe hook trains the same net as
    the book's OWM hook (two implementations of the projector update agreeing)."""
    values = src_protocol_values(0.01)
    params = OWMRecipeParams(**{**values, "hidden": (16, 16)})
    cfg = recipe_mlp(params, 12, 4)
    assert cfg == MLPConfig(sizes=(12, 16, 16, 4), dropout=0.25, lr=0.1)
    nets = []
    for hook in (OWM(0.01), recipe_hook(params)):
        net = MLP(cfg, torch.Generator().manual_seed(0))
        run_tasks(net, _tasks(), [hook], 2, torch.Generator().manual_seed(1))
        nets.append((net, hook))
    (a, ha), (b, hb) = nets
    for p, q in zip(ha.P, hb.P, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)
    for w, v in zip(a.weights, b.weights, strict=True):
        torch.testing.assert_close(w, v, rtol=1e-5, atol=1e-7)


def test_src_protocol_values_reproduce_an_incremental_owm_trial():
    """The recipe's protocol at the SRC protocol's values gives the incremental chapter's OWM
    trial: the same splits, seeds and test sets (small nets, few images)."""
    small = dict(hidden=(16, 16), per_task_train=100, test_subset=500, epochs=1)
    config = IncrementalConfig(dataset="mnist", trials=1, methods=("owm",), owm_alpha=0.01,
                               **small)
    unit = incremental.method_unit(config, "owm", 0.01)
    theirs = incremental.run_method(load_dataset("mnist"), unit, 0)
    recipe = {**src_protocol_values(0.01), "hidden": (16, 16), "epochs": 1}
    ours = run_owm_recipe("mnist", 0, per_task_train=100, test_subset=500, **recipe)

    def acc(rows):
        return [(r["after_task"], r.get("task"), r["metric"], r["value"]) for r in rows
                if r["metric"] in ("acc_task", "acc_full")]

    assert len(acc(ours)) == 5 * 6
    for (i, t, m, v), (j, s, n, w) in zip(acc(ours), acc(theirs), strict=True):
        assert (i, t, m) == (j, s, n)
        assert v == w  # equal, not merely close: the projectors agree to rounding


def test_bias_is_a_constant_one_input_and_xavier_bounds_the_weights():
    cfg = MLPConfig(sizes=(12, 16, 4), bias=True, init="xavier", dropout=0.0)
    net = MLP(cfg, torch.Generator().manual_seed(0))
    assert [tuple(w.shape) for w in net.weights] == [(16, 13), (4, 17)]
    for w in net.weights:
        bound = np.sqrt(6.0 / sum(w.shape))
        assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.9 * bound
    x = torch.rand(5, 12, generator=torch.Generator().manual_seed(1))
    w1, w2 = net.weights
    h = torch.relu(x @ w1[:, :-1].T + w1[:, -1])
    torch.testing.assert_close(net.activations(x)[-1], torch.relu(h @ w2[:, :-1].T + w2[:, -1]))
    step = net.gradients(x, one_hot(np.arange(5) % 4, 4), torch.Generator(), deltas=True)
    for g, d in zip(step.grads, step.deltas, strict=True):  # the bias column sums the errors
        torch.testing.assert_close(g[:, -1], d.sum(dim=0))


def test_bad_recipes_fail_in_one_line():
    with pytest.raises(ParamError, match="'alphas' needs 3 values"):
        OWMRecipeParams(alphas=(0.9, 0.6)).check_layers()
    with pytest.raises(ParamError, match="'absorb'"):
        OWMRecipeParams(absorb="during")
    with pytest.raises(ValueError, match="alpha decays"):
        OWMRecipe((0.9,), (2.0,), None, "before", 1)


def test_variants_run_each_recipe_once_with_its_largest_trial_count():
    config = OWMRecipeConfig(datasets=("mnist", "fashion"), trials=3, matched=("epochs",),
                             sweep=("epochs", "lr"), sweep_trials=1)
    assert config.variants() == [("mnist", "none", 3), ("mnist", "epochs", 3),
                                 ("fashion", "none", 3), ("fashion", "epochs", 3),
                                 ("mnist", "lr", 1)]
    assert config.recipe("lr").lr == src_protocol_values(1.0)["lr"] != config.lr
    assert config.recipe("none") == OWMRecipeParams()


def _headline(values: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d, "method": "owm_recipe", "metric": "final_acc",
                          "changed": c, "trial": t, "value": v, "headline": True,
                          "setting": encode(changed=c)}
                         for (d, c), vs in values.items() for t, v in enumerate(vs)])


def test_the_verdict_names_the_variant_within_the_papers_spread_on_every_benchmark():
    """Paper: MNIST 77.04 ± 2.91, Fashion 58.35 ± 2.05, cross-modal 91.29 ± 1.05."""
    df = _headline({("mnist", "none"): [93.0, 94.0, 93.5], ("mnist", "epochs"): [76.0, 78.0, 77.0],
                    ("fashion", "none"): [77.0, 78.0, 77.5],
                    ("fashion", "epochs"): [58.0, 59.0, 57.0],
                    ("crossmodal", "none"): [95.0, 95.5, 96.0],
                    ("crossmodal", "epochs"): [91.0, 90.5, 92.0]})
    text = owm_recipe_report.owm_verdict(df)
    assert "only it reproduces" in text and "**recipe, 2 epochs per task**" in text
    worse = df.assign(value=df["value"].where(
        (df["dataset"] != "crossmodal") | (df["changed"] != "epochs"), 80.0))
    assert "No variant run here is within" in owm_recipe_report.owm_verdict(worse)


def test_the_sweep_pairs_each_element_with_the_recipe_on_the_same_trials():
    df = _headline({("mnist", "none"): [90.0, 94.0, 92.0], ("mnist", "lr"): [91.0],
                    ("mnist", "epochs"): [70.0, 75.0, 72.0]})
    means, moves = owm_recipe_report._sweep_effects(df, "mnist")
    assert means["none"] == 92.0 and moves["lr"] == 1.0  # trial 0 only: 91 - 90
    assert moves["epochs"] == pytest.approx(-19.666666, abs=1e-5)
    assert "**2 epochs per task** (72.33" in owm_recipe_report.sweep_verdict(df)


def test_two_variants_with_one_recipe_share_their_units(tmp_path):
    """A base recipe already at 2 epochs: the matched 2-epoch variant is the same recipe, so
    each trial is computed once and both variants read the same numbers."""
    from sleeputils.protocols.owm_recipe import run_owm_recipe_chapter
    from sleeputils.results.store import ResultStore

    config = OWMRecipeConfig(datasets=("mnist",), trials=1, hidden=(16, 16), epochs=2,
                             per_task_train=50, test_subset=200, sweep=("epochs",))
    df = run_owm_recipe_chapter(config, store=ResultStore(tmp_path), progress=False)
    assert len(list(tmp_path.rglob("*.jsonl"))) == 1
    final = df[(df["metric"] == "final_acc")]
    assert sorted(final["changed"]) == ["epochs", "none"]
    assert final["value"].nunique() == 1


def test_a_sweep_outside_the_benchmarks_fails_in_one_line():
    with pytest.raises(ParamError, match="'sweep_dataset' must be one of the benchmarks"):
        OWMRecipeConfig(datasets=("fashion",), sweep=("lr",), sweep_dataset="mnist")
