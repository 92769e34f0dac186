"""The sleep-vector search: the same study whatever runs its units, a resumed search equal to an
uninterrupted one, no test image read while searching, bad samplers refused before compute,
and the report's verdicts on synthetic numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sleeputils.chapters.registry import Book
from sleeputils.data import Dataset, class_incremental_tasks, load_dataset
from sleeputils.params import ParamError
from sleeputils.protocols.sleep_search import (
    SAMPLERS,
    VECTORS,
    Heldout,
    SleepSearchConfig,
    as_vector,
    make_sampler,
    run_sleep_search,
    score_on_test,
    search_vectors,
    space,
    with_vector,
)
from sleeputils.report import sleep_search as report
from sleeputils.results.executor import UnitsFailed, local_cluster
from sleeputils.results.store import IN_PROCESS, ResultStore
from sleeputils.sleep.presets import preset

ROOT = Path(__file__).resolve().parents[1]
#: Every sampler, two generations of four vectors, on a tiny net and the first 3000 images;
#: the single task at 1 epoch on 200 images (the images sweep runs the same evaluation: the
#: smoke chapter runs both sweeps).
CONFIG = SleepSearchConfig(samplers=SAMPLERS, search_seeds=1, generations=2, generation_size=4,
                           single_epochs=(1,), single_images=200, single_image_counts=None,
                           trials=1, hidden=(16, 16),
                           per_task_train=100, epochs=1, sleep_scale=0.02, test_subset=200,
                           validation=30)
#: What a search's history is: who asked, when, which vector, and its score.
STUDY = ["protocol", "epochs", "images", "sampler", "search_seed", "generation", "evaluation",
         *space(3), "value"]


class NoTestSet(Dataset):
    """A data set whose test arrays fail whoever reads them, once armed."""

    def __getattribute__(self, name: str):
        if name in ("x_test", "y_test") and object.__getattribute__(self, "__dict__").get("armed"):
            raise AssertionError(f"the search read {name}")
        return object.__getattribute__(self, name)


@pytest.fixture(scope="module")
def small() -> Dataset:
    ds = load_dataset("mnist")
    n = 3000
    return Dataset("mnist", ds.x_train[:n], ds.y_train[:n], ds.x_test[:500], ds.y_test[:500],
                   ds.n_classes, ds.image_shape, ds.source)


def _search(ds: Dataset, store: ResultStore, config: SleepSearchConfig = CONFIG) -> pd.DataFrame:
    return search_vectors(config, Heldout(ds, config), store=store, progress=False)


def _study(history: pd.DataFrame) -> pd.DataFrame:
    rows = history[history["stage"] == "search"]
    return rows[STUDY].reset_index(drop=True)


def test_one_and_two_workers_give_the_same_study_trial_by_trial(small, tmp_path) -> None:
    alone = _search(small, ResultStore(tmp_path / "one"))
    with local_cluster(2):
        spread = _search(small, ResultStore(tmp_path / "two"))
    assert set(alone["worker"]) == {IN_PROCESS}
    assert IN_PROCESS not in set(spread["worker"]) and spread["worker"].nunique() == 2
    study = _study(alone)
    assert len(study) == (len(SAMPLERS) + 1) * 2 * 4  # 4 class-incremental runs, 1 single-task
    assert study["value"].nunique() > 5 and study["r_max"].nunique() > len(study) / 2
    pd.testing.assert_frame_equal(study, _study(spread))
    refs = alone[alone["stage"] == "reference"]
    pd.testing.assert_series_equal(refs["value"], spread.loc[refs.index, "value"])


def test_an_interrupted_search_resumes_from_its_stored_units(small, tmp_path) -> None:
    store = ResultStore(tmp_path / "resumed")
    first = _search(small, store, CONFIG.replace({"generations": 1}))  # stopped after one
    stored = set((tmp_path / "resumed").rglob("*.jsonl"))
    resumed = _search(small, store)
    whole = _search(small, ResultStore(tmp_path / "whole"))
    pd.testing.assert_frame_equal(_study(resumed), _study(whole))
    # the first generation was read back, not computed again: same units, same creation times
    gen1 = resumed[(resumed["stage"] != "search") | (resumed["generation"] == 1)]
    assert gen1["created"].tolist() == first["created"].tolist()
    assert stored < set((tmp_path / "resumed").rglob("*.jsonl"))


def test_the_search_never_reads_the_test_set(small, tmp_path) -> None:
    guarded = NoTestSet(small.name, small.x_train, small.y_train, small.x_test, small.y_test,
                        small.n_classes, small.image_shape, small.source)
    object.__setattr__(guarded, "armed", True)
    config = CONFIG.replace({"samplers": ("random",), "generations": 1})
    config.check_data(guarded)
    history = _search(guarded, ResultStore(tmp_path), config)
    assert len(_study(history)) == 2 * 4 and history["value"].between(0, 100).all()
    # the guard works: the test stage does read the test set
    with pytest.raises(UnitsFailed, match="the search read [xy]_test"):
        score_on_test(config, guarded, history, store=ResultStore.disabled(), progress=False)


def test_validation_images_are_cut_from_the_training_set_and_the_protocol_is_unchanged(
        small) -> None:
    data = Heldout(small, CONFIG)
    view = data.training("incremental")
    held = np.concatenate(data.picks["incremental"])
    assert view.n_test == 0 and len(view.x_train) == small.n_train - len(held) == 3000 - 5 * 30
    tasks = zip(class_incremental_tasks(view, 2, 100), class_incremental_tasks(small, 2, 100),
                strict=True)
    for task, full in tasks:
        assert np.array_equal(task.x_train, full.x_train)  # the first 100 of each task
    trained = np.concatenate([np.flatnonzero(np.isin(small.y_train, (k, k + 1)))[:100]
                              for k in range(0, 10, 2)])
    assert not set(held) & set(trained)
    single = data.picks["single"][0]
    assert single.tolist() == list(range(3000 - 150, 3000)) and single.min() >= 200


def test_the_single_task_searches_both_sweeps_once_each(small) -> None:
    config = SleepSearchConfig(single_epochs=(1, 10), single_images=5000,
                               single_image_counts=(1000, 5000, 20000))
    assert [(s.epochs, s.images) for s in config.searches] == [
        (None, None), (1, 5000), (10, 5000), (10, 1000), (10, 20000)]  # (10, 5000) once
    assert len({s.name for s in config.searches}) == 5  # each search its own sampler seed
    with pytest.raises(ParamError, match="^single-task searches on 20000 images \\+ 150 "
                                         "validation images > the 3000 training images of mnist$"):
        config.replace({"validation": 30, "per_task_train": 100}).check_data(small)


def test_an_unknown_sampler_fails_in_one_line_naming_the_valid_ones() -> None:
    with pytest.raises(ParamError, match="use a list of nsga2, cmaes, tpe, random$"):
        SleepSearchConfig(samplers=("nsga2", "bayes"))
    with pytest.raises(ParamError) as err:
        Book(ROOT).parse("sleep-search", [("samplers", "nsga2,ga")])
    assert "\n" not in str(err.value) and "nsga2, cmaes, tpe, random" in str(err.value)
    with pytest.raises(ParamError, match="use one of nsga2, cmaes, tpe, random"):
        SleepSearchConfig(single_sampler="ga")
    with pytest.raises(ParamError, match="unknown sampler 'ga'; valid: nsga2, cmaes, tpe, random"):
        make_sampler("ga", 0, 4)
    with pytest.raises(ParamError, match="cmaes needs generation_size >= 4"):
        SleepSearchConfig(samplers=("cmaes",), generation_size=3)


@pytest.mark.parametrize("name", ["mnist", "fashion", "reduced10", "reduced20", "reduced40"])
def test_the_original_vectors_lie_inside_the_searched_ranges(name) -> None:
    params = preset(name)
    vector = as_vector(params, 3)
    for field, (low, high) in space(3).items():
        assert low < vector[field] < high, (field, vector[field])
    assert with_vector(params, vector) == params


def _rows(scores: dict[str, list[float]], val: dict[str, float]) -> pd.DataFrame:
    rows = [{"protocol": "incremental", "epochs": np.nan, "vector": v, "metric": "final_acc",
             "trial": t, "value": x} for v, xs in scores.items() for t, x in enumerate(xs)]
    rows += [{"protocol": "incremental", "epochs": np.nan, "vector": v, "metric": "val_acc",
              "trial": 9999, "value": x} for v, x in val.items()]
    return pd.DataFrame(rows)


def test_verdicts_follow_the_paired_tests() -> None:
    df = _rows({"searched": [60.0, 62.0, 61.0], "original": [50.0, 51.5, 50.2],
                "none": [20.0, 20.5, 19.8]}, {"searched": 63.0, "original": 52.0, "none": 20.0})
    text = report.verdict(df)
    assert "Searched against the original's: **higher**" in text
    assert "searched against no sleep: **higher**" in text
    df = _rows({"searched": [50.0, 52.0, 49.0], "original": [50.5, 51.5, 50.2],
                "none": [20.0, 20.5, 19.8]}, {"searched": 63.0, "original": 52.0, "none": 20.0})
    assert "Searched against the original's: **no clear difference**" in report.verdict(df)


def test_the_original_is_placed_by_rank_and_by_the_test_set() -> None:
    scores = {"searched": [60.0, 62.0, 61.0], "original": [50.0, 51.5, 50.2],
              "none": [20.0, 20.5, 19.8]}
    df = _rows(scores, {"searched": 63.0, "original": 52.0, "none": 20.0})
    search = pd.DataFrame({"stage": "search", "metric": "val_acc", "protocol": "incremental",
                           "epochs": np.nan, "sampler": "random", "search_seed": 0,
                           "generation": [1, 1, 2, 2], "evaluation": [1, 2, 3, 4],
                           "value": [40.0, 55.0, 63.0, 45.0]})
    df = pd.concat([df, search], ignore_index=True)
    ranks = report.original_ranks(df)
    assert ranks["original's rank"].tolist() == ["3 of 5"]
    assert "**away from the optimum**" in report.original_verdict(df)
    text = report.progress_verdict(df)
    assert "last generation added 8.00 points" in text and "**is still rising**" in text


def _single(effects: dict[tuple[int, int], float]) -> pd.DataFrame:
    """Test rows of single-task searches: no sleep near 50, the searched vector ``effect``
    points above it (with a little spread), the original's at no sleep."""
    rows = []
    for (epochs, images), effect in effects.items():
        for t in range(5):
            none = 50.0 + t
            for v, x in (("none", none), ("original", none), ("searched", none + effect + 0.1 * t)):
                rows.append({"protocol": "single", "epochs": epochs, "images": images,
                             "vector": v, "metric": "test_acc", "trial": t, "value": x})
        rows += [{"protocol": "single", "epochs": epochs, "images": images, "vector": v,
                  "metric": "val_acc", "trial": 9999, "value": 50.0} for v in VECTORS]
    return pd.DataFrame(rows)


def test_the_single_task_verdict_names_the_least_trained_of_each_sweep() -> None:
    df = _single({(1, 5000): 10.0, (10, 5000): -5.0, (10, 1000): -8.0})
    text = report.single_verdict(df)
    assert "- 1 epoch on 5000 images: one sleep with the searched vector **helps**" in text
    assert "- 10 epochs on 1000 images: one sleep with the searched vector **hurts**" in text
    assert "**holds** at 1 epoch on 5000 images, the fewest epochs searched" in text
    assert "**does not hold** at 10 epochs on 1000 images, the fewest images searched" in text
    assert report.single_table(df).data["images"].tolist() == [5000, 1000, 5000]
    assert len(report.single_figure(df, 5000).axes) == 2  # the epochs and the images sweeps
    smoke = _single({(1, 500): 1.0, (10, 300): 1.0})  # one setting per sweep: still two panels
    assert [a.get_title() for a in report.single_figure(smoke, 500).axes] == [
        "epochs swept, on 500 images", "images swept, at 10 epochs"]


def test_transfer_must_name_the_other_data_set_in_one_line() -> None:
    with pytest.raises(ParamError, match="give mnist \\(or none\\)"):
        SleepSearchConfig(dataset="fashion")  # the default transfer is fashion itself
    assert SleepSearchConfig(dataset="fashion", transfer="mnist").transfer == "mnist"


def test_transfer_scores_each_searched_vector_on_both_test_sets(tmp_path) -> None:
    """The second search is the same study as that data set's own search with the same sampler
    and seed; each data set's original and no-sleep trials are its own test units; the vector
    scored as "searched on d" is the best of d's search."""
    config = CONFIG.replace({"samplers": ("random",), "generations": 1, "generation_size": 2,
                             "single_epochs": None, "single_image_counts": None,
                             "transfer": "fashion"})
    store = ResultStore(tmp_path)
    df = run_sleep_search(config, store=store, progress=False)
    fashion = config.replace({"dataset": "fashion", "transfer": None})
    alone = run_sleep_search(fashion, store=ResultStore.disabled(), progress=False)
    moved = df[df["protocol"] == "transfer"]
    searched = moved[moved["stage"] == "transfer search"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        _study(searched.assign(stage="search", protocol="incremental")), _study(alone))
    tests = moved[moved["metric"] == "final_acc"]
    assert len(tests) == 2 * 4 * config.trials
    for dataset, own in (("mnist", df), ("fashion", alone)):
        ref = own[(own["protocol"] == "incremental") & (own["metric"] == "final_acc")]
        for vector in ("original", "none"):
            assert tests.loc[(tests["dataset"] == dataset) & (tests["vector"] == vector),
                             "value"].tolist() == ref.loc[ref["vector"] == vector,
                                                          "value"].tolist()
    best = alone[alone["stage"] == "search"].sort_values("value", ascending=False,
                                                         kind="stable").iloc[0]
    chosen = moved[(moved["stage"] == "chosen") & (moved["searched_on"] == "fashion")]
    assert dict(zip(chosen["metric"], chosen["value"], strict=True))["r_max"] == best["r_max"]


def test_the_transfer_verdict_follows_the_paired_tests() -> None:
    rows = [{"protocol": "transfer", "dataset": d, "metric": "final_acc", "trial": t,
             "vector": v, "searched_on": o, "value": x}
            for d, scores in (("mnist", {("searched", "mnist"): [60, 62, 61],
                                         ("searched", "fashion"): [40, 41, 39.5],
                                         ("original", None): [50, 51, 52],
                                         ("none", None): [20, 21, 20.5]}),
                              ("fashion", {("searched", "fashion"): [60, 61, 60.5],
                                           ("searched", "mnist"): [60.5, 60, 61.2],
                                           ("original", None): [50, 51, 52],
                                           ("none", None): [30, 31, 30.4]}))
            for (v, o), xs in scores.items() for t, x in enumerate(xs)]
    text = report.transfer_verdict(pd.DataFrame(rows))
    assert "On Split-MNIST, its own search's vector against Split-Fashion's: **higher**" in text
    assert "On Split-Fashion, its own search's vector against Split-MNIST's: **no clear" in text
    none = pd.DataFrame(rows).assign(protocol="incremental")  # a run without the study
    assert report.transfer_verdict(none) == report.NO_TRANSFER
