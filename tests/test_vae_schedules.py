"""Sleep schedules: seeded reruns are identical, the REM source does not matter without REM (so
such a schedule runs once), each code version is a setting of its own that leaves the other's
numbers alone, bad schedules fail in one line, the data splits are the original's, and the
migration that named the committed numbers' code version moved none of them."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.params import ParamError
from sleeputils.protocols.vae import ScheduleConfig, rem_share, run_schedules
from sleeputils.protocols.vae_common import (
    DigitClassifier,
    pack_images,
    recall_accuracy,
    split_data,
    unpack_images,
)
from sleeputils.results.record import summarise
from sleeputils.results.setting import decode, encode
from sleeputils.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
TINY = {"initial_epochs": 1, "initial_images": 300, "total_epochs": 4, "cycles": (2,),
        "num": 5, "trials": 1, "test_subset": 100, "sweep_cycles": 2, "sweep_shares": None,
        "ramp": None, "code_versions": ("2024",)}


def _key(d: str, cycles: int, share: float, end: float, source: str,
         version: str = "2024") -> tuple[str, str]:
    """A schedule's final error as the records key it: metric and setting."""
    return f"{d}_final", encode(code_version=version, cycles=cycles, rem_share=share,
                                rem_end=end, rem_from=source)


def _finals(df) -> dict:
    rows = df[df["headline"].fillna(False).astype(bool)]
    return dict(zip(zip(rows["metric"], rows["setting"], strict=True), rows["value"],
                    strict=True))


def test_reruns_are_identical_and_rem_source_matters_with_rem() -> None:
    config = ScheduleConfig(rem_shares=(0.5,), **TINY)
    first = _finals(run_schedules(config, store=ResultStore.disabled(), progress=False))
    again = _finals(run_schedules(config, store=ResultStore.disabled(), progress=False))
    assert first == again  # same seeds, same numbers, computed twice from scratch
    for d in ("d1", "d2"):
        assert first[_key(d, 2, 0.5, 0.5, "frozen")] != first[_key(d, 2, 0.5, 0.5, "current")]


def test_without_rem_the_source_is_moot_so_the_schedule_runs_once(tmp_path) -> None:
    def finals(sources: tuple[str, ...], store: ResultStore) -> dict:
        config = ScheduleConfig(rem_shares=(0.0,), rem_from=sources, **TINY)
        return _finals(run_schedules(config, store=store, progress=False))

    apart = {source: finals((source,), ResultStore.disabled())
             for source in ("frozen", "current")}
    for d in ("d1", "d2"):  # computed separately, the two sources give the same numbers
        assert apart["frozen"][_key(d, 2, 0, 0, "frozen")] == (
            apart["current"][_key(d, 2, 0, 0, "current")])
    store = ResultStore(tmp_path)
    both = finals(("current", "frozen"), store)
    assert both == {**apart["current"], **apart["frozen"]}
    assert len(list((tmp_path / "units" / "vae").glob("*.jsonl"))) == 1  # one schedule run


def test_bad_schedules_fail_in_one_line() -> None:
    with pytest.raises(ParamError, match=r"cycles \[8\] exceed total_epochs = 4"):
        run_schedules(ScheduleConfig(**{**TINY, "cycles": (2, 8)}), progress=False)
    with pytest.raises(ParamError, match="'rem_shares' = .* is not valid"):
        ScheduleConfig(rem_shares=(0.5, 1.5))
    with pytest.raises(ParamError, match="'split' = 'rotated' is not valid"):
        ScheduleConfig(split="rotated")
    with pytest.raises(ParamError, match=r"ramp = \(0.2,\) must be two shares"):
        run_schedules(ScheduleConfig(**{**TINY, "ramp": (0.2,)}), progress=False)


def test_ramp_goes_linearly_from_first_to_last_cycle() -> None:
    shares = [rem_share(0.2, 0.8, k, 7) for k in range(7)]
    assert shares[0] == 0.2 and shares[-1] == pytest.approx(0.8)
    assert np.allclose(np.diff(shares), 0.1)
    assert rem_share(0.2, 0.8, 0, 1) == 0.2  # one cycle: no division by zero


def test_ramp_and_sweep_schedules_run_and_name_their_numbers() -> None:
    config = ScheduleConfig(**{**TINY, "rem_shares": (0.0,), "rem_from": ("frozen",),
                               "sweep_shares": (0.0, 1.0), "ramp": (0.0, 1.0)})
    assert config.schedules() == [(2, 0.0, 0.0, "frozen"), (2, 1.0, 1.0, "frozen"),
                                  (2, 0.0, 1.0, "frozen")]
    df = run_schedules(config, store=ResultStore.disabled(), progress=False)
    finals = _finals(df)
    assert set(finals) == {_key(d, 2, a, b, "frozen") for d in ("d1", "d2")
                           for a, b in ((0, 0), (1, 1), (0, 1))}
    rem = df[(df["metric"] == "rem_epochs") & (df["rem_share"] == 0.0) & (df["rem_end"] == 1.0)]
    assert rem.sort_values("cycle")["value"].tolist() == [0, 2]  # ramp: none, then all


def test_recall_accuracy_of_a_perfect_recall_is_the_classifiers_accuracy() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x, y = rng.random((300, 784)), rng.integers(0, 10, 300)
    model = LogisticRegression(max_iter=50).fit(x, y)
    ours = DigitClassifier(model.coef_, model.intercept_)
    assert (ours.predict(x) == model.predict(x)).all()
    assert recall_accuracy(ours, x, y, inverted=False) == pytest.approx(100 * model.score(x, y))
    assert recall_accuracy(ours, 1 - x, y, inverted=True) == pytest.approx(100 * model.score(x, y))


def test_images_survive_packing_to_a_grey_level() -> None:
    x = np.random.default_rng(1).random((3, 784))
    assert np.abs(unpack_images(pack_images(x)).reshape(3, -1) - x).max() <= 0.5 / 255 + 1e-7


def test_digit_split_has_the_standard_class_totals() -> None:
    data = split_data("digits")
    assert (len(data["d1_train"]), len(data["d1_test"])) == (30596, 5139)
    assert (len(data["d2_train"]), len(data["d2_test"])) == (29404, 4861)
    inv = split_data("inverted")
    assert (inv["d1_test"] + inv["d2_test"] == 1.0).all()


def test_verdicts_say_pure_nrem_once_and_how_much_forgetting_rem_prevents() -> None:
    from sleeputils.report.vae import schedule_verdicts

    d1 = {0.0: [10.0, 30.0, 31.0], 0.5: [10.0, 14.0, 15.0]}  # dataset-1 error after cycle 0..2
    rows = [{"metric": f"{d}_error", "cycles": 2, "rem_share": share, "rem_end": share,
             "rem_from": source, "cycle": cycle, "trial": 0,
             "value": curve[cycle] if d == "d1" else 5.0}
            for share, curve in d1.items() for source in ("frozen", "current")
            for d in ("d1", "d2") for cycle in range(3)]
    text = schedule_verdicts(pd.DataFrame(rows))
    assert text.count("Pure NREM") == 1  # the REM source is moot without REM
    assert "95 % of its whole rise" in text and "**forgotten within the first cycle**" in text
    kept = round(100 * (1 - (15 - 10) / (31 - 10)))  # share of dataset 1's rise prevented
    assert text.count(f"prevents {kept} % of the forgetting") == 2  # frozen and current


def test_the_cycles_trend_is_judged_per_rem_source_not_pooled() -> None:
    from sleeputils.report.vae import schedule_verdicts

    # frozen: the final error falls with more cycles; current: collapsed, flat and far higher.
    # Pooled, the two sources' 24 runs would show no trend (the collapse dominates the spread).
    finals = {"frozen": {5: 70.0, 10: 66.0, 20: 62.0, 50: 58.0},
              "current": {5: 680.0, 10: 680.0, 20: 680.0, 50: 680.0}}
    rows = [{"metric": f"{d}_error", "cycles": c, "rem_share": 0.5, "rem_end": 0.5,
             "rem_from": source, "cycle": c, "trial": seed,
             "value": by_cycles[c] + seed * 0.1 if d == "d1" else 5.0 + seed}
            for source, by_cycles in finals.items() for c in by_cycles
            for d in ("d1", "d2") for seed in range(3)]
    text = schedule_verdicts(pd.DataFrame(rows))
    assert ("With a 50/50 schedule (frozen), more and shorter cycles give a **lower** final "
            "error on dataset 1") in text
    assert "With a 50/50 schedule (current), the number of cycles has **no clear effect**" in text
    assert text.count("12 runs") == 4  # each source and dataset on its own 4 x 3 runs


def test_each_ramp_is_compared_with_the_constant_half_of_its_own_rem_source() -> None:
    """The sweep runs its constant shares from the frozen VAE only; a ramp dreaming from the
    current VAE is compared with the grid's constant 0.5 from the current VAE, not the frozen
    one (a collapsed current run against a healthy frozen one reads as a ramp's fault)."""
    from sleeputils.report.vae import part, sweep_verdict

    config = ScheduleConfig(cycles=(10,), sweep_cycles=10, code_versions=("2024",))
    finals = {(0.0, 0.0, "frozen"): 90.0, (0.5, 0.5, "frozen"): 67.0,
              (1.0, 1.0, "frozen"): 60.0, (0.5, 0.5, "current"): 680.0,
              (0.0, 0.0, "current"): 90.0,  # no REM: not part of the sweep's comparison
              (0.2, 0.8, "frozen"): 70.0, (0.2, 0.8, "current"): 650.0}
    rows = [{"metric": f"{d}_error", "cycles": 10, "rem_share": first, "rem_end": last,
             "rem_from": source, "cycle": cycle, "trial": 0, "code_version": "2024",
             "value": value if cycle == 10 else 50.0}
            for (first, last, source), value in finals.items()
            for d in ("d1", "d2") for cycle in (0, 10)]
    text = sweep_verdict(part(pd.DataFrame(rows), config, "sweep"))
    assert "REM 0.2→0.8, current ends at 650.0 on" in text
    assert "against 680.0 for a constant 0.5 from the same VAE" in text
    assert "REM 0.2→0.8, frozen ends at 70.0 on" in text
    assert "against 67.0 for a constant 0.5 from the same VAE" in text
    assert text.count("against 67.0") == 2 and text.count("against 680.0") == 2  # both sets


def test_the_committed_run_says_which_code_versions_it_holds() -> None:
    from sleeputils.report.vae import committed_versions_note

    paper = ScheduleConfig()  # both versions
    only_2024 = pd.DataFrame({"code_version": ["2024", "2024"], "value": [1.0, 2.0]})
    note = committed_versions_note(only_2024, paper)
    assert note.startswith("It holds the 2024 code") and "The 2023 code" in note
    assert "not committed yet" in note
    both = pd.DataFrame({"code_version": ["2023", "2024"], "value": [1.0, 2.0]})
    assert "not committed" not in committed_versions_note(both, paper)
    assert committed_versions_note(both.iloc[:0], paper) == ""


def test_an_error_interval_never_reaches_below_zero() -> None:
    from sleeputils.report.vae import _interval

    low, high = (float(x) for x in _interval(pd.Series([60.0, 70.0, 690.0])).strip("[]")
                 .split(", "))
    assert low == 0.0 and high > 690.0  # the t interval would start near -570
    assert _interval(pd.Series([60.0, 70.0, 80.0])) == "[45.2, 94.8]"  # 70 ± 4.303 * 10 / √3


def test_committed_final_errors_table_as_the_run_they_came_from() -> None:
    from sleeputils.report.tables import committed_trials
    from sleeputils.report.vae import committed_finals, final_table

    config = ScheduleConfig(**{**TINY, "rem_shares": (0.0, 0.5), "rem_from": ("frozen",),
                               "ramp": (0.2, 0.8), "trials": 2})
    df = run_schedules(config, store=ResultStore.disabled(), progress=False)
    heads = df[df["headline"].fillna(False).astype(bool)]
    trials = heads[["dataset", "method", "setting", "metric", "trial", "value"]].assign(
        chapter_id="vae-x")
    full = committed_finals(committed_trials(trials, "vae-x"))
    assert len(full) == len(heads) == 2 * 2 * 3  # 2 seeds x 2 datasets x 3 schedules
    ran, kept = final_table(df).data, final_table(full).data
    # a committed run keeps final errors only: no "before" columns
    assert "dataset 1 before" in ran and "dataset 1 before" not in kept
    key = "schedule (2 seeds)"  # one seed count for all: said in the header
    merged = ran.merge(kept, on=key, suffixes=("", "_kept"))
    assert len(merged) == 3
    for column in ("dataset 1 after", "dataset 2 after", "dataset 2 CI"):
        assert (merged[column] == merged[f"{column}_kept"]).all()


def test_far_line_names_exactly_the_runs_above_twice_the_median() -> None:
    from sleeputils.report.vae import far_line

    runs = pd.DataFrame({"cycles": [5, 5, 10, 10, 20, 20], "trial": [0, 1] * 3,
                         "value": [680.0, 66.0, 67.0, 65.0, 68.0, 134.0]})  # median 67.5
    text = far_line(runs, "dataset 1", "final error", lambda r: f"{r.cycles:g}/{r.trial:g}",
                    "cycles value", 1)
    assert text.startswith("- 1 of 6 runs ends far above") and ": 5/0. It carries" in text
    assert "median final error, 67.5" in text  # 134 < 2 x 67.5: not named
    assert far_line(runs.assign(trial=0), "d", "e", str, "s", 1) == ""  # one seed: no spread


def test_blank_page_errors_are_the_ink_and_its_complement() -> None:
    from sleeputils.protocols.vae_common import blank_errors

    blanks = blank_errors("inverted", 500)
    data = split_data("inverted")
    ink = data["d1_test"][:500].reshape(500, -1).sum(1).mean()
    assert blanks["black"]["d1"] == pytest.approx(ink, rel=1e-6)
    for d in ("d1", "d2"):  # |x - 0| + |x - 1| = 1 for every pixel in [0, 1]
        assert blanks["black"][d] + blanks["white"][d] == pytest.approx(784, rel=1e-6)
    assert blanks["black"]["d2"] == pytest.approx(blanks["white"]["d1"], rel=1e-6)  # inverted


def test_collapse_verdict_names_the_runs_at_a_blank_pages_errors() -> None:
    from sleeputils.report.vae import collapse_verdict

    blanks = {"black": {"d1": 104.0, "d2": 680.0}, "white": {"d1": 680.0, "d2": 104.0}}
    ends = {(5, 0): (680.3, 103.6), (5, 1): (66.0, 90.0), (10, 0): (103.9, 680.1),
            (10, 1): (680.2, 95.0)}  # the last is blank on dataset 1 only: not a collapse
    rows = [{"metric": f"{d}_error", "cycles": c, "rem_share": 0.5, "rem_end": 0.5,
             "rem_from": "frozen", "cycle": c, "trial": t, "value": v[i]}
            for (c, t), v in ends.items() for i, d in enumerate(("d1", "d2"))]
    text = collapse_verdict(pd.DataFrame(rows), blanks=blanks).splitlines()
    assert len(text) == 2
    assert text[0].startswith("- 1 of 4 runs end at the error of a blank black page")
    assert text[0].endswith("10 cycles, REM 0.5, frozen (seed 0).")
    assert text[1].endswith("5 cycles, REM 0.5, frozen (seed 0).")
    assert collapse_verdict(pd.DataFrame(rows[2:4]), blanks=blanks) == ""  # (5, 1) alone: none


def test_splits_with_the_same_first_dataset_train_one_initial_vae(tmp_path: Path) -> None:
    from sleeputils.protocols.vae_common import initial_settings, initial_vae

    inverted, fashion = split_data("inverted"), split_data("fashion")
    assert np.array_equal(inverted["d1_train"], fashion["d1_train"])  # what makes sharing valid
    store = ResultStore(tmp_path)
    weights = [initial_vae(initial_settings(ScheduleConfig(**{**TINY, "split": s}), "2024"),
                           data, store=store, progress=False)
               for s, data in (("inverted", inverted), ("fashion", fashion))]
    assert len(list((store.units_dir / "vae-initial").iterdir())) == 1
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    digits = initial_settings(ScheduleConfig(**{**TINY, "split": "digits"}))
    assert digits != initial_settings(ScheduleConfig(**TINY))  # its own dataset 1


def test_each_code_version_is_a_setting_and_leaves_the_others_numbers_alone(
        tmp_path: Path) -> None:
    # Both versions in one run: two initial VAEs, two sets of schedule units, every number
    # under a setting naming its version; the 2024 numbers are those of a 2024-only run.
    store = ResultStore(tmp_path)
    both = ScheduleConfig(**{**TINY, "code_versions": ("2023", "2024"), "rem_shares": (0.0, 0.5),
                             "rem_from": ("frozen", "current")})
    df = run_schedules(both, store=store, progress=False)
    assert len(list((store.units_dir / "vae-initial").iterdir())) == 2
    assert len(list((store.units_dir / "vae").glob("*.jsonl"))) == 2 * 3  # REM-free: once each
    heads = df[df["headline"].fillna(False).astype(bool)]
    assert (heads["code_version"] == heads["setting"].map(lambda t: decode(t)["code_version"])
            ).all()
    summarise(df)  # one number per (dataset, method, setting, metric): no version collides
    finals = _finals(df)
    by_version = {v: {(m, encode({**decode(t), "code_version": None})): x
                      for (m, t), x in finals.items() if decode(t)["code_version"] == v}
                  for v in ("2023", "2024")}
    assert set(by_version["2023"]) == set(by_version["2024"])  # the same schedules ...
    assert len(by_version["2024"]) == len(finals) / 2 == 2 * 2 * 2
    assert all(by_version["2023"][k] != by_version["2024"][k]  # ... with their own numbers
               for k in by_version["2024"])
    alone = _finals(run_schedules(ScheduleConfig(**{**TINY, "rem_shares": (0.0, 0.5),
                                                    "rem_from": ("frozen", "current")}),
                                  store=ResultStore.disabled(), progress=False))
    assert alone == {k: x for k, x in finals.items() if decode(k[1])["code_version"] == "2024"}
    curves = df[df["metric"].isin(["d1_error", "d2_error"]) & (df["code_version"] == "2024")]
    assert len(curves) and curves["value"].notna().all()
    _report_shows_each_version_apart(df, both)


def _report_shows_each_version_apart(df: pd.DataFrame, config: ScheduleConfig) -> None:
    import matplotlib.pyplot as plt

    from sleeputils.report import vae

    table = vae.final_table(df).data
    assert list(table["code"].unique()) == ["2023", "2024"]
    assert len(table) == 2 * 4  # 4 schedules per version
    grid = vae.part(df, config, "grid")
    text = vae.run_verdicts(grid, df, config)
    assert text.index("**2023 code") < text.index("**2024 code")
    assert text.count("Pure NREM, 2 cycles") == 2  # stated once per version
    alone = df[df["code_version"] == "2024"]  # one version: read as before, no heading
    assert vae.run_verdicts(grid.loc[grid.index.isin(alone.index)], alone, config) == (
        vae.schedule_verdicts(vae.part(alone, config, "grid")) + "\n"
        + vae.collapse_verdict(alone, config)).strip("\n")
    schedules = vae.contrasted(grid)
    for figure in (vae.error_curves(grid), vae.share_sweep(grid),
                   vae.recall_images(grid, schedules), vae.dream_images(df),
                   vae.error_histograms(grid, schedules[-1])):
        assert any("2023 code" in t.get_text() for ax in figure.axes
                   for t in (ax.title, *ax.texts))
        plt.close(figure)


def _migration():
    path = ROOT / "migrations" / "2026_12_vae_versions.py"
    spec = importlib.util.spec_from_file_location("vae_versions_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unmigrated(text: str) -> str:
    """A committed file as it was before the migration: no setting names the 2024 code."""
    return text.replace('""code_version"":""2024"",', "")


NUMBERS = ["mean", "std", "n", "value", "tol"]


def test_the_version_migration_moves_no_number_and_is_idempotent() -> None:
    migration = _migration()
    files = migration.files()
    assert {p.name for p in files} >= {"vae-inverted.csv", "vae-fashion.csv", "quick.csv",
                                       "quick-trials.csv"}
    for path in files:
        committed = path.read_text(encoding="utf-8")
        before = _unmigrated(committed)
        assert migration.migrate_text(committed) == committed  # twice changes nothing
        after = migration.migrate_text(before)
        assert after == committed  # what is committed is the migration's output
        old, new = (pd.read_csv(io.StringIO(t), dtype={"setting": str}).fillna({"setting": ""})
                    for t in (before, after))
        vae = new["chapter_id"].str.startswith("vae-")
        assert (new.loc[vae, "setting"].map(lambda t: decode(t)["code_version"]) == "2024").all()
        assert (new.loc[~vae, "setting"] == old.loc[~vae, "setting"]).all()
        numbers = [c for c in NUMBERS if c in new]
        pd.testing.assert_frame_equal(old[numbers], new[numbers])  # every mean, trial, tolerance
        keys = [c for c in new if c not in (*numbers, "setting")]
        pd.testing.assert_frame_equal(old[keys], new[keys])


def test_the_version_migration_keeps_a_version_already_named() -> None:
    migration = _migration()
    text = ('chapter_id,dataset,method,setting,metric,mean\n'
            'vae-inverted,inverted,vae,"{""code_version"":""2023"",""cycles"":5}",d1_final,1.5\n'
            'vae-inverted,inverted,vae,"{""cycles"":5}",d1_final,2.5\n'
            'replay-inverted,inverted,vae,"{""new"":5}",d1_after,3.5\n')
    out = migration.migrate_text(text).splitlines()
    assert out[1] == text.splitlines()[1] and out[3] == text.splitlines()[3]
    assert out[2] == ('vae-inverted,inverted,vae,"{""code_version"":""2024"",""cycles"":5}",'
                      'd1_final,2.5')
