"""Where a chapter's units run: in the caller's process, or on a Dask cluster.

Every chapter is a set of independent units (one trial of one configuration, see
:mod:`.store`), each given as its typed settings (a :class:`~.unit.Unit`) and a trial number.
:func:`run_units` reads the stored ones back, hands the rest to the current executor, and stores
each unit *in the caller's process* the moment it comes back, so an interrupted run keeps every
finished unit and a rerun computes only what is missing.

The executor is chosen by the environment, so that notebook kernels started by ``sleepbook``
inherit it: ``$SLEEPBOOK_SCHEDULER`` (the address of a Dask scheduler, e.g.
``tcp://10.0.0.5:8786``) sends units there; without it they run one after another in-process.
:func:`local_cluster` starts a cluster of single-threaded worker processes on this machine and
points the variable at it (``sleepbook build --workers N`` does this for a whole build).

Each unit seeds itself from its configuration and trial number and computes with one torch
thread wherever it runs (the number of threads changes how sums are split, hence the last bits
of convolutions and large reductions, and sleep amplifies such differences), so the records do
not depend on where, in which order or beside what other units it ran. One thread per unit is
also what makes N workers on N cores efficient: a second thread per worker only fights over the
cores.

On a cluster a unit's task is named by its store key, so two notebooks that need the same unit
at the same time (two chapters sharing an initial model, built side by side) get one task.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from tqdm import tqdm

from ..params import ParamError, clip
from . import session
from .provenance import UNIT_THREADS
from .store import IN_PROCESS, ResultStore
from .unit import Unit

#: Environment variable naming the Dask scheduler units are sent to; unset = in-process.
ENV_SCHEDULER = "SLEEPBOOK_SCHEDULER"
#: Thread pools a worker pins to one thread (Dask's nanny sets the BLAS ones itself): with N
#: workers on N cores, a second thread per worker only makes workers fight over cores.
PINNED_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "NUMBA_NUM_THREADS")
#: Dask's nanny sets this glibc variable to hand freed memory back to the OS at once; it also
#: switches off glibc's adaptive mmap threshold, so every large tensor of every training step is
#: mapped and unmapped anew: a unit then runs 2.2 times slower. Our workers leave it unset.
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
#: How often the scheduler reruns a unit whose worker died before giving up on it.
RETRIES_AFTER_A_KILLED_WORKER = 1

#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 20
#: Seconds to wait for the scheduler's port to answer at all (a refused or unroutable address
#: fails at once, instead of after Dask's connection retries).
REACH_TIMEOUT = 5
#: Transports a scheduler address may name (Dask's backends that reach another process).
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")

U = TypeVar("U", bound=Unit)
#: A unit's computation: its records from its settings and trial number.
Compute = Callable[[Any, int], list[dict]]


class UnitsFailed(RuntimeError):
    """Some units raised; every other unit finished and is stored. One line per failed unit."""


@dataclass(frozen=True)
class Outcome:
    """What computing one unit gave: its records, or the error it raised (as text)."""

    records: list[dict] | None
    seconds: float
    worker: str
    error: str = ""


def compute_unit(compute: Compute, unit: Unit, trial: int) -> Outcome:
    """Run one unit wherever this is called, with ``UNIT_THREADS`` torch threads; an exception
    becomes an :class:`Outcome`'s error, so one failing unit never stops the others."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(UNIT_THREADS)  # how reductions are split changes the last bits
    start = time.perf_counter()
    try:
        records = compute(unit, trial)
    except Exception as err:  # noqa: BLE001 - reported with the unit's configuration
        last = traceback.format_exception_only(err)[-1].strip()
        return Outcome(None, time.perf_counter() - start, _where(), last)
    finally:
        torch.set_num_threads(threads)
    return Outcome(records, time.perf_counter() - start, _where())


def _where() -> str:
    """The Dask worker's address, or ``in-process``."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return IN_PROCESS


def run_units(
    chapter: str,
    units: Sequence[tuple[U, int]],
    compute: Callable[[U, int], list[dict]],
    *,
    store: ResultStore | None,
    progress: bool,
    desc: str,
) -> pd.DataFrame:
    """Every (unit, trial), read back from the store or computed; their records, in the order
    of ``units``.

    A unit is identified in the store by ``unit.key()`` (with the trial number and the code);
    ``compute(unit, trial)`` returns its records. One progress bar counts finished units. A unit
    that raises does not stop the others: they finish and are stored, then :class:`UnitsFailed`
    names each failed unit's configuration and trial.
    """
    store = store or ResultStore()
    keyed = [(unit, unit.key(), trial) for unit, trial in units]
    keys = [store.unit_key(chapter, config, trial) for _, config, trial in keyed]
    frames: dict[int, pd.DataFrame] = {}
    for i, (_, config, trial) in enumerate(keyed):
        stored = store.cached(chapter, config, trial)
        if stored is not None:
            frames[i] = stored
    if store.enabled:  # the command running this chapter counts what it reused
        session.asked(keys, [keys[i] for i in frames])
    todo = [i for i in range(len(keyed)) if i not in frames]
    names = [f"unit-{chapter}-{keys[i]}" for i in todo]
    jobs = [(keyed[i][0], keyed[i][2]) for i in todo]
    failures = []
    with tqdm(total=len(keyed), initial=len(frames), desc=desc, disable=not progress) as bar:
        for i, outcome in current_executor().map(compute, jobs, todo, names):
            _, config, trial = keyed[i]
            if outcome.error:
                failures.append(f"{chapter} trial {trial} {config}: {outcome.error}")
            else:
                frames[i] = store.save(chapter, config, trial, outcome.records,
                                       outcome.seconds, outcome.worker)
            bar.update()
    if failures:
        raise UnitsFailed(f"{len(failures)} of {len(keyed)} unit(s) failed (the others are "
                          "stored):\n" + "\n".join(failures))
    return pd.concat([frames[i] for i in range(len(keyed))], ignore_index=True)


class InProcess:
    """Units one after another in this process (``--workers 1``: tests, debugging)."""

    def map(self, compute: Compute, jobs: Sequence[tuple], tags: Sequence[int],
            names: Sequence[str]) -> Iterator[tuple[int, Outcome]]:
        """``(tag, outcome)`` of each job, in order (``names`` matter on a cluster only)."""
        for tag, (unit, trial) in zip(tags, jobs, strict=True):
            yield tag, compute_unit(compute, unit, trial)


class OnDask:
    """Units as tasks of a Dask cluster; outcomes come back as they finish."""

    def __init__(self, address: str) -> None:
        self.address = address

    def map(self, compute: Compute, jobs: Sequence[tuple], tags: Sequence[int],
            names: Sequence[str]) -> Iterator[tuple[int, Outcome]]:
        """``(tag, outcome)`` of each job as it completes, its task named ``names[i]`` (a
        name another client has already submitted is computed once, for both). ``compute``
        (with the data it holds) is sent to every worker once, not once per unit. Scattered
        data dies with the workers that hold it, and the cluster then cancels the units that
        needed it: those are sent again, with the data, once, under new names. Interrupting
        cancels what is left (a task another client still wants goes on for it)."""
        from distributed import as_completed

        client = _client(self.address)
        pending = dict(zip(tags, jobs, strict=True))
        named = dict(zip(tags, names, strict=True))
        for attempt in range(2):
            if not pending:
                return
            shared = client.scatter(compute, broadcast=True, hash=False)
            futures = {client.submit(compute_unit, shared, *job,
                                     key=named[tag] if attempt == 0 else f"{named[tag]}-again"):
                       tag for tag, job in pending.items()}
            lost = {}
            try:
                for future in as_completed(futures, loop=client.loop):
                    tag = futures[future]
                    if future.cancelled() and attempt == 0:
                        lost[tag] = pending[tag]
                    else:
                        yield tag, _outcome(future)
            finally:
                client.cancel([*futures, shared])
            pending = lost


def _outcome(future: Any) -> Outcome:
    """The future's outcome; a task the cluster gave up on (a worker died twice) as an error."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 - e.g. KilledWorker
        return Outcome(None, 0.0, "?", f"{type(err).__name__}: {err}")


_CLIENTS: dict[str, Any] = {}


def _client(address: str) -> Any:
    """One Dask client per scheduler address and process."""
    if address not in _CLIENTS:
        from distributed import Client

        _CLIENTS[address] = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
    return _CLIENTS[address]


def current_executor() -> InProcess | OnDask:
    """The executor ``$SLEEPBOOK_SCHEDULER`` names (see the module docstring)."""
    address = os.environ.get(ENV_SCHEDULER, "").strip()
    return OnDask(address) if address else InProcess()


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[str | None]:
    """Within the block, units run on ``workers`` single-threaded processes of this machine
    (notebook kernels started inside it too); ``workers == 1`` keeps the in-process path.
    Yields the scheduler's address (None for in-process)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        with _scheduler_env(None):
            yield None
        return
    import dask
    from distributed import LocalCluster

    pinned = {**dask.config.get("distributed.nanny.pre-spawn-environ"),
              **dict.fromkeys(PINNED_THREADS, 1)}
    pinned.pop(MALLOC_TRIM, None)
    settings = {"distributed.nanny.pre-spawn-environ": pinned,
                "distributed.scheduler.allowed-failures": RETRIES_AFTER_A_KILLED_WORKER}
    with dask.config.set(settings), contextlib.ExitStack() as stack:
        with _deaf_to_ctrl_c():
            # no dashboard wanted: a free port (":0"), so a second cluster on the machine does
            # not warn that 8787 is taken; the cluster's messages below errors are silenced
            # (a unit's failure comes back as its outcome; the rest is the noise of a worker that
            # stops later than the scheduler, or is killed after 4 s of stopping: nothing lost)
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.CRITICAL))
        with _scheduler_env(cluster.scheduler_address):
            yield cluster.scheduler_address


@contextlib.contextmanager
def _deaf_to_ctrl_c() -> Iterator[None]:
    """Start the cluster with SIGINT blocked in this thread: the cluster's threads start within
    the block and inherit that, and so do the worker processes they spawn, then or later. So
    Ctrl-C, which the terminal sends to every process of the command, reaches only the command
    itself, which stops the units and closes the cluster; the workers print no traceback of
    their own. A Ctrl-C during the start is delivered when it ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    from multiprocessing import resource_tracker

    # the first start of multiprocessing's resource tracker unblocks SIGINT in the thread that
    # starts it (the cluster's, for its workers' queues): start it here, before blocking
    resource_tracker.ensure_running()
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a scheduler address such as ``tcp://10.0.0.5:8786`` (a bare
    ``HOST:PORT`` means tcp); ``ParamError`` in one line for anything else."""
    text = address.strip()
    if "://" not in text:
        text = f"tcp://{text}"
    match = re.fullmatch(r"([a-z]+)://(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})/?", text)
    if match is None or match[1] not in SCHEDULER_SCHEMES or not 0 < int(match[3]) < 65536:
        raise ParamError(f"--scheduler '{clip(address)}' is not a scheduler address: use "
                         "tcp://HOST:PORT, as `dask scheduler` prints it (tcp://10.0.0.5:8786)")
    return match[1], match[2].strip("[]"), int(match[3])


@contextlib.contextmanager
def use_scheduler(address: str) -> Iterator[str]:
    """Within the block, units go to the existing Dask scheduler at ``address``. A malformed
    address fails in one line (``ParamError``) before connecting; a scheduler that cannot be
    reached fails in one line (``RuntimeError``) as soon as that is known, before any compute."""
    scheme, host, port = scheduler_address(address)
    address = f"{scheme}://{host}:{port}" if ":" not in host else f"{scheme}://[{host}]:{port}"
    reason = _unreachable(scheme, host, port, address)
    if not reason:
        try:
            _client(address)
        except Exception as err:  # noqa: BLE001 - any failure to connect is one line
            reason = _first_line(err)
    if reason:
        gc.collect()  # a client that failed to start is closed now, quietly, not at exit
        raise RuntimeError(f"cannot reach a Dask scheduler at {address} ({reason}); start one "
                           "with `dask scheduler` and workers with `dask worker ADDRESS "
                           "--nthreads 1`")
    with _scheduler_env(address):
        yield address


def _unreachable(scheme: str, host: str, port: int, address: str) -> str:
    """Why nothing answers at the address as a Dask scheduler would, or ``""``: a refused port
    or an unknown host fails at once (Dask's client would retry for ``CONNECT_TIMEOUT``), and
    on tcp a server that is not a Dask scheduler fails its handshake within ``REACH_TIMEOUT``
    (a client that failed that way would block for twice its timeout when it is collected)."""
    if scheme == "ucx":
        return ""
    try:
        socket.create_connection((host, port), timeout=REACH_TIMEOUT).close()
    except OSError as err:
        return err.strerror or _first_line(err)
    if scheme != "tcp":
        return ""

    async def handshake() -> None:
        from distributed.comm import connect

        comm = await asyncio.wait_for(connect(address, timeout=REACH_TIMEOUT), REACH_TIMEOUT)
        await comm.close()

    try:
        asyncio.run(handshake())
    except Exception as err:  # noqa: BLE001 - garbage from a foreign server included
        return f"something answers there, but not a Dask scheduler: {type(err).__name__}"
    return ""


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return clip(text.splitlines()[0]) if text else type(err).__name__


@contextlib.contextmanager
def _scheduler_env(address: str | None) -> Iterator[None]:
    before = os.environ.get(ENV_SCHEDULER)
    if address is None:
        os.environ.pop(ENV_SCHEDULER, None)
    else:
        os.environ[ENV_SCHEDULER] = address
    try:
        yield
    finally:
        client = _CLIENTS.pop(address, None) if address else None
        if client is not None:
            client.close()
        if before is None:
            os.environ.pop(ENV_SCHEDULER, None)
        else:
            os.environ[ENV_SCHEDULER] = before
