"""ResultStore: reuse, invalidation, resumable sweeps, atomic writes, default root."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sleeputils.results import provenance
from sleeputils.results.store import ResultStore, default_root


class Counter:
    """A compute function that counts its calls and returns one record per call."""

    def __init__(self, value: float = 50.0) -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> list[dict]:
        self.calls += 1
        return [
            {
                "dataset": "mnist",
                "method": "src",
                "metric": "final_acc",
                "value": self.value,
                "headline": True,
            },
            {"dataset": "mnist", "method": "src", "metric": "task_acc", "value": 1.0, "task_i": 1},
        ]


def unit_files(root: Path) -> list[Path]:
    """Every file under the store's units folder (temporary files included)."""
    return sorted(p for p in (root / "units").rglob("*") if p.is_file())


def test_same_config_is_computed_once(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    compute = Counter()
    first = store.unit("incremental", {"dataset": "mnist", "seed": 3}, 1, compute)
    second = store.unit("incremental", {"seed": 3, "dataset": "mnist"}, 1, compute)  # key order
    assert compute.calls == 1
    pd.testing.assert_frame_equal(first, second)
    assert first["value"].tolist() == [50.0, 1.0]
    assert first["base_seed"].tolist() == [3, 3]  # the config's seed, whatever the trial
    for column in (
        "chapter",
        "trial",
        "config_json",
        "config_hash",
        "git_commit",
        "torch",
        "numpy",
        "sleeputils",
        "python",
        "wall_time_s",
        "created",
        "code_fingerprint",
    ):
        assert column in first.columns, column


def test_config_change_recomputes(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    compute = Counter()
    store.unit("incremental", {"epochs": 2}, 0, compute)
    store.unit("incremental", {"epochs": 3}, 0, compute)
    store.unit("incremental", {"epochs": 2}, 1, compute)  # another trial is another unit
    assert compute.calls == 3
    store.unit("incremental", {"epochs": 3}, 0, compute)
    assert compute.calls == 3


def test_code_change_invalidates(tmp_path: Path) -> None:
    compute = Counter()
    ResultStore(tmp_path, fingerprint="code-a").unit("c", {"x": 1}, 0, compute)
    ResultStore(tmp_path, fingerprint="code-a").unit("c", {"x": 1}, 0, compute)
    assert compute.calls == 1
    ResultStore(tmp_path, fingerprint="code-b").unit("c", {"x": 1}, 0, compute)
    assert compute.calls == 2


def test_code_fingerprint_follows_file_contents(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "chapters").mkdir(parents=True)
    (package / "core.py").write_text("X = 1\n")
    (package / "chapters" / "page.py").write_text("Y = 1\n")
    before = provenance.code_fingerprint(package)
    (package / "chapters" / "page.py").write_text("Y = 2\n")  # presentation layer: excluded
    assert provenance.code_fingerprint(package) == before
    (package / "core.py").write_text("X = 2\n")
    assert provenance.code_fingerprint(package) != before
    changed = provenance.code_fingerprint(package)
    (package / "presets.yaml").write_text("mnist: {r_max: 239.5}\n")  # numbers live here too
    with_presets = provenance.code_fingerprint(package)
    assert with_presets != changed
    (package / "chapters" / "profiles.yaml").write_text("quick: {}\n")  # excluded again
    assert provenance.code_fingerprint(package) == with_presets


def test_interrupted_sweep_resumes(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    calls: list[int] = []

    def sweep(fail_at: int | None) -> list[pd.DataFrame]:
        frames = []
        for trial in range(4):

            def compute(trial: int = trial) -> list[dict]:
                calls.append(trial)
                if trial == fail_at:
                    raise KeyboardInterrupt  # the user pressed Ctrl-C during trial 2
                return [{"dataset": "d", "method": "m", "metric": "acc", "value": trial}]

            frames.append(store.unit("sweep", {"n": 4}, trial, compute))
        return frames

    with pytest.raises(KeyboardInterrupt):
        sweep(fail_at=2)
    assert calls == [0, 1, 2]
    assert len(unit_files(tmp_path)) == 2
    frames = sweep(fail_at=None)
    assert calls == [0, 1, 2, 2, 3]  # trials 0 and 1 were reused
    assert [f["value"].item() for f in frames] == [0, 1, 2, 3]


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(provenance.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.unit("c", {"x": 1}, 0, Counter())
    monkeypatch.undo()
    assert unit_files(tmp_path) == []
    compute = Counter()
    store.unit("c", {"x": 1}, 0, compute)  # nothing half-written was mistaken for a result
    assert compute.calls == 1


def test_crash_mid_write_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")

    def crash(fd: int) -> None:  # the text is written but not yet on disk: simulate a crash
        raise OSError("power cut")

    monkeypatch.setattr(provenance.os, "fsync", crash)
    with pytest.raises(OSError, match="power cut"):
        store.unit("c", {"x": 1}, 0, Counter())
    assert unit_files(tmp_path) == []


def test_failed_compute_writes_nothing(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")

    def compute() -> list[dict]:
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError):
        store.unit("c", {"x": 1}, 0, compute)
    assert unit_files(tmp_path) == []


def test_records_need_the_required_keys(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    with pytest.raises(ValueError, match="lacks keys"):
        store.unit("c", {}, 0, lambda: [{"dataset": "d", "value": 1.0}])


def test_disabled_store_always_computes(tmp_path: Path) -> None:
    store = ResultStore.disabled()
    compute = Counter()
    store.unit("c", {"x": 1}, 0, compute)
    df = store.unit("c", {"x": 1}, 0, compute)
    assert compute.calls == 2
    assert df["trial"].tolist() == [0, 0]
    assert store.load().empty


def test_load_returns_everything_or_one_chapter(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    store.unit("a", {"x": 1}, 0, Counter(1.0))
    store.unit("a", {"x": 1}, 1, Counter(2.0))
    store.unit("b", {"x": 1}, 0, Counter(3.0))
    assert len(store.load()) == 6
    only_a = store.load("a")
    assert set(only_a["chapter"]) == {"a"}
    assert sorted(only_a.loc[only_a["metric"] == "final_acc", "value"]) == [1.0, 2.0]


def test_default_root(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "env"))
    assert default_root() == tmp_path / "env"
    monkeypatch.delenv("SLEEPBOOK_RESULTS")
    book = tmp_path / "book"
    (book / "deep" / "er").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\n")
    monkeypatch.chdir(book / "deep" / "er")
    assert default_root() == book.resolve() / "results" / "cache"
    assert ResultStore().root == book.resolve() / "results" / "cache"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if provenance.project_root() is None:  # no _toc.yml in any parent of the temp folder
        assert default_root() == tmp_path / "home" / ".cache" / "sleeputils" / "results"


def test_canonical_config_ignores_order_and_tuples() -> None:
    a = provenance.config_hash({"hidden": (64, 64), "seed": 0})
    b = provenance.config_hash({"seed": 0, "hidden": [64, 64]})
    assert a == b
    assert a != provenance.config_hash({"seed": 1, "hidden": [64, 64]})


def _cut_at_a_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))


def _without_trailer(path: Path) -> None:  # a unit written before units had a trailer
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))


DAMAGE = {
    "zero-length": lambda p: p.write_bytes(b""),
    "cut at a line boundary": _cut_at_a_line,
    "cut mid-line": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "NUL bytes": lambda p: p.write_bytes(b"\0" * len(p.read_bytes())),
    "no trailer (older unit)": _without_trailer,
    "a value altered": lambda p: p.write_bytes(p.read_bytes().replace(b"50.0", b"58.0", 1)),
    "a record line repeated": lambda p: p.write_bytes(
        p.read_bytes().splitlines(keepends=True)[0] + p.read_bytes()),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_unit_is_reported_by_path_and_recomputed(tmp_path: Path, damage: str) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    compute = Counter()
    intact = store.unit("c", {"x": 1}, 0, compute)
    (path,) = unit_files(tmp_path)
    DAMAGE[damage](path)
    with pytest.warns(UserWarning, match=f"recomputing damaged result unit {path}"):
        again = store.unit("c", {"x": 1}, 0, compute)
    assert compute.calls == 2  # not trusted: computed anew
    pd.testing.assert_frame_equal(again.drop(columns=["created", "wall_time_s"]),
                                  intact.drop(columns=["created", "wall_time_s"]))
    store.unit("c", {"x": 1}, 0, compute)  # and the file that replaced it is trusted
    assert compute.calls == 2


def test_load_leaves_a_damaged_unit_out_and_names_it(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    store.unit("a", {"x": 1}, 0, Counter(1.0))
    store.unit("a", {"x": 1}, 1, Counter(2.0))
    cut = store.unit_path("a", {"x": 1}, 1)
    _cut_at_a_line(cut)
    with pytest.warns(UserWarning, match=f"skipping damaged result unit {cut}"):
        loaded = store.load("a")
    assert loaded["trial"].tolist() == [0, 0]


def test_a_unit_with_no_records_is_complete(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, fingerprint="code-a")
    calls = []
    store.unit("c", {"x": 1}, 0, lambda: calls.append(1) or [])
    assert store.unit("c", {"x": 1}, 0, lambda: calls.append(1) or []).empty
    assert calls == [1]


def test_the_trailer_counts_and_hashes_the_record_lines(tmp_path: Path) -> None:
    import hashlib
    import json

    store = ResultStore(tmp_path, fingerprint="code-a")
    store.unit("c", {"x": 1}, 0, Counter())
    *records, last = store.unit_path("c", {"x": 1}, 0).read_text().splitlines(keepends=True)
    body = "".join(records).encode()
    assert json.loads(last) == {"unit_trailer": {"records": 2,
                                                 "sha256": hashlib.sha256(body).hexdigest()}}


def test_a_command_counts_each_unit_once_however_many_chapters_ask(tmp_path: Path) -> None:
    from sleeputils.results import session

    with session.session() as events:
        assert session.summary(events).reuse_line() == "no result units needed"
        session.asked(["a", "b", "c"], stored=["a"])  # one chapter: a was stored before
        session.note(session.STORED, key="b")
        session.asked(["b", "c", "d"], stored=["b"])  # another, after b was computed
        session.note(session.STORED, key="d")
        done = session.summary(events)
        assert done.reuse_line() == "reused 1 of 4 units stored earlier; computed 2"
        assert done.interrupted_line() == ("interrupted: 3 of 4 units stored; run the same "
                                           "command to resume")
    assert not events.exists()
    assert not session.note(session.STORED, key="e")  # outside a command: nothing noted
