"""Rehearsal: the stored-example count, the hook, its presets, and that it composes with SRC."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sleeputils.methods import Rehearsal, stored_count
from sleeputils.params import ParamError
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.rehearsal import RehearsalConfig, rehearsal_preset, run_rehearsal
from sleeputils.report import rehearsal
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset_names
from sleeputils.training import TaskContext

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_stored_counts_match_the_spec_example() -> None:
    """Field §4.5: p = 0.01 on MNIST stores 100, 200, 400 and 500 examples before tasks 2-5."""
    old = np.cumsum([a + b for a, b in zip(MNIST_TRAIN_COUNTS[::2], MNIST_TRAIN_COUNTS[1::2],
                                           strict=True)])[:4]
    assert [stored_count(int(n), 0.01) for n in old] == [100, 200, 400, 500]


@pytest.mark.parametrize(("n_old", "p", "expected"), [
    (1000, 0.0, 0), (1000, 1.0, 1000), (1049, 0.1, 100), (1050, 0.1, 100), (1250, 0.1, 100),
    (1250, 0.2, 300), (12665, 1.0, 12665),  # never more than there is
])
def test_stored_count_rounds_half_away_from_zero(n_old: int, p: float, expected: int) -> None:
    assert stored_count(n_old, p) == expected


def test_stored_count_rejects_impossible_fractions() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stored_count(100, 1.5)


def _context(index: int) -> TaskContext:
    tasks = [SimpleNamespace(classes=(2 * k, 2 * k + 1)) for k in range(3)]
    return TaskContext(index=index, tasks=tasks, net=None)


def _pool(n: int = 1000):
    x = np.arange(n, dtype=np.float32)[:, None]
    y = np.arange(n) % 4  # classes 0..3: the first two tasks
    return lambda ctx: (x, y)


def test_hook_adds_the_stored_examples_only_after_the_first_task() -> None:
    x_new, y_new = np.full((50, 1), -1.0, np.float32), np.full(50, 4)
    hook = Rehearsal(0.25, _pool(), np.random.default_rng(0))
    assert hook.training_data(_context(0), x_new, y_new)[0] is x_new
    ctx = _context(2)
    x, y = hook.training_data(ctx, x_new, y_new)
    assert len(x) == 50 + 300 and ctx.log["rehearsed"] == 300  # round(250, -2) = 300
    assert (x[:50] == -1).all() and len(np.unique(x[50:])) == 300  # no example twice
    assert set(y[50:]) <= {0, 1, 2, 3}
    again = Rehearsal(0.25, _pool(), np.random.default_rng(0)).training_data(ctx, x_new, y_new)
    np.testing.assert_array_equal(again[0], x)  # same seed, same stored examples


def test_presets_follow_the_original_branches() -> None:
    assert rehearsal_preset("mnist", 0.1) == "mnist_rehearsal_p0.1"
    assert rehearsal_preset("mnist", 0.05) == "mnist"
    assert [rehearsal_preset("fashion", p) for p in (0.0, 0.01, 0.025, 0.05, 0.1, 0.5)] == [
        "mnist", "mnist", "fashion_rehearsal_p0.025", "fashion_rehearsal_p0.05",
        "fashion_rehearsal_p0.1+", "fashion_rehearsal_p0.1+"]
    names = set(preset_names())
    assert all(rehearsal_preset(d, p) in names for d in ("mnist", "fashion")
               for p in (0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))


SMALL = {"trials": 1, "hidden": (32, 32), "per_task_train": 100, "epochs": 1,
         "sleep_scale": 0.01, "test_subset": 500}


def test_zero_rehearsal_is_sequential_and_zero_rehearsal_src_is_src() -> None:
    """Composition check: with nothing replayed the two code paths must agree exactly."""
    store = ResultStore.disabled()
    inc = run_incremental(IncrementalConfig(methods=("sequential", "src"), **SMALL),
                          store=store, progress=False)
    reh = run_rehearsal(RehearsalConfig(fractions=(0.0,), **SMALL), store=store, progress=False)
    ours = inc[inc["metric"] == "final_acc"].set_index("method")["value"]
    theirs = reh[reh["metric"] == "final_acc"].set_index("method")["value"]
    assert theirs["rehearsal"] == ours["sequential"]
    assert theirs["rehearsal_src"] == ours["src"]


def test_rehearsal_rejects_bad_input_before_compute() -> None:
    with pytest.raises(ParamError, match="'dataset' = 'cifar100' is not valid: use one of "
                                         "mnist, fashion"):
        RehearsalConfig(dataset="cifar100", fractions=(0.1,))
    with pytest.raises(ParamError, match="a list of numbers in 0..1"):
        RehearsalConfig(fractions=(0.1, 2.0))
    with pytest.raises(ParamError, match="a list of numbers in 0..1"):
        RehearsalConfig.parse("fractions", "0.1,1.5")
    assert RehearsalConfig.parse("fractions", "0, 0.01,0.1") == (0.0, 0.01, 0.1)
    assert RehearsalConfig(dataset="mnist").sweep[-1] == 1.0  # the original MNIST sweep
    assert RehearsalConfig(dataset="fashion").sweep[-1] == 0.5


def _curve(values: dict[float, float]):
    import pandas as pd
    return pd.DataFrame({"method": "rehearsal", "fraction": list(values), "trial": 0,
                         "metric": "final_acc", "headline": True,
                         "value": list(values.values())})


def test_verdict_brackets_the_paper_value() -> None:
    import pandas as pd
    paper = pd.DataFrame({"method": ["rehearsal"], "value": [79.91], "std": [5.34],
                          "note": [None]})
    text = rehearsal.rehearsal_verdict(_curve({0.01: 70.0, 0.1: 90.0}), paper)
    assert "between 1 % (70.00) and 10 % (90.00)" in text
    assert "stays below" in rehearsal.rehearsal_verdict(_curve({0.01: 50.0, 0.1: 60.0}), paper)


def test_the_quoted_fraction_is_read_as_quoted_and_with_a_slipped_decimal() -> None:
    """Against the paper's MNIST numbers (quoted at 0.75 %): ours at 0.75 % and at 7.5 %, each
    with the verdict of the paper's spread."""
    from sleeputils.report.rehearsal import quoted_fraction_verdict

    def record(method: str, fraction: float, mean: float) -> dict:
        return {"chapter_id": "rehearsal-mnist", "dataset": "mnist", "method": method,
                "setting": f'{{"fraction":{fraction:g}}}', "metric": "final_acc", "mean": mean,
                "std": 1.0, "n": 5}

    records = pd.DataFrame([record("rehearsal", 0.0075, 20.0), record("rehearsal", 0.075, 80.0),
                            record("rehearsal_src", 0.0075, 50.0),
                            record("rehearsal_src", 0.075, 80.0)])
    lines = quoted_fraction_verdict("rehearsal-mnist", records).splitlines()
    assert lines[0].startswith("- rehearsal, paper 79.91 ± 5.34 quoted at 0.75 %")
    assert "at 0.75 % (as quoted) 20.00 ± 1.00, -59.91 points: **missed**" in lines[0]
    assert "at 7.5 % (decimal slipped) 80.00 ± 1.00, +0.09 points: **within**" in lines[0]
    assert "at 7.5 % (decimal slipped) 80.00 ± 1.00, -6.47 points: **missed**" in lines[1]
    assert quoted_fraction_verdict("rehearsal-fashion", records) == ""
