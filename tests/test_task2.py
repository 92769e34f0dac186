"""The task-2 length sweep: a zero-length sleep is no sleep, and the trend verdict follows the
data."""

from __future__ import annotations

import pandas as pd

from sleeputils.protocols.task2 import Task2Config, run_task2
from sleeputils.report.task2 import accuracies, task2_verdict
from sleeputils.results.store import ResultStore


def test_a_zero_length_sleep_is_no_sleep() -> None:
    config = Task2Config(task2_epochs=(1,), trials=1, hidden=(32, 32), per_task_train=200,
                         sleep_scale=0.0, test_subset=500)
    a = accuracies(run_task2(config, store=ResultStore.disabled(), progress=False))
    assert len(a) == 2 and (a["gain"] == 0).all()


def test_verdict_reads_the_trend_of_the_task1_gain() -> None:
    rows = [{"metric": f"task{task}_acc", "method": m, "task2_epochs": e, "trial": t,
             "headline": True,
             "value": 10.0 + (e / 5 + t / 10 if (m == "src" and task == 1) else 0.0)}
            for e in (5, 10, 20, 40) for t in range(3) for task in (1, 2)
            for m in ("sequential", "src")]
    text = task2_verdict(pd.DataFrame(rows))
    assert "task-1 gain **grows**" in text
    assert "Task 2: SRC changes its accuracy by 0.00 ± 0.00" in text
