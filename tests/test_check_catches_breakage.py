"""The number check can fail: a deliberately broken SRC moves recorded trials, an intact re-run
moves none. Smoke-sized runs of the incremental protocol, recorded and checked as a chapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleeputils.protocols import common
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.results.check import check_profile
from sleeputils.results.record import record
from sleeputils.results.reference import freeze
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset

CONFIG = IncrementalConfig(trials=2, hidden=(64, 64), per_task_train=200, epochs=1,
                           sleep_scale=0.02, test_subset=1000, methods=("sequential", "src"))
BREAKS = {
    "no depression": lambda name: preset(name).with_(dec=0.0),
    "alpha halved": lambda name: preset(name).with_(alpha_scale=preset(name).alpha_scale / 2),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project whose smoke reference was frozen from an intact run."""
    root = tmp_path_factory.mktemp("project")
    (root / "_toc.yml").write_text("format: jb-book\n")
    _record_run(root)
    freeze("smoke", project=root, store=ResultStore(root / "store"))
    return root


def _record_run(root: Path) -> None:
    df = run_incremental(CONFIG, store=ResultStore.disabled(), progress=False)
    record(df, "incremental-mnist", "smoke", project=root, store=ResultStore(root / "store"))


def _check(root: Path):
    return check_profile("smoke", project=root, store=ResultStore(root / "store"))


def test_an_intact_rerun_passes(project: Path) -> None:
    _record_run(project)
    result = _check(project)
    assert not result.failed, result.report()
    assert (result.trials["delta"].abs() == 0).all()  # deterministic: every trial reproduced


@pytest.mark.parametrize("broken", list(BREAKS))
def test_a_broken_src_fails_the_check(project: Path, monkeypatch, broken: str) -> None:
    monkeypatch.setattr(common, "preset", BREAKS[broken])
    _record_run(project)
    result = _check(project)
    assert result.failed
    moved = result.trials[result.trials["status"] == "MOVED"]
    assert set(moved["method"]) == {"src"}  # sequential never sleeps, so it must not move
    assert "MOVED incremental-mnist mnist/src/" in result.report()
