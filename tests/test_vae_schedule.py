"""Sleep schedules: seeded reruns are identical, the REM source does not matter without REM,
bad schedules fail in one line, and the data splits are the original's."""

from __future__ import annotations

import pytest

from sleeputils.params import ParamError
from sleeputils.protocols.vae_schedule import ScheduleConfig, run_schedules, split_data
from sleeputils.results.store import ResultStore

TINY = {"initial_epochs": 1, "initial_images": 300, "total_epochs": 4, "cycles": (2,),
        "num": 5, "trials": 1, "test_subset": 100}


def _finals(df) -> dict:
    rows = df[df["headline"].fillna(False).astype(bool)]
    return dict(zip(rows["metric"], rows["value"], strict=True))


def test_reruns_are_identical_and_rem_source_is_moot_without_rem() -> None:
    config = ScheduleConfig(rem_shares=(0.0, 0.5), **TINY)
    first = _finals(run_schedules(config, store=ResultStore.disabled(), progress=False))
    again = _finals(run_schedules(config, store=ResultStore.disabled(), progress=False))
    assert first == again  # same seeds, same numbers, computed twice from scratch
    for d in ("d1", "d2"):
        assert first[f"{d}_final_c2_r0_frozen"] == first[f"{d}_final_c2_r0_current"]
        assert first[f"{d}_final_c2_r0.5_frozen"] != first[f"{d}_final_c2_r0.5_current"]


def test_bad_schedules_fail_in_one_line() -> None:
    with pytest.raises(ParamError, match=r"cycles \[8\] exceed total_epochs = 4"):
        run_schedules(ScheduleConfig(**{**TINY, "cycles": (2, 8)}), progress=False)
    with pytest.raises(ParamError, match="'rem_shares' = .* is not valid"):
        ScheduleConfig(rem_shares=(0.5, 1.5))
    with pytest.raises(ParamError, match="'split' = 'rotated' is not valid"):
        ScheduleConfig(split="rotated")


def test_digit_split_has_the_standard_class_totals() -> None:
    data = split_data("digits")
    assert (len(data["d1_train"]), len(data["d1_test"])) == (30596, 5139)
    assert (len(data["d2_train"]), len(data["d2_test"])) == (29404, 4861)
    inv = split_data("inverted")
    assert (inv["d1_test"] + inv["d2_test"] == 1.0).all()
