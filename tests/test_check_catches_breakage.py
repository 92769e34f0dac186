"""The number check can fail: a deliberately broken SRC or OWM moves recorded trials, an intact
re-run moves none, on the reference's machine and on another one (CI's CPUs are not the
reference's; simulated by changing the machine signature). Smoke-sized runs of the incremental
protocol, recorded and checked as a chapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleeputils.methods.owm import OWM
from sleeputils.protocols import common
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.results import provenance
from sleeputils.results.check import OTHER_MACHINE, check_profile
from sleeputils.results.record import record
from sleeputils.results.reference import freeze
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset

CONFIG = IncrementalConfig(trials=2, hidden=(64, 64), per_task_train=200, epochs=1,
                           sleep_scale=0.02, test_subset=1000,
                           methods=("sequential", "src", "owm"), owm_alpha=1e-3)
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
    assert set(moved["method"]) == {"src"}  # the others never sleep, so they must not move
    assert "MOVED incremental-mnist mnist/src/" in result.report()


OTHER_CPU = "another CPU (simulated) / 2 cores / 1 torch thread per unit"


def test_an_intact_rerun_passes_on_another_machine(project: Path, monkeypatch) -> None:
    """SRC's first-sleep scale factors are compared there, within their relative band."""
    monkeypatch.setattr(provenance, "machine", lambda: OTHER_CPU)
    _record_run(project)
    result = _check(project)
    assert not result.failed, result.report()
    alphas = result.trials[result.trials["metric"] == "first_sleep_alpha"]
    assert len(alphas) and set(alphas["status"]) == {"ok"}


@pytest.mark.parametrize("broken", list(BREAKS))
def test_a_broken_src_fails_the_check_on_another_machine(project: Path, monkeypatch,
                                                         broken: str) -> None:
    """CI's CPUs are not the reference's: there SRC's accuracies are not compared one by one,
    so what catches a broken SRC is its means and the numbers no chaotic step reaches, the first
    sleep's scale factors (simulated by changing the machine signature). Measured before those
    were recorded: at n = 2 smoke trials (final accuracy 8.3 +- 17.0) a halved alpha moved the
    mean by 1.1 points and passed the means' band."""
    monkeypatch.setattr(common, "preset", BREAKS[broken])
    monkeypatch.setattr(provenance, "machine", lambda: OTHER_CPU)
    _record_run(project)
    result = _check(project)
    src = result.trials[result.trials["method"] == "src"]
    accuracies = src[src["metric"] != "first_sleep_alpha"]
    assert set(accuracies["status"]) <= {OTHER_MACHINE}  # trials shown, not compared
    assert result.failed, result.report()
    assert "MOVED incremental-mnist mnist/src/" in result.report()


@pytest.mark.parametrize("machine", ["same", "other"])
def test_a_broken_owm_fails_the_check(project: Path, monkeypatch, machine: str) -> None:
    """A baseline broken (OWM's projectors never absorb an input: plain SGD) moves its trials,
    which are compared one by one on any machine (OWM is not chaotic)."""
    monkeypatch.setattr(OWM, "absorb", lambda self, k, x: None)
    if machine == "other":
        monkeypatch.setattr(provenance, "machine", lambda: OTHER_CPU)
    _record_run(project)
    result = _check(project)
    assert result.failed
    moved = result.trials[result.trials["status"] == "MOVED"]
    assert set(moved["method"]) == {"owm"}
    assert "MOVED incremental-mnist mnist/owm/" in result.report()
