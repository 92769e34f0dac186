"""SRC with the searched vector (method ``src_searched``): read from the committed sleep search's
records, refused in one line without them, and the same computation as SRC when the vector is
the original's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sleeputils.params import ParamError
from sleeputils.protocols import incremental, searched
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.sleep_search import as_vector
from sleeputils.results import setting
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset

SMALL = dict(trials=1, hidden=(32, 32), per_task_train=200, epochs=1, sleep_scale=0.02,
             test_subset=300)


def _project(tmp_path: Path, vector: dict[str, float] | None) -> Path:
    """A project whose committed records hold ``vector`` as the MNIST search's choice."""
    folder = tmp_path / "results" / "paper"
    folder.mkdir(parents=True)
    if vector is not None:
        rows = [{"chapter_id": "sleep-search", "dataset": "mnist", "method": "src",
                 "setting": setting.encode(protocol="incremental", vector="searched"),
                 "metric": name, "mean": value, "std": 0.0, "n": 1}
                for name, value in {"val_acc": 55.0, **vector}.items()]
        pd.DataFrame(rows).to_csv(folder / "sleep-search.csv", index=False)
    return tmp_path


def test_the_vector_is_read_from_the_committed_search(tmp_path) -> None:
    vector = {"r_max": 50.0, "inc": 0.01, "dec": 1e-4, "beta_1": 2.0, "beta_2": 3.0,
              "beta_3": 4.0, "alpha_scale": 5.0}
    got = searched.searched_vector("mnist", _project(tmp_path, vector))
    assert got == tuple((name, vector[name]) for name in searched.FIELDS)


def test_without_a_committed_search_it_fails_in_one_line(tmp_path) -> None:
    with pytest.raises(ParamError) as err:
        searched.searched_vector("mnist", _project(tmp_path, None))
    text = str(err.value)
    assert "\n" not in text and "sleepbook run sleep-search --profile paper" in text
    with pytest.raises(ParamError, match="the sleep search covers mnist, fashion"):
        searched.searched_vector("cifar10", tmp_path)


def test_the_original_vector_as_searched_reproduces_src_bit_for_bit(monkeypatch) -> None:
    """Two ways to one computation: SRC with the original's vector, and src_searched handed
    that same vector; a different vector changes the result."""
    original = tuple(as_vector(preset("mnist"), 3).items())
    monkeypatch.setattr(incremental, "searched_vector", lambda dataset: original)
    config = IncrementalConfig(**SMALL, methods=("src", "src_searched"))
    df = run_incremental(config, store=ResultStore.disabled(), progress=False)
    final = df[df["metric"] == "final_acc"].set_index("method")["value"]
    assert final["src_searched"] == final["src"]
    other = tuple((name, value * (3.0 if name == "alpha_scale" else 1.0))
                  for name, value in original)
    monkeypatch.setattr(incremental, "searched_vector", lambda dataset: other)
    moved = run_incremental(config.replace({"methods": ("src_searched",)}),
                            store=ResultStore.disabled(), progress=False)
    assert moved.loc[moved["metric"] == "final_acc", "value"].iloc[0] != final["src"]
    assert incremental.method_unit(config, "src_searched", None).sleep_vector == other
    assert "sleep_vector" not in incremental.method_unit(config, "src", None).key()


def test_the_paradigms_chapter_sleeps_with_it_only_when_asked(monkeypatch) -> None:
    """Not in the default methods (it needs the search's records); asked for, its unit names
    the vector and the SRC unit keeps its key."""
    from sleeputils.protocols import paradigms

    assert "src_searched" in paradigms.METHODS
    assert "src_searched" not in paradigms.ParadigmsConfig().methods
    vector = tuple(as_vector(preset("mnist"), 3).items())
    monkeypatch.setattr(paradigms, "searched_vector", lambda dataset: vector)
    config = paradigms.ParadigmsConfig(datasets=("mnist",), methods=("src", "src_searched"))
    searched_unit = paradigms.method_unit(config, "mnist", "src_searched", None)
    assert searched_unit.sleep_vector == vector
    assert "sleep_vector" not in paradigms.method_unit(config, "mnist", "src", None).key()
