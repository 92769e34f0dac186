"""The one training loop: hooks run in order and every stage is evaluated."""

import numpy as np
import torch

from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.training import Hook, run_tasks


def _net(sizes=(3, 4, 2), **kw) -> MLP:
    return MLP(MLPConfig(sizes=sizes, **kw), torch.Generator().manual_seed(0))


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
