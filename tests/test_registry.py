"""The method registry: every method a protocol runs or a committed number names is a registered
spec, and SRC composed onto a method is that method's hooks then a sleep, nothing else."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.data import load_dataset
from sleeputils.methods.registry import MethodContext, all_specs, get, with_src
from sleeputils.nets.mlp import MLP
from sleeputils.protocols import crossmodal, icarl, incremental, paradigms, rehearsal
from sleeputils.protocols.common import DATASET_PROTOCOLS, trial_setup
from sleeputils.sleep.presets import preset
from sleeputils.sleep.src import SRC
from sleeputils.training import run_tasks

ROOT = Path(__file__).resolve().parents[1]
#: The chapters whose methods come from the registry, by the prefix of their chapter ids.
CHAPTERS = ("incremental", "paradigms", "crossmodal", "rehearsal", "icarl")


@pytest.mark.parametrize("protocol", [incremental, paradigms, crossmodal, rehearsal, icarl])
def test_every_method_a_protocol_runs_is_a_registered_spec(protocol) -> None:
    for method in protocol.METHODS:
        assert get(method).name == method


def test_every_method_in_the_committed_numbers_is_registered() -> None:
    """Results and reference numbers are keyed by method id: renaming a spec breaks them."""
    frames = [pd.read_csv(p) for p in (ROOT / "results" / "paper").glob("*.csv")]
    frames.append(pd.read_csv(ROOT / "results" / "reference" / "quick.csv"))
    rows = pd.concat(frames)
    rows = rows[rows["chapter_id"].str.startswith(CHAPTERS)]
    ids = {m.removesuffix("_corrected") for m in rows["method"]}  # the cross-modal variant
    assert len(ids) >= 12
    for method in sorted(ids):
        get(method)


def test_an_unknown_method_fails_in_one_line_naming_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="unknown method 'gem'; valid: .*er_src"):
        get("gem")


def test_composed_ids_and_order_are_the_records_ones() -> None:
    assert [with_src(get(m)).name for m in ("sequential", "er", "icarl", "rehearsal")] == [
        "src", "er_src", "icarl_src", "rehearsal_src"]
    for spec in all_specs():
        if spec.base is not None:
            base = get(spec.base)
            assert spec.sleeps and spec.budgeted == base.budgeted
            assert spec.output == base.output and spec.src_preset == base.src_preset


@pytest.fixture(scope="module")
def trial():
    ds = load_dataset("mnist")
    proto = DATASET_PROTOCOLS["mnist"]
    setup = trial_setup(ds, proto, 3, hidden=(32, 32), per_task_train=150, test_subset=300)
    return ds, setup


def _run(trial, spec, settings):
    """Two tasks of ``spec`` with ``settings``; sleeps on 1000 training images."""
    ds, setup = trial

    def sleep(scale: float) -> SRC:
        return SRC(preset("mnist"), lambda ctx: ds.x_train[:1000], np.random.default_rng(2),
                   image_shape=ds.image_shape, length_scale=scale)

    net = MLP(replace(setup.mlp, output=spec.output or setup.mlp.output),
              torch.Generator().manual_seed(3))
    hooks = spec.make_hooks(MethodContext(ds, 3, settings, sleep))
    run_tasks(net, setup.tasks[:2], hooks, 1, torch.Generator().manual_seed(4))
    return hooks, net


@pytest.mark.parametrize("name, own", [("sequential", {}), ("ewc", {"strength": 100.0}),
                                       ("er", {"budget": 40}), ("icarl", {"budget": 40})])
def test_src_composed_onto_a_method_with_a_zero_length_sleep_is_the_method_exactly(
        trial, name, own) -> None:
    """Composition onto any method (EWC + SRC is registered nowhere): the base method's hooks,
    then SRC; with sleeps of length zero the net equals the base method's bit for bit."""
    base = get(name)
    composed = with_src(base)
    hooks, net = _run(trial, base, base.settings(**own))
    hooks_src, net_src = _run(trial, composed, composed.settings(**own, sleep_scale=0))
    assert [type(h) for h in hooks_src] == [*map(type, hooks), SRC]
    for w, w_src in zip(net.weights, net_src.weights, strict=True):
        assert torch.equal(w, w_src)


def test_the_composed_sleep_changes_the_net(trial) -> None:
    """The guard of the test above: a sleep of nonzero length does change the weights."""
    _, net = _run(trial, get("sequential"), get("sequential").settings())
    _, slept = _run(trial, get("src"), get("src").settings(sleep_scale=0.05))
    assert not all(torch.equal(w, v) for w, v in zip(net.weights, slept.weights, strict=True))


def test_every_registered_method_has_its_methods_page_section() -> None:
    """A spec's label names the section of book/methods/*.md that states the method."""
    pages = "\n".join(p.read_text() for p in (ROOT / "book" / "methods").glob("*.md"))
    labels = set(re.findall(r"^\(([\w-]+)\)=$", pages, flags=re.M))
    assert {"src-hook", "baselines-ewc", "paradigms-er"} <= labels
    missing = {s.name: s.label for s in all_specs() if s.label not in labels}
    assert not missing, f"methods without their methods-page section: {missing}"


def test_every_registered_method_is_named_as_the_names_table_names_it() -> None:
    """One display name per method: a spec's and the report's names table agree."""
    from sleeputils.methods.registry import all_specs
    from sleeputils.report.names import METHODS

    assert {s.name: s.display for s in all_specs()} == {s.name: METHODS[s.name]
                                                        for s in all_specs()}


def test_every_notebook_has_its_protocol_and_report_module_of_the_same_name() -> None:
    """Notebook, protocol and report share one name per chapter (README: adding a chapter), so a
    reader who opens ``notebooks/replay.md`` finds ``protocols/replay.py`` and
    ``report/replay.py`` (``notebooks/sleep-search.md``: ``protocols/sleep_search.py``); the
    notebook imports its own protocol."""
    import importlib

    from sleeputils.chapters.registry import NOTEBOOKS

    root = Path(__file__).resolve().parents[1]
    for name, notebook in NOTEBOOKS.items():
        module = name.replace("-", "_")  # a Python module's name cannot hold a dash
        importlib.import_module(f"sleeputils.report.{module}")
        source = (root / "notebooks" / f"{name}.md").read_text(encoding="utf-8")
        if notebook.config is None:  # a summary page computes nothing of its own
            continue
        assert notebook.config.__module__ == f"sleeputils.protocols.{module}", name
        assert f"from sleeputils.protocols.{module} import" in source, name
