"""Replay without cycles and interleaved training: the sequence is the original's, reruns are
identical, the runs are the ones asked for, and bad input fails in one line before compute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sleeputils.params import ParamError
from sleeputils.protocols.interleave import (
    InterleaveConfig,
    interleave,
    interleave_data,
    run_interleaving,
)
from sleeputils.protocols.replay import ReplayConfig, run_replay
from sleeputils.results.setting import encode
from sleeputils.results.store import ResultStore

TINY = {"initial_epochs": 1, "initial_images": 300, "num_new": 12, "num_sampled": 12,
        "both_each": 6, "sample_counts": (0, 4), "sweep_new": 6, "epochs": 1, "trials": 1,
        "test_subset": 100}


def _headline(df) -> dict:
    rows = df[df["headline"].fillna(False).astype(bool)]
    return dict(zip(zip(rows["metric"], rows["setting"], strict=True), rows["value"],
                    strict=True))


def test_interleave_alternates_blocks_of_n() -> None:
    a, b = np.arange(6)[:, None], 10 + np.arange(6)[:, None]
    assert interleave(a, b, 2)[:, 0].tolist() == [0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15]
    assert interleave(a, b, 1)[:, 0].tolist() == [0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15]
    assert sorted(interleave(a, b, 4)[:, 0].tolist()) == sorted([*range(6), *range(10, 16)])


def test_interleaving_inverts_the_images_it_shows_upright() -> None:
    # As the original: every training image is met upright and inverted (pixel by pixel).
    data = interleave_data(InterleaveConfig(per_set=30, test_images=20))
    assert data["d1_train"].shape == data["d2_train"].shape == (30, 784)
    assert np.array_equal(data["d2_train"], 1.0 - data["d1_train"])
    assert np.array_equal(data["d2_test"], 1.0 - data["d1_test"])
    assert data["d1_train"].std(axis=0).max() > 0  # distinct images, not one repeated


def test_baseline_runs_are_the_mixes_then_the_sweep_and_rerun_identically() -> None:
    config = ReplayConfig(**TINY)
    assert config.runs() == [(12, 0), (0, 12), (6, 6), (6, 0), (6, 4)]
    first = _headline(run_replay(config, store=ResultStore.disabled(), progress=False))
    again = _headline(run_replay(config, store=ResultStore.disabled(), progress=False))
    assert first == again
    assert set(first) == {(f"{d}_after", encode(new=n, sampled=s)) for d in ("d1", "d2")
                          for n, s in config.runs()}


def test_interleaving_reruns_identically_and_blocks_differ() -> None:
    config = InterleaveConfig(blocks=(1, 10), per_set=40, test_images=50, trials=1)
    first = _headline(run_interleaving(config, store=ResultStore.disabled(), progress=False))
    again = _headline(run_interleaving(config, store=ResultStore.disabled(), progress=False))
    assert first == again
    assert first[("d1_mse", encode(block=1))] != first[("d1_mse", encode(block=10))]


def test_bad_input_fails_in_one_line_before_compute() -> None:
    with pytest.raises(ParamError, match=r"blocks \[50\] exceed per_set = 40"):
        run_interleaving(InterleaveConfig(blocks=(1, 50), per_set=40), progress=False)
    with pytest.raises(ParamError, match="40000 new images asked for, but dataset 2 of split "
                       "'digits' has 29404"):
        run_replay(ReplayConfig(**{**TINY, "split": "digits", "num_new": 40000}),
                      progress=False)
    with pytest.raises(ParamError, match="'mixes' = .* is not valid"):
        ReplayConfig(mixes=("new", "dreams"))


def _committed(df):
    from sleeputils.report.tables import committed_trials

    heads = df[df["headline"].fillna(False).astype(bool)]
    trials = heads[["dataset", "method", "setting", "metric", "trial", "value"]].assign(
        chapter_id="x")
    return committed_trials(trials, "x")


def test_committed_replay_errors_table_as_the_run_they_came_from() -> None:
    from sleeputils.report import replay as report

    config = ReplayConfig(**{**TINY, "sample_counts": (0, 2, 4), "trials": 2})
    df = run_replay(config, store=ResultStore.disabled(), progress=False)
    full = report.committed_runs(_committed(df))
    assert len(full) == 2 * 2 * len(config.runs())  # seeds x datasets x runs
    ran = report.mix_table(report.mixes(df, config)).data
    kept = report.mix_table(report.mixes(full, config)).data
    assert "before" in ran and "before" not in kept  # a committed run keeps errors after only
    assert ran[["trained on", "dataset", "after"]].equals(kept[["trained on", "dataset", "after"]])
    after = report.mixes(df[df["stage"] != "before"], config)  # what a committed run keeps
    assert report.committed_verdicts(full, config) == "\n".join([
        report.blank_verdict(after, config), report.count_verdict(report.sweep(df, config))])


def test_committed_interleaving_table_as_the_run_it_came_from() -> None:
    from sleeputils.report import interleave as report

    config = InterleaveConfig(blocks=(1, 2, 5), per_set=20, test_images=20, trials=2)
    df = run_interleaving(config, store=ResultStore.disabled(), progress=False)
    full = report.committed_blocks(_committed(df))
    ran, kept = report.block_table(df).data, report.block_table(full).data
    assert "summed error" in ran and "summed error" not in kept
    assert ran[["block size", "dataset", "MSE × 1000"]].equals(
        kept[["block size", "dataset", "MSE × 1000"]])
    assert report.block_verdict(full) == report.block_verdict(df)


def test_block_verdict_needs_a_significant_trend_and_names_runs_far_off() -> None:
    import pandas as pd

    from sleeputils.report.interleave import block_verdict

    def rows(d1: dict) -> pd.DataFrame:
        return pd.DataFrame([{"metric": f"{d}_mse", "block": b, "trial": t,
                              "value": d1[(b, t)] if d == "d1" else 0.08 + 0.001 * t}
                             for b in (1, 5, 10, 50) for t in range(3) for d in ("d1", "d2")])

    rising = rows({(b, t): 0.01 * b + 0.001 * t for b in (1, 5, 10, 50) for t in range(3)})
    text = block_verdict(rising)
    assert "Longer blocks give a **higher** error on dataset 1" in text  # rho = +0.97
    assert "The block size has **no clear effect** on the error on dataset 2" in text  # rho = 0
    flat = {(b, t): 0.08 + 0.001 * t for b in (1, 5, 10, 50) for t in range(3)}
    text = block_verdict(rows({**flat, (50, 0): 0.5}))
    assert "1 of 12 runs ends far above the others on dataset 1" in text
    assert "blocks of 50, seed 0 (0.5000)" in text and "dataset 2 (recent) (over" not in text


def test_blank_verdict_says_how_far_below_a_blank_page_the_vae_recalls() -> None:
    import pandas as pd

    from sleeputils.report.replay import blank_verdict

    blanks = {"black": {"d1": 100.0, "d2": 600.0}, "white": {"d1": 600.0, "d2": 100.0}}
    rows = [{"metric": f"{d}_error", "new": n, "sampled": s, "stage": "after", "trial": t,
             "value": v + t} for d, n, s, v in [("d1", 10, 0, 500.0), ("d1", 0, 10, 94.0),
                                                ("d2", 10, 0, 70.0), ("d2", 0, 10, 550.0)]
            for t in (0, 1)]  # means: d1 500.5 / 94.5, d2 70.5 / 550.5
    lines = blank_verdict(pd.DataFrame(rows), None, blanks).splitlines()
    assert lines[0].startswith("- The lowest error after a mix (10 own samples) on dataset 1")
    assert "is 94.5, 6 % below a blank black page's 100.0: the VAE has **barely learned**" in (
        lines[0])
    assert lines[1].endswith("is 70.5, 30 % below a blank white page's 100.0.")
    worse = blank_verdict(pd.DataFrame(rows).assign(value=150.0), None, blanks).splitlines()
    assert worse[0].endswith("is 150.0, 50 % above a blank black page's 100.0: the VAE recalls "
                             "it **worse than a blank page** would.")
    before = pd.DataFrame(rows[:2]).assign(stage="before", value=80.0)
    first = blank_verdict(pd.concat([before, pd.DataFrame(rows)]), None, blanks).splitlines()[0]
    assert first.startswith("- Before training, the VAE's error on dataset 1 (remote) is 80.0")


def test_mix_verdicts_say_rises_falls_or_stays_as_the_shown_numbers_do() -> None:
    from sleeputils.report.replay import mix_verdicts

    def row(metric: str, stage: str, value: float) -> dict:
        return {"metric": metric, "stage": stage, "value": value, "new": 20, "sampled": 0}

    df = pd.DataFrame([row("d1_error", "before", 60.0), row("d1_error", "after", 75.5),
                       row("d2_error", "before", 97.21), row("d2_error", "after", 97.24)])
    text = mix_verdicts(df)
    assert "rises from 60.0 to 75.5" in text  # dataset 1
    assert "stays at 97.2" in text and "97.2 to 97.2" not in text  # equal as shown
