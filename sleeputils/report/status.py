"""The reproducibility-status page: every paper number beside ours.

``notebooks/status.md`` is a thin wrapper around these functions. For each number of the
paper it shows the paper's value, our mean ± std (n) under the current profile, our committed
``paper``-profile number if there is one, the reference tolerance, and whether ours falls
within the paper's spread (|ours − paper| ≤ 2 · paper std, or ≤ 1 point where the paper gives
no spread). Numbers no chapter produces yet are
listed as "not covered". A second table lists how each chapter notebook last executed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..results import provenance, setting
from ..results.paper import (
    BRACKETED,
    NOT_COVERED,
    PAPER_MISSES,
    SHORT,
    WITHIN,
    WITHIN_BAND,
    load_paper_values,
    locate,
    paper_spread,
    pm_column,
    signed_points,
)
from ..results.record import KEY, PAPER_PROFILE, keyed, load_records
from ..results.reference import load_reference
from ..results.runlog import load_run_log
from ..results.store import ResultStore, default_root
from . import scoreboard
from .names import METHODS

#: What identifies one number within a chapter: where it was measured is part of it.
NUMBER = KEY


def joined(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> pd.DataFrame:
    """One row per paper number (then our numbers the paper has no value for), as numbers:
    the paper's (``paper``, ``paper_std``), ``profile``'s (``ours_*``), the committed paper
    profile's (``p_*``) and the reference tolerance (``tol``), keyed by chapter and :data:`NUMBER`.
    """
    store = store or ResultStore(default_root(project))
    key = ["chapter_id", *NUMBER]
    paper = keyed(load_paper_values()).rename(columns={"value": "paper", "std": "paper_std"})
    paper["_order"] = range(len(paper))  # keep the paper's row order
    ours_records = load_records(profile, project=project, store=store)
    paper_records = load_records(PAPER_PROFILE, project=project, store=store)
    ours, committed = _ours(ours_records, "ours"), _ours(paper_records, "p")
    reference = load_reference(profile, project)
    if reference is None:
        reference = pd.DataFrame(columns=["chapter_id", *NUMBER, "tol"])
    table = paper.merge(ours, on=key, how="outer")
    table = table.merge(committed, on=key, how="left")
    table = table.merge(keyed(reference)[[*key, "tol"]], on=key, how="left")
    table = table.sort_values(["_order", *key], ignore_index=True)
    table["label"] = [f"{METHODS.get(m, m)}, {c}" for m, c in
                      zip(table["method"], table["chapter_id"], strict=True)]
    table["unstated"] = table["unstated"].fillna("")
    table["ours_located"] = _located(table, ours_records)
    table["p_located"] = _located(table, paper_records)
    return table


def _located(table: pd.DataFrame, records: pd.DataFrame) -> list[str]:
    """For each paper number whose setting the paper does not state: where its value falls on
    our sweep of that setting ("between 1 % (50.20) and 2.5 % (57.10) replayed"); "" for the
    others and where we have no sweep."""
    records = keyed(records)
    out = []
    for row in table.itertuples(index=False):
        name = row.unstated
        if not name:
            out.append("")
            continue
        stated = setting.decode(row.setting).items()  # what the paper does say must match
        agree = [stated <= setting.decode(s).items() for s in records["setting"]]
        ours = records[(records["chapter_id"] == row.chapter_id)
                       & (records["method"] == row.method) & (records["metric"] == row.metric)
                       & pd.Series(agree, index=records.index, dtype=bool)]
        values = [setting.decode(s).get(name) for s in ours["setting"]]
        curve = pd.Series(ours["mean"].to_numpy(), index=values, dtype=float)
        curve = curve[[v is not None for v in values]]
        out.append(_where(curve, row.paper, name) if len(curve) else "")
    return out


def _where(curve: pd.Series, value: float, name: str) -> str:
    """``value``'s place on ``curve`` in words."""
    def at(x: float) -> str:
        shown = f"{100 * x:g} %" if name == "fraction" else f"{name} {x:g}"
        return f"{shown} ({curve[x]:.2f})"
    try:
        low, high = locate(curve, value)
    except ValueError:
        return "crosses it more than once on our sweep"
    if high is None:
        return f"below it at every {name} run (best {at(low)})"
    if low is None:
        return f"above it at every {name} run (lowest {at(high)})"
    return f"between {at(low)} and {at(high)}"


def status_table(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> pd.DataFrame:
    """One row per paper number (then our numbers the paper has no value for).

    Columns: chapter, dataset, method, setting, metric, paper, ours, ours (paper profile),
    tolerance, Δ paper, vs paper, why, source, note (strings, formatted for people). ``ours`` is
    for ``profile``; the paper-profile column shows the committed records in ``results/paper``
    (empty if none). ``why`` says, for a miss or a number not computed, what was measured (from
    ``reasons.yaml``), with a link to the book section that shows it.
    """
    table = joined(profile, project=project, store=store)
    verdict = [BRACKETED if where else paper_spread(m, v, s) for m, v, s, where in
               table[["ours_mean", "paper", "paper_std", "ours_located"]].itertuples(
                   index=False, name=None)]
    # a reason explains the full protocol's verdict where it is committed
    full = scoreboard.verdicts(table)
    full = [mine if f == NOT_COVERED else f for f, mine in zip(full, verdict, strict=True)]
    ours = pm_column(table, "ours_mean", "ours_std", "ours_n", NOT_COVERED)
    committed = pm_column(table, "p_mean", "p_std", "p_n")
    return pd.DataFrame(
        {
            "chapter": table["chapter_id"],
            "dataset": table["dataset"],
            "method": table["method"].map(METHODS).fillna(table["method"]),
            "setting": table["setting"].map(setting.describe),
            "metric": table["metric"],
            "paper": pm_column(table, "paper", "paper_std"),
            f"ours ({profile})": [w or o for w, o in zip(table["ours_located"], ours,
                                                         strict=True)],
            "ours (paper profile)": [w or o for w, o in zip(table["p_located"], committed,
                                                            strict=True)],
            "tolerance": [f"± {t:.2f}" if pd.notna(t) else "—" for t in table["tol"]],
            "Δ paper": signed_points(table["ours_mean"] - table["paper"]),
            "vs paper": [SHORT[v] for v in verdict],
            "why": [CHEAPER if mine in PAPER_MISSES and f in (WITHIN, WITHIN_BAND)
                    else _why_cell(c, d, m, f, project) for c, d, m, f, mine in
                    zip(table["chapter_id"], table["dataset"], table["method"], full, verdict,
                        strict=True)],
            "source": table["source"].fillna("book only"),
            "note": table["note"].fillna(""),
        }
    )


#: Why a miss of this build's profile needs no reason: the committed full protocol is within.
CHEAPER = ("this profile's cheaper setting misses; the full protocol (ours, paper profile) is "
           "within the paper's spread")


def _why_cell(chapter: str, dataset: str, method: str, verdict: str,
              project: Path | None) -> str:
    """The reason of a miss or a gap, with a link to its evidence (HTML, for the status table)."""
    text, label = scoreboard.why(chapter, dataset, method, verdict)
    page = scoreboard.label_page(label, project or provenance.project_root() or Path(".")) \
        if label else None
    return text + (f' (<a href="../methods/{page}.html#{label}">evidence</a>)' if page else "")


def _ours(records: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Recorded numbers keyed like the paper's (chapter id, dataset, method, setting, metric)."""
    out = keyed(records).reindex(columns=["chapter_id", *NUMBER, "mean", "std", "n"]).copy()
    return out.rename(columns={c: f"{prefix}_{c}" for c in ("mean", "std", "n")})


def coverage(table: pd.DataFrame) -> tuple[int, int]:
    """(paper numbers we produce, paper numbers) for a :func:`status_table`."""
    paper_rows = table[table["source"] != "book only"]
    ours = next(c for c in table.columns if c.startswith("ours (") and c != "ours (paper profile)")
    return int((paper_rows[ours] != NOT_COVERED).sum()), len(paper_rows)


def summary_markdown(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> str:
    """Markdown for the title page: how many paper numbers are covered, and the covered ones."""
    table = status_table(profile, project=project, store=store)
    covered, total = coverage(table)
    ours = f"ours ({profile})"
    with_paper = (table[ours] != NOT_COVERED) & (table["source"] != "book only")
    columns = ["dataset", "method", "setting", "metric", "paper", ours, "Δ paper", "vs paper"]
    if table.loc[with_paper, "metric"].nunique() <= 1:
        columns.remove("metric")  # every covered number is the same kind: say it once

    committed = "ours (paper profile)"
    if profile != "paper" and table[committed].astype(str).str.strip().ne("").any():
        columns.insert(columns.index(ours) + 1, committed)  # the full protocol, beside ours
    shown = table[with_paper][columns]
    own = int((table["source"] == "book only").sum())
    commit = provenance.git_commit()
    short = commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")
    lines = [
        f"*Generated {provenance.utc_now()} from profile `{profile}` at commit `{short}`.* "
        f"The book computes {covered} of the paper's {total} headline numbers so far (the table "
        "says which agree; accuracies in %); the [status page](chapters/status) lists all "
        "of them.",
        "",
    ]
    if shown.empty:
        lines.append("None of the paper's numbers has been computed yet: run `sleepbook build`.")
    else:
        lines.append("| " + " | ".join(shown.columns) + " |")
        lines.append("|" + "---|" * len(shown.columns))
        for row in shown.itertuples(index=False, name=None):
            lines.append("| " + " | ".join(str(v) for v in row) + " |")
    if own:
        lines += ["", f"The chapters also record {own} numbers the paper gives no value for."]
    return "\n".join(lines) + "\n"


def runs_table(profile: str, *, store: ResultStore | None = None) -> pd.DataFrame:
    """How each chapter notebook last executed under ``profile`` (time, success, error)."""
    log = load_run_log(profile, store)
    if log.empty:
        return log
    columns = ["chapter_id", "ok", "seconds", "started", "error"]
    log = log.reindex(columns=columns).fillna({"error": ""})
    log["ok"] = log["ok"].map({True: "✓", False: "✗ failed"})
    return log.rename(columns={"chapter_id": "chapter", "seconds": "seconds (wall)"})
