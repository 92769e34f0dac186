"""ER-ACE and WSCL: each stage does what its section says, checked against closed forms and
invariants; the protocol is paired, deterministic and fails early on bad input."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from sleeputils.methods.er_ace import ERACE, Reservoir, asymmetric_loss
from sleeputils.methods.wscl import Heads, Stages, greedy_assignment, nrem
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.nets.modules import make_backbone
from sleeputils.params import ParamError
from sleeputils.protocols.wscl import WSCLConfig, run_wscl
from sleeputils.results.store import ResultStore

TINY = {"trials": 1, "epochs": 2, "train_per_class": 60, "dream_per_class": 30,
        "validation": 20, "hold": 10, "test_subset": 200, "buffer": 40}


def test_mlp_backbone_starts_from_the_src_networks_weights() -> None:
    module = make_backbone("mlp", 784, 10, None, seed=3, hidden=(50, 40))
    net = MLP(MLPConfig((784, 50, 40, 10)), torch.Generator().manual_seed(3))
    layers = [b[0].weight for b in module.blocks] + [module.last[0].weight, module.head.weight]
    for a, b in zip(layers, net.weights, strict=True):
        assert torch.equal(a.detach(), b)


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet18"])
def test_the_last_block_and_the_head_are_never_frozen(name: str) -> None:
    # As in the public code (ResNet-18's last stage and classifier are never candidates):
    # freezing every candidate block leaves the last weight tensors before the head trainable.
    model = make_backbone(name, 3 * 8 * 8, 10, (3, 8, 8), seed=0, hidden=(20, 20, 20))
    model.freeze(len(model.blocks))
    assert model.frozen_blocks() == len(model.blocks) >= 1
    weights = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    assert weights[-1].requires_grad and all(p.requires_grad for p in model.head.parameters())
    assert not weights[0].requires_grad


def test_reservoir_keeps_every_offered_example_with_equal_chance() -> None:
    # Closed form: after n offers each example is in a size-m reservoir with probability m / n.
    hits = np.zeros(400)
    for seed in range(300):
        r = Reservoir(40, np.random.default_rng(seed))
        r.add(torch.arange(400.0)[:, None], torch.arange(400))
        hits[r.y[: r.n].numpy()] += 1
    assert len(r) == 40 and r.seen == 400
    share = hits / 300
    assert abs(share[:200].mean() - 0.1) < 0.01 and abs(share[200:].mean() - 0.1) < 0.01


def test_asymmetric_loss_masks_old_heads_only_from_the_second_task() -> None:
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([2, 3, 2, 3, 3, 2])
    seen = torch.zeros(10, dtype=torch.bool)
    seen[:2] = True
    # Task > 0: heads 0, 1 are masked; 2..9 stay (present, or above the highest seen head).
    expected = F.cross_entropy(logits[:, 2:], y - 2)
    assert torch.allclose(asymmetric_loss(logits, y, seen, task=1), expected)
    assert seen[:4].all() and not seen[4:].any()
    assert torch.allclose(asymmetric_loss(logits, y, seen.clone(), task=0),
                          F.cross_entropy(logits, y))


def test_greedy_assignment_binds_largest_counts_first() -> None:
    counts = np.array([[5, 9, 0], [8, 7, 1]])
    # 9 binds row 0 to column 1; then row 1 takes its best remaining column, 0.
    assert greedy_assignment(counts) == [1, 0]
    assert greedy_assignment(np.zeros((2, 3))) == [0, 1]


def test_frozen_blocks_do_not_move_and_the_rest_does() -> None:
    model = make_backbone("cnn", 784, 10, (1, 28, 28), seed=0)
    model.freeze(1)
    before = copy.deepcopy(model.state_dict())
    learner = ERACE(model, 10, 0.1, 0, 8, np.random.default_rng(0))
    x = torch.rand(16, 784, generator=torch.Generator().manual_seed(1))
    learner.observe(x, torch.arange(16) % 2, 0, torch.ones(16, dtype=torch.bool))
    after = model.state_dict()
    assert model.frozen_blocks() == 1
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("blocks.0"))
    assert not torch.equal(before["head.weight"], after["head.weight"])


def test_nrem_scales_the_top_and_bottom_shares_of_each_weight_tensor() -> None:
    model = make_backbone("mlp", 784, 10, None, seed=0, hidden=(20,))
    learner = ERACE(model, 10, 0.0, 10, 8, np.random.default_rng(0))  # lr 0: only the scaling
    before = [p.detach().clone() for p in model.parameters()]
    x = np.random.default_rng(0).random((30, 784), dtype=np.float32)
    stages = Stages(nrem_fraction=0.1, nrem_strength=0.2, batch=10)
    nrem(learner, (x, np.arange(30) % 10), stages, torch.Generator().manual_seed(0))
    for w0, w in zip(before, model.parameters(), strict=True):
        ratio = (w.detach() / w0).flatten()
        k = int(0.1 * w0.numel())
        assert int(torch.isclose(ratio, torch.tensor(1.2)).sum()) == k
        assert int(torch.isclose(ratio, torch.tensor(0.8)).sum()) == k
        assert int(torch.isclose(ratio, torch.tensor(1.0)).sum()) == w0.numel() - 2 * k


def test_heads_map_labels_and_free_heads() -> None:
    heads = Heads(5)
    heads.assign((7, 8), (3, 0))
    assert heads.of(np.array([8, 7, 7])).tolist() == [0, 3, 3]
    assert heads.free() == [1, 2, 4]


def _rows(df, variant, metric):
    return df[(df["method"] == variant) & (df["metric"] == metric)]


def test_wscl_protocol_is_paired_deterministic_and_consistent() -> None:
    config = WSCLConfig(**TINY)
    df = run_wscl(config, store=ResultStore.disabled(), progress=False)
    again = run_wscl(config, store=ResultStore.disabled(), progress=False)
    timed = df["metric"] == "seconds"
    assert df["value"][~timed].tolist() == again["value"][~timed].tolist()
    for v in config.variants:
        acc = _rows(df, v, "acc")
        last = acc[acc["after_task"] == 5].pivot(index="task", columns="convention",
                                                 values="value")
        # Restricting the argmax can only help: all heads <= seen heads <= the task's own heads.
        assert (last["class_all"] <= last["class_seen"] + 1e-9).all()
        assert (last["class_seen"] <= last["task"] + 1e-9).all()
        final = _rows(df, v, "final_class_all")["value"].item()
        assert final == pytest.approx(last["class_all"].mean())
        heads = _rows(df, v, "head")["value"].astype(int).tolist()
        assert sorted(heads) == list(range(10))  # every class its own head
    # Pairing: every variant's untrained network is the same one.
    untrained = df[df["metric"] == "acc_untrained"].groupby("method")["value"].apply(list)
    assert all(u == untrained.iloc[0] for u in untrained)
    # Without dreaming, task t takes heads 2t and 2t + 1; freezing only ever grows.
    assert _rows(df, "er-ace", "head")["value"].tolist() == list(range(10))
    frozen = _rows(df, "wscl", "frozen_blocks")["value"].tolist()
    assert frozen == sorted(frozen) and _rows(df, "er-ace", "frozen_blocks")["value"].max() == 0


def test_bad_sizes_fail_in_one_line_before_compute() -> None:
    with pytest.raises(ParamError, match="smallest mnist class has 5421"):
        run_wscl(WSCLConfig(train_per_class=5000, validation=500), store=ResultStore.disabled())
    with pytest.raises(ParamError, match="variants"):
        WSCLConfig(variants=("wscl", "derpp"))


def test_the_ablation_table_has_a_column_per_variant_and_a_row_per_number() -> None:
    from sleeputils.report import wscl as report

    rows = [{"method": m, "metric": metric, "trial": t, "value": 10.0 * i + t}
            for i, m in enumerate(("er-ace", "wscl")) for t in range(3)
            for metric, _ in report.COLUMNS]
    table = report.ablation_table(pd.DataFrame(rows)).data
    assert list(table.columns[1:]) == [report.METHODS[m] for m in ("er-ace", "wscl")]
    assert list(table.iloc[:, 0]) == [heading for _, heading in report.COLUMNS]
    assert table.iloc[0, 2] == "11.0 ± 1.0"  # wscl's class-IL: trials 10, 11, 12
