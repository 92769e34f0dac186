"""Every notebook of the book runs end to end on the smoke profile through papermill.

The chapters run in a copy of the project (so the real book/chapters/ is untouched) with their
own result store, beside the committed ``results/paper`` numbers (so every "full protocol"
section reads the real committed runs: a broken reader fails here); the assertions are
invariants of the recorded numbers, and that a second run reuses the stored trials and
reproduces the same numbers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sleeputils.chapters.registry import Book
from sleeputils.chapters.runner import run_chapter
from sleeputils.methods.wscl import CONVENTIONS
from sleeputils.protocols import crossmodal, paradigms, wscl
from sleeputils.protocols.incremental import DEFAULT_METHODS, IncrementalConfig, run_incremental
from sleeputils.results.setting import encode, expand
from sleeputils.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
#: The recorded accuracies (percent) of the SRC-part chapters.
ACCURACIES = ("acc_after_task1", "acc_after_task2", "acc_after_sleep", "final_acc", "nme_acc",
              "task1_acc", "task2_acc", "test_acc", "train_acc", "probe_acc", "acc_mnist",
              "acc_fashion")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Book:
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    shutil.copytree(ROOT / "results" / "paper", root / "results" / "paper")
    return Book(root)


@pytest.fixture(autouse=True)
def store_env(book: Book, monkeypatch) -> None:
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(book.project / "store"))


def _records(book: Book, chapter: str, label: str = "smoke") -> pd.DataFrame:
    return pd.read_csv(book.project / "store" / "records" / label / f"{chapter}.csv")


def _one_per_notebook() -> list[str]:
    """The first chapter of every notebook: other renderings differ only in their data set,
    which the protocols' own tests cover. (Without the CUB-200 features, ``cub200`` checks the
    page a chapter renders when its data is absent.)"""
    firsts: dict[str, str] = {}
    for chapter in Book(ROOT).chapters:
        firsts.setdefault(chapter.notebook.name, chapter.id)
    return list(firsts.values())


@pytest.mark.notebook
@pytest.mark.parametrize("chapter", _one_per_notebook())
def test_chapter_runs_on_smoke(book: Book, chapter: str) -> None:
    done = run_chapter(book.resolve(chapter, "smoke"), book, progress=False,
                       render_missing=True)
    assert done.ok
    executed = nbformat.read(done.output, as_version=4)
    outputs = [o for c in executed.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]  # plumbing stays hidden
    absent = any("Data not available" in str(o.get("data", {})) for o in outputs)
    if chapter != "status" and not absent:  # every chapter draws at least one figure
        assert any("image/png" in o.get("data", {}) for o in outputs), "no figure rendered"
    if chapter == "status" or absent:  # CIFAR-10 / CUB-200 without their feature files
        assert not absent or not (book.project / "store" / "records" / "smoke"
                                  / f"{chapter}.csv").exists()
        return
    rec = expand(_records(book, chapter))
    trials = pd.read_csv(book.project / "store" / "records" / "smoke" / "trials" / f"{chapter}.csv")
    assert len(trials) >= len(rec)  # every recorded mean has its trials beside it
    if chapter == "vae-inverted":  # smoke: (2 x 2 grid, 1 more shared, 1 ramp) x 2 datasets
        assert len(rec) == 12 and set(rec["method"]) == {"vae"}
        assert rec["mean"].gt(0).all()  # reconstruction errors, no accuracies
        return
    if chapter.startswith("replay"):  # smoke: new 20, old 20, 10 + 10; then 10 new + 0, 5, 10
        runs = {(20, 0), (0, 20), (10, 10), (10, 0), (10, 5)}
        assert set(zip(rec["metric"], rec["setting"], strict=True)) == {
            (f"{d}_after", encode(new=n, sampled=s)) for d in ("d1", "d2") for n, s in runs}
        assert rec["mean"].gt(0).all()
        return
    if chapter == "interleave":  # smoke: blocks 1, 5 and 10
        assert set(zip(rec["metric"], rec["block"], strict=True)) == {
            (f"{d}_mse", n) for d in ("d1", "d2") for n in (1, 5, 10)}
        assert rec["mean"].between(0, 1).all()  # per-pixel squared errors of [0, 1] images
        return
    if chapter.startswith("wscl"):  # every variant, final accuracy under each convention
        finals = rec[rec["metric"].str.startswith("final_")]
        assert set(finals["method"]) == set(wscl.VARIANTS)
        assert set(finals["metric"]) == {f"final_{c}" for c in CONVENTIONS}
        assert finals["mean"].between(0, 100).all()
        return
    if chapter == "paradigms":  # every method; the budgeted ones once per smoke budget (20)
        finals = rec[rec["metric"].str.startswith("final_acc")]
        assert set(finals["method"]) == set(paradigms.DEFAULT_METHODS)
        budgeted = finals[finals["method"].isin(paradigms.BUDGETED)]
        assert set(budgeted["metric"]) == {"final_acc"} and set(budgeted["budget"]) == {20}
        assert finals["mean"].between(0, 100).all()
        return
    accuracies = rec[rec["metric"].isin(ACCURACIES)]
    assert len(accuracies) and accuracies["mean"].between(0, 100).all()
    if chapter == "patches":
        # accuracy on 4 images comes in steps of 25 %
        assert ((accuracies["mean"] % 25) == 0).all()
    elif chapter.startswith("rehearsal"):
        fractions = set(rec.loc[rec["metric"] == "final_acc", "fraction"])
        assert fractions == {0, 0.1}  # the smoke profile's fractions
        assert set(rec["method"]) == {"rehearsal", "rehearsal_src"}
    elif chapter == "crossmodal":
        # the smoke profile runs every method; two of them also in the corrected variant
        finals = rec[rec["metric"] == "final_acc"]
        assert set(finals["method"]) == set(crossmodal.METHODS)
        corrected = finals.loc[finals["variant"] == "corrected", "method"]
        assert set(corrected) == set(crossmodal.VARIANT_METHODS)
    elif chapter.startswith("icarl"):
        scores = rec[rec["metric"].isin(["final_acc", "nme_acc"])]
        assert set(scores["method"]) == {"icarl", "icarl_src"}
        assert len(scores) == 2 * 2 * 2 and scores["mean"].between(0, 100).all()  # 2 variants
    elif chapter.startswith("epochs"):  # the smoke grid: 1 and 2 epochs per task
        assert set(zip(rec["metric"], rec["epochs"], strict=True)) == {
            (m, e) for m in ("final_acc", "nme_acc") for e in (1, 2)}
        assert set(rec["method"]) == {"icarl", "icarl_src"}
    elif chapter == "cub200":
        assert set(rec["metric"]) == {"task1_acc", "task2_acc"}
    elif chapter.startswith("task2"):  # smoke: task-2 lengths 1 and 2
        assert set(zip(rec["metric"], rec["task2_epochs"], strict=True)) == {
            (f"task{i}_acc", e) for i in (1, 2) for e in (1, 2)}
        assert set(rec["method"]) == {"sequential", "src"}
    elif chapter.startswith("recipes"):
        finals = rec[rec["metric"] == "final_acc"]
        assert set(finals["recipe"]) == {"code", "paper-text"}
        assert set(finals["method"]) == {"sequential", "src", "parallel"}
    elif chapter.startswith("representations"):
        stats = set(rec["metric"])
        assert {"between_corr", "within_corr", "treves_rolls", "selectivity", "drive_old",
                "probe_acc"} <= stats
        assert rec["n"].eq(2).all()  # the smoke profile's 2 trials, each a pair
    elif chapter == "sleep-search":  # smoke: class-incremental, two single tasks, transfer
        own = rec[rec["protocol"] != "transfer"]
        tests = own[own["metric"].isin(["final_acc", "test_acc"])]
        assert set(zip(tests["protocol"], tests["vector"], strict=True)) == {
            (p, v) for p in ("incremental", "single") for v in ("searched", "original", "none")}
        vals = own[own["metric"] == "val_acc"]
        assert len(vals) == 9 and vals["mean"].between(0, 100).all()  # 3 searches x 3 vectors
        singles = own[own["protocol"] == "single"]
        assert set(zip(singles["epochs"], singles["images"], strict=True)) == {(1, 500),
                                                                                (10, 300)}
        assert set(rec["metric"]) - {"final_acc", "test_acc", "val_acc"} == {
            "r_max", "inc", "dec", "beta_1", "beta_2", "beta_3", "alpha_scale"}  # chosen vectors
        moved = rec[(rec["protocol"] == "transfer") & (rec["metric"] == "final_acc")]
        assert set(zip(moved["dataset"], moved["vector"], moved["searched_on"].fillna(""),
                       strict=True)) == {
            (d, v, o) for d in ("mnist", "fashion")
            for v, o in (("searched", "mnist"), ("searched", "fashion"), ("original", ""),
                         ("none", ""))}
    elif chapter == "owm-recipe":  # smoke: MNIST and cross-modal, recipe and 2 epochs, one sweep
        finals = rec[rec["metric"] == "final_acc"]
        assert set(zip(finals["dataset"], finals["changed"], strict=True)) == {
            ("mnist", "none"), ("mnist", "epochs"), ("mnist", "batch_size"),
            ("crossmodal", "none"), ("crossmodal", "epochs")}
        learned = rec[rec["metric"] == "just_trained_acc"]
        assert len(learned) == 5 and learned["mean"].between(0, 100).all()
    elif chapter == "single":  # smoke: epochs 1, 2 at 5000 images and 10 epochs at 200 images
        assert len(rec) == 3 * 2 * 2 and set(rec["method"]) == {"src"}
    else:
        assert set(rec.loc[rec["metric"] == "final_acc", "method"]) == set(DEFAULT_METHODS)


def test_rerun_reuses_stored_trials_and_numbers(book: Book) -> None:
    """Reuse is the store's and the runner's, not a chapter's: the cheapest chapter shows it."""
    run = book.resolve("patches", "smoke")
    run_chapter(run, book, progress=False)
    units = sorted((book.project / "store" / "units").rglob("*.jsonl"))
    first = _records(book, "patches")
    run_chapter(run, book, progress=False)
    assert sorted((book.project / "store" / "units").rglob("*.jsonl")) == units
    pd.testing.assert_series_equal(first["mean"], _records(book, "patches")["mean"])


def test_a_custom_run_is_recorded_under_its_own_label(book: Book) -> None:
    profile_records = book.project / "store" / "records" / "smoke" / "patches.csv"
    run_chapter(book.resolve("patches", "smoke"), book, progress=False)
    before = profile_records.read_bytes()
    custom = book.resolve("patches", "smoke", {"seed": 1})
    assert custom.label.startswith("custom-") and custom.differences == {"seed": (1, 0)}
    done = run_chapter(custom, book, progress=False)
    assert profile_records.read_bytes() == before  # the profile's numbers are untouched
    assert _records(book, "patches", custom.label)["n"].tolist()
    executed = nbformat.read(done.output, as_version=4)
    text = "".join(str(o.get("data", {}).get("text/markdown", ""))
                   for c in executed.cells for o in c.get("outputs", []))
    assert "Custom run" in text and "seed = 1 (smoke: 0)" in text and custom.label in text


def test_same_config_and_seed_give_the_same_numbers() -> None:
    config = IncrementalConfig(dataset="mnist", trials=1, hidden=(32, 32), per_task_train=200,
                               epochs=1, sleep_scale=0.05, test_subset=500)
    a, b, c = (run_incremental(cfg, store=ResultStore.disabled(), progress=False)
               for cfg in (config, config, config.replace({"seed": 1})))
    timing = "sleep_seconds"  # wall time, the one record that may differ
    a, b, c = (d[d["metric"] != timing].reset_index(drop=True) for d in (a, b, c))
    pd.testing.assert_series_equal(a["value"], b["value"])
    assert not a["value"].equals(c["value"])


def test_a_built_chapter_reads_offline_and_says_how_to_rerun_it(book: Book) -> None:
    """One executed chapter and one page of equations built by ``jupyter-book`` with the book's
    own ``_config.yml``: nothing is fetched from another host (MathJax is served from
    ``_static``), and the chapter shows its command and offers its source and notebook."""
    import subprocess

    from sleeputils.chapters.htmlcheck import check_html, read_page
    from sleeputils.chapters.runner import jupyter_book_command

    output = book.project / "book" / "chapters" / "patches.ipynb"
    if not output.is_file():  # the parametrised run above executes it in a full run
        run_chapter(book.resolve("patches", "smoke"), book, progress=False)
    for name in ("_config.yml", "book/references.bib", "book/bibliography.md"):
        shutil.copy(ROOT / name, book.project / name)
    (book.project / "book" / "maths.md").write_text(
        "# Maths\n\nInline $v_i(t)$ and displayed:\n\n$$\\sum_j W_{ij} s_j$$\n")
    toc = book.project / "_toc.yml"
    original = toc.read_text()
    toc.write_text("format: jb-book\nroot: book/maths\nchapters:\n"
                   "  - file: book/chapters/patches\n  - file: book/bibliography\n")
    try:
        done = subprocess.run([*jupyter_book_command(), "build", "--quiet", str(book.project)],
                              capture_output=True, text=True, check=False)
    finally:
        toc.write_text(original)
    assert done.returncode == 0, done.stderr[-2000:]
    html = book.project / "_build" / "html"
    assert check_html(html, ["patches"]) == []
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert "_static/mathjax/tex-chtml.js" in (html / "book" / "maths.html").read_text()
    page = (html / "book" / "chapters" / "patches.html").read_text()
    assert ".venv/bin/sleepbook run patches --profile smoke" in read_page(
        html / "book" / "chapters" / "patches.html")[1]
    downloads = [html / "book" / "chapters" / href for href in
                 re.findall(r'href="([^"]*_downloads/[^"]+)"', page)]
    assert {p.name for p in downloads} == {"patches.md", "patches.ipynb"}
    assert all(p.is_file() for p in downloads)
