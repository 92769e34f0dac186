"""A smoke-sized chapter whose stored units were damaged (as a copy between machines or a cut
transfer would) recomputes exactly those units and gives the numbers of an intact run, and the
command running it learns which units they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.tuning import SEARCH_TRIAL
from sleeputils.results import session
from sleeputils.results.store import ResultStore, read_unit

#: Two EWC strengths to search, which tie on this tiny run: the first in the grid wins, so a
#: search unit read as empty would silently hand the trials the other strength.
CONFIG = IncrementalConfig(trials=1, hidden=(64, 64), per_task_train=200, epochs=1,
                           sleep_scale=0.02, test_subset=1000, ewc_grid=(100.0, 1000.0),
                           validation=100, methods=("sequential", "ewc"))
#: Columns that legitimately differ between two computations of the same unit.
WHEN = ["created", "wall_time_s"]


def _numbers(df: pd.DataFrame) -> pd.DataFrame:
    df = df.loc[~df["metric"].str.endswith("seconds")].drop(columns=WHEN)
    return df.reset_index(drop=True)


def test_damaged_units_are_recomputed_with_identical_numbers(tmp_path: Path) -> None:
    intact = run_incremental(CONFIG, store=ResultStore(tmp_path / "a"), progress=False)
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # units copied to another machine
    store = ResultStore(tmp_path / "b")
    search = store.unit_path("incremental", _search_config(intact, 100.0), SEARCH_TRIAL)
    sequential = _trial_unit(store, intact, "sequential")
    ewc = _trial_unit(store, intact, "ewc")
    search.write_bytes(b"")  # zero-length
    lines = sequential.read_bytes().splitlines(keepends=True)
    sequential.write_bytes(b"".join(lines[: len(lines) // 2]))  # cut at a line boundary
    ewc.write_bytes(ewc.read_bytes().replace(b'"value": ', b'"value": 1', 1))  # altered

    with session.session() as events:
        again = run_incremental(CONFIG, store=store, progress=False)
        done = session.summary(events)
    pd.testing.assert_frame_equal(_numbers(again), _numbers(intact))
    assert set(done.damaged) == {str(search), str(sequential), str(ewc)}
    assert len(done.asked) == 4 and len(done.computed) == 3  # the damaged ones, once each
    assert done.reuse_line() == "reused 1 of 4 units stored earlier; computed 3"
    # the zero-length search unit was computed anew and stored whole (its creation time is
    # not a witness: it has a resolution of one second, which a fast machine beats)
    assert search.stat().st_size > 0 and len(read_unit(search)) > 0


def _search_config(df: pd.DataFrame, strength: float) -> dict:
    import json

    rows = df[(df["trial"] == SEARCH_TRIAL) & (df["strength"] == strength)]
    return json.loads(rows["config_json"].iloc[0])


def _trial_unit(store: ResultStore, df: pd.DataFrame, method: str) -> Path:
    import json

    row = df[(df["method"] == method) & (df["trial"] == 0)].iloc[0]
    return store.unit_path("incremental", json.loads(row["config_json"]), 0)
