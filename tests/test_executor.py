"""Where units run: the records do not depend on it, failures and interruptions lose nothing."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.patches import PatchesUnit
from sleeputils.results.executor import (
    ENV_SCHEDULER,
    UnitsFailed,
    local_cluster,
    run_units,
    use_scheduler,
)
from sleeputils.results.store import IN_PROCESS, ResultStore

# the workers cannot import this test module, so its functions travel by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: Columns that legitimately differ between two runs of the same unit.
WHEN_AND_WHERE = ("wall_time_s", "created", "worker")


@pytest.fixture(scope="module")
def scheduler():
    """A local cluster of 2 single-threaded workers; tests opt in with ``use_scheduler``."""
    with local_cluster(2) as address:
        os.environ.pop(ENV_SCHEDULER)
        yield address


def _numbers(df: pd.DataFrame) -> pd.DataFrame:
    """The records minus when and where they were computed (and timings, which are measured)."""
    df = df.loc[~df["metric"].str.endswith("seconds")].drop(columns=list(WHEN_AND_WHERE))
    return df.sort_values(["method", "trial", "metric", "stage"]).reset_index(drop=True)


def test_smoke_chapter_records_are_identical_with_one_and_two_workers(scheduler, tmp_path):
    config = IncrementalConfig(trials=2, hidden=(64, 64), per_task_train=200, epochs=1,
                               sleep_scale=0.02, test_subset=1000, ewc_grid=(100.0, 1000.0),
                               si_grid=(1.0,), owm_grid=(0.01,), validation=100)
    alone = run_incremental(config, store=ResultStore(tmp_path / "one"), progress=False)
    with use_scheduler(scheduler):
        spread = run_incremental(config, store=ResultStore(tmp_path / "two"), progress=False)
    assert set(alone["worker"]) == {IN_PROCESS}
    assert len(set(spread["worker"])) == 2 and IN_PROCESS not in set(spread["worker"])
    pd.testing.assert_frame_equal(_numbers(alone), _numbers(spread))
    # and what the two stores hold reads back the same
    reread = ResultStore(tmp_path / "two").load("incremental")
    assert len(reread) == len(spread)


def _toy(s: int) -> PatchesUnit:
    """A unit of a package class (a worker cannot import a class of this test module)."""
    return PatchesUnit(overlap=s, seed=0, sleep_scale=1.0)


def _unit(unit: PatchesUnit, trial: int) -> list[dict]:
    if unit.overlap == 2:
        raise ValueError("setting 2 is broken")
    return [{"dataset": "toy", "method": "m", "metric": "x", "value": unit.overlap * 10 + trial}]


@pytest.mark.parametrize("where", ["in-process", "dask"])
def test_a_failing_unit_is_named_and_the_others_are_stored(where, scheduler, tmp_path):
    store = ResultStore(tmp_path)
    units = [(_toy(s), t) for s in (1, 2, 3) for t in (0, 1)]
    address = scheduler if where == "dask" else None
    with use_scheduler(address) if address else _nothing(), pytest.raises(UnitsFailed) as err:
        run_units("toy", units, _unit, store=store, progress=False, desc="toy")
    message = str(err.value)
    assert "2 of 6 unit(s) failed" in message
    assert ("toy trial 0 {'overlap': 2, 'seed': 0, 'sleep_scale': 1.0}: ValueError: setting 2 "
            "is broken") in message
    stored = store.load("toy")
    assert sorted(stored["value"]) == [10, 11, 30, 31]


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _dies_once(marker: Path, unit: PatchesUnit, trial: int) -> list[dict]:
    if not marker.exists():
        marker.write_text("died here once")
        os._exit(3)  # the worker process dies mid-unit
    return [{"dataset": "toy", "method": "m", "metric": "x", "value": 1.0}]


def test_a_unit_whose_worker_died_is_retried_once(scheduler, tmp_path):
    marker = tmp_path / "marker"
    with use_scheduler(scheduler):
        df = run_units("toy", [(_toy(0), 0)], lambda u, t: _dies_once(marker, u, t),
                       store=ResultStore(tmp_path / "store"), progress=False, desc="toy")
    assert (tmp_path / "marker").exists()  # it did die once
    assert df["value"].tolist() == [1.0]


def _interrupted(unit: PatchesUnit, trial: int) -> list[dict]:
    if unit.overlap == 2:
        raise KeyboardInterrupt
    return [{"dataset": "toy", "method": "m", "metric": "x", "value": unit.overlap}]


def test_ctrl_c_keeps_every_finished_unit(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_units("toy", [(_toy(s), 0) for s in range(4)], _interrupted, store=store,
                  progress=False, desc="toy")
    assert sorted(store.load("toy")["value"]) == [0, 1]


def test_stored_units_are_not_sent_again(scheduler, tmp_path):
    store = ResultStore(tmp_path)
    first = run_units("toy", [(_toy(1), 0), (_toy(3), 0)], _unit, store=store, progress=False,
                      desc="toy")
    with use_scheduler(scheduler):
        again = run_units("toy", [(_toy(1), 0), (_toy(3), 0), (_toy(3), 1)], _unit,
                          store=store, progress=False, desc="toy")
    assert again["created"].iloc[:2].tolist() == first["created"].tolist()
    assert again["worker"].tolist()[:2] == [IN_PROCESS, IN_PROCESS]
    assert again["worker"].iloc[2] != IN_PROCESS


def test_workers_below_one_fail_in_one_line(capsys):
    from sleeputils.cli import main

    assert main(["run", "patches", "--profile", "smoke", "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "sleepbook run: --workers must be a whole number of at least 1, got 0"


def test_cli_sends_a_chapter_to_a_running_scheduler(scheduler, tmp_path, monkeypatch):
    from sleeputils.cli import main

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "notebooks", tmp_path / "notebooks")
    shutil.copy(root / "_toc.yml", tmp_path / "_toc.yml")
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "store"))
    code = main(["--root", str(tmp_path), "run", "patches", "--profile", "smoke",
                 "--scheduler", scheduler, "--no-progress"])
    assert code == 0
    workers = set(ResultStore(tmp_path / "store").load("patches")["worker"])
    assert workers and IN_PROCESS not in workers
    assert ENV_SCHEDULER not in os.environ  # the command leaves the environment as it was


def _threads(unit: PatchesUnit, trial: int) -> list[dict]:
    import torch

    return [{"dataset": "toy", "method": "m", "metric": "threads",
             "value": torch.get_num_threads()}]


def test_every_unit_computes_with_one_torch_thread_wherever_it_runs(scheduler, tmp_path):
    import torch

    before = torch.get_num_threads()
    alone = run_units("toy", [(_toy(0), 0)], _threads, store=ResultStore.disabled(),
                      progress=False, desc="toy")
    assert torch.get_num_threads() == before  # the caller's own pool is given back
    with use_scheduler(scheduler):
        spread = run_units("toy", [(_toy(0), 0), (_toy(1), 0)], _threads,
                           store=ResultStore.disabled(), progress=False, desc="toy")
    assert alone["value"].tolist() == [1] and spread["value"].tolist() == [1, 1]


def test_a_unit_survives_the_death_of_the_only_worker_holding_its_data(tmp_path):
    from distributed import LocalCluster

    marker = tmp_path / "marker"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, use_scheduler(cluster.scheduler_address):
        df = run_units("toy", [(_toy(0), 0)], lambda u, t: _dies_once(marker, u, t),
                       store=ResultStore(tmp_path / "store"), progress=False, desc="toy")
    assert (tmp_path / "marker").exists()  # it did die once, and the data went with it
    assert df["value"].tolist() == [1.0]


SHARED_UNIT = '''
import os, sys, time
from dataclasses import dataclass
from pathlib import Path
from sleeputils.results.executor import run_units
from sleeputils.results.store import ResultStore
from sleeputils.results.unit import Unit

here = Path(sys.argv[1])

@dataclass(frozen=True)
class Logged(Unit):
    log: str
    seed: int = 0

def slow(unit, trial):
    with open(unit.log, "a") as log:
        log.write(f"{os.getpid()}\\n")
    time.sleep(3)
    return [{"dataset": "toy", "method": "m", "metric": "x", "value": 1.0}]

(here / f"ready-{sys.argv[2]}").touch()
while len(list(here.glob("ready-*"))) < 2:  # both clients submit at the same moment
    time.sleep(0.05)
df = run_units("shared", [(Logged(str(here / "log")), 0)], slow,
               store=ResultStore(here / f"store-{sys.argv[2]}"), progress=False, desc="x")
print(df["value"].item())
'''


def test_two_clients_needing_one_unit_at_once_compute_it_once(scheduler, tmp_path):
    import subprocess

    script = tmp_path / "client.py"
    script.write_text(SHARED_UNIT)
    env = {**os.environ, ENV_SCHEDULER: scheduler,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    clients = [subprocess.Popen([sys.executable, str(script), str(tmp_path), str(n)], env=env,
                                stdout=subprocess.PIPE, text=True) for n in (1, 2)]
    outputs = [c.communicate(timeout=120)[0].strip() for c in clients]
    assert outputs == ["1.0", "1.0"]  # both got the unit, and both stored it
    assert len((tmp_path / "log").read_text().splitlines()) == 1  # computed once


@pytest.mark.parametrize("address", ["foo", "tcp://127.0.0.1:99999", "tcp://:8786",
                                     "http://10.0.0.5:8786", "tcp://10.0.0.5", "x" * 10_000])
def test_a_malformed_scheduler_address_fails_in_one_line_before_connecting(capsys, address):
    from sleeputils.cli import main

    start = time.perf_counter()
    code = main(["run", "patches", "--profile", "smoke", "--scheduler", address])
    gc.collect()  # a half-made client would complain when collected
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 5
    assert code == 2 and err.count("\n") == 1 and len(err) < 300
    assert "is not a scheduler address: use tcp://HOST:PORT" in err


class _NotDask(threading.Thread):
    """A TCP server that answers every connection with an HTTP error, as a web server would."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 20)


@pytest.mark.parametrize("what", ["refused", "not dask"])
def test_a_scheduler_that_does_not_answer_fails_in_one_line_at_once(capsys, what):
    from sleeputils.cli import main

    server = None
    if what == "refused":
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]  # closed again: nothing listens there now
    else:
        server = _NotDask()
        server.start()
        port = server.port
    start = time.perf_counter()
    code = main(["run", "patches", "--profile", "smoke", "--scheduler",
                 f"tcp://127.0.0.1:{port}"])
    gc.collect()
    seconds = time.perf_counter() - start
    if server is not None:
        server.server.close()
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert f"cannot reach a Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert seconds < 8  # the answer is known at once (not after 20 s of retries, then 40 s)
    assert ENV_SCHEDULER not in os.environ


def test_a_local_cluster_beside_another_one_does_not_warn_about_its_port():
    """Another cluster's dashboard holds port 8787: ours takes a free port, silently."""
    import warnings

    taken = socket.socket()
    with contextlib.suppress(OSError):  # if something holds 8787 already, it is taken anyway
        taken.bind(("0.0.0.0", 8787))
        taken.listen()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with local_cluster(2) as address:
                assert address.startswith("tcp://")
    finally:
        taken.close()
    assert [str(w.message) for w in caught if "8787" in str(w.message)] == []
