"""The sleep-vector search chapter: the searched vector against the original's and no sleep on
the test set, where the original's vector sits among the searched ones, what the search costs
per sampler, the single task re-asked with searched vectors, and which fields matter.

Functions on the headline rows (``val_acc`` and the test numbers, with ``protocol``, ``epochs``,
``images`` and ``vector`` as columns) work on a fresh run and on the committed one alike; the search
history (``stage == "search"``) exists in a fresh run only."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..protocols.single import BASE_EPOCHS
from ..protocols.sleep_search import SPACE, TRANSFER, space
from ..results.paper import fmt_pm
from . import stats
from .names import BENCHMARKS, SAMPLERS, VECTORS, search_name, sleep_field
from .tables import for_people

#: The test-set numbers of the two protocols.
TEST_METRICS = ("final_acc", "test_acc")
#: Points the best validation score may still rise in a search's last generation for the
#: search to count as flattened.
FLAT = 0.5
#: What a paired test of a against b says, in words.
COMPARED = {stats.HIGHER: "higher", stats.LOWER: "lower", stats.UNCLEAR: "no clear difference",
            stats.TOO_FEW: "not tested", stats.NO_SPREAD: "not tested"}
#: What one sleep does against no sleep, by the paired test's verdict.
EFFECT = {stats.HIGHER: "helps", stats.LOWER: "hurts", stats.UNCLEAR: "has no clear effect",
          stats.TOO_FEW: "is not tested", stats.NO_SPREAD: "is not tested"}


#: A search: (protocol, epochs, training images); the class-incremental one has neither.
SearchKey = tuple[str, int | None, int | None]


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series(np.nan, rows.index)


def _searches(df: pd.DataFrame) -> list[SearchKey]:
    """(protocol, epochs, images) of every search in the rows: class-incremental first, then
    the single task's by epochs and images."""
    rows = df[(df["metric"] == "val_acc") & (df["protocol"] != TRANSFER)]
    found = {(p, None if pd.isna(e) else int(e), None if pd.isna(n) else int(n))
             for p, e, n in zip(rows["protocol"], _column(rows, "epochs"),
                                _column(rows, "images"), strict=True)}
    return sorted(found, key=lambda s: (s[0] != "incremental", s[1] or 0, s[2] or 0))


def _of(df: pd.DataFrame, search: SearchKey) -> pd.DataFrame:
    protocol, epochs, images = search
    rows = df[df["protocol"] == protocol]
    for name, value in (("epochs", epochs), ("images", images)):
        column = _column(rows, name)
        rows = rows[column.isna() if value is None else column == value]
    return rows


def _validation(df: pd.DataFrame, search: tuple, vector: str) -> float:
    """The validation score of ``vector`` (searched, original, none) for ``search``."""
    rows = _of(df, search)
    rows = rows[(rows["metric"] == "val_acc") & (rows["vector"] == vector)]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def test_scores(df: pd.DataFrame, search: tuple) -> pd.DataFrame:
    """Test-set accuracy per trial (rows) and vector (columns) of ``search``."""
    rows = _of(df, search)
    rows = rows[rows["metric"].isin(TEST_METRICS) & rows["vector"].isin(VECTORS)]
    table = rows.pivot_table(index="trial", columns="vector", values="value")
    return table.reindex(columns=list(VECTORS))


def _comparisons(df: pd.DataFrame) -> list[tuple[tuple, str, str, stats.Paired]]:
    """Searched against the original's vector and against no sleep, per search (one family)."""
    pairs = []
    for search in _searches(df):
        t = test_scores(df, search)
        for a, b in (("searched", "original"), ("searched", "none"), ("original", "none")):
            pairs.append((search, a, b, stats.paired(t[a], t[b])))
    tested = stats.family([p for *_, p in pairs])
    return [(*p[:3], r) for p, r in zip(pairs, tested, strict=True)]


def verdict(df: pd.DataFrame) -> str:
    """Markdown: per search, the searched vector against the original's and against no sleep
    on the test set (paired over fresh trial seeds; Holm over every comparison listed)."""
    lines = []
    found = {(s, a, b): r for s, a, b, r in _comparisons(df)}
    for search in _searches(df):
        t = test_scores(df, search)
        means = {v: fmt_pm(t[v].mean(), t[v].std()) for v in VECTORS}
        parts = []
        for a, b in (("searched", "original"), ("searched", "none")):
            r = found[(search, a, b)]
            why = stats.p_text(r) if r.tested else stats.why_untested(r)
            parts.append(f"searched against {VECTORS[b]}: **{COMPARED[r.verdict]}** "
                         f"({r.difference:+.2f} points, n = {r.n}, {why})")
        lines.append(f"- **{search_name(*search)}**: test accuracy {means['searched']} with the "
                     f"searched vector, {means['original']} with the original's, {means['none']} "
                     f"without sleep. {parts[0][0].upper()}{parts[0][1:]}; {parts[1]}.")
    return "\n".join(lines) if lines else "No test-set trials in these numbers."


def test_table(df: pd.DataFrame) -> Styler:
    """Per search and vector: validation score (one seed), test accuracy over trials and the
    paired differences to the original's vector and to no sleep (each test's own p)."""
    found = {(s, a, b): r for s, a, b, r in _comparisons(df)}
    out = []
    for search in _searches(df):
        t = test_scores(df, search)
        for v in VECTORS:
            row = {"search": search_name(*search), "vector": VECTORS[v],
                   "validation (%)": _validation(df, search, v),
                   "test (%)": fmt_pm(t[v].mean(), t[v].std()), "n": int(t[v].count())}
            for b in ("original", "none"):
                r = found.get((search, v, b))
                row[f"vs {VECTORS[b]}"] = stats.short(r, 2) if r else ""
            out.append(row)
    table = pd.DataFrame(out)
    if table["search"].nunique() == 1:  # one search: its name is in the verdict above
        table = table.drop(columns="search")
    return for_people(table, compact=True)


def history(df: pd.DataFrame) -> pd.DataFrame:
    """Every evaluation of every search run, with its run's best-so-far score."""
    rows = df[df["stage"] == "search"] if "stage" in df else df.iloc[:0]
    if "images" not in rows:
        rows = rows.assign(images=np.nan)
    run = ["protocol", "epochs", "images", "sampler", "search_seed"]
    rows = rows.sort_values([*run, "evaluation"], na_position="first", kind="stable")
    best = rows.groupby(run, dropna=False, sort=False)["value"].cummax()
    return rows.assign(best=best)


def original_ranks(df: pd.DataFrame) -> pd.DataFrame:
    """Per search: the original's and no sleep's validation scores beside the best, and the
    original's rank among every evaluated vector (1 = best; ties share the better rank)."""
    h = history(df)
    out = []
    for search in _searches(h):
        scores = _of(h, search)["value"]
        original = _validation(df, search, "original")
        better = int((scores > original).sum())
        silenced = _of(h, search).get("silenced", pd.Series(dtype=bool)).fillna(False)
        out.append({"search": search_name(*search), "evaluated": len(scores),
                    "silenced a layer": int(silenced.astype(bool).sum()),
                    "best searched (%)": scores.max(), "original's (%)": original,
                    "no sleep (%)": _validation(df, search, "none"),
                    "original's rank": f"{better + 1} of {len(scores) + 1}",
                    "searched vectors above it": f"{100 * better / len(scores):.0f} %",
                    "_better": better, "_search": search})
    return pd.DataFrame(out)


def original_table(df: pd.DataFrame) -> Styler:
    ranks = original_ranks(df)
    return for_people(ranks.drop(columns=[c for c in ranks if c.startswith("_")]), compact=True)


def original_verdict(df: pd.DataFrame) -> str:
    """Markdown: is the original's vector near the validation optimum? Its rank among the
    evaluated vectors, then the test set's word (paired, fresh seeds): the searched vector
    beating it there puts it away from the optimum."""
    found = {(s, a, b): r for s, a, b, r in _comparisons(df)}
    lines = []
    for _, row in original_ranks(df).iterrows():
        search = row["_search"]
        r = found[(search, "searched", "original")]
        lead = row["best searched (%)"] - row["original's (%)"]
        if row["_better"] == 0:
            word, why = "not beaten by the search", (f"none of the {row['evaluated']} searched "
                                                     "vectors scores higher on validation")
        elif r.verdict == stats.HIGHER:
            word, why = "away from the optimum", "the searched vector also beats it on the test set"
        elif r.verdict == stats.LOWER:
            word, why = "better than the searched vector on the test set", (
                "the search's lead on its one validation seed does not carry over")
        elif r.verdict == stats.UNCLEAR:
            word, why = "near the optimum", (f"the searched vector's lead of {lead:.2f} points "
                                             "on validation does not show on the test set")
        else:
            word, why = "not judged", "too few test trials to compare on fresh seeds"
        original, rank = row["original's (%)"], row["original's rank"]
        lines.append(f"- **{search_name(*search)}**: the original's vector scores "
                     f"{original:.2f} on validation against the best searched "
                     f"{row['best searched (%)']:.2f} (rank {rank}); it is **{word}**: {why}.")
    return "\n".join(lines) if lines else "No search history in these numbers."


def scores_figure(df: pd.DataFrame) -> plt.Figure | None:
    """Per search, the validation scores of every evaluated vector, with the original's vector,
    no sleep and the best marked."""
    h = history(df)
    found = _searches(h)
    if not found:
        return None
    cols = min(3, len(found))
    rows = math.ceil(len(found) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(found):]:
        ax.remove()
    for ax, search in zip(axes.flat, found, strict=False):
        scores = _of(h, search)["value"]
        ax.hist(scores, bins=min(30, max(5, len(scores) // 3)), color="#9ecae1")
        for vector, style in (("original", dict(color="C3", lw=2)),
                              ("none", dict(color="black", ls="--", lw=1.2))):
            ax.axvline(_validation(df, search, vector), label=VECTORS[vector], **style)
        ax.axvline(scores.max(), color="C2", lw=2, label="best searched")
        ax.set_title(search_name(*search), fontsize=10)
        ax.set_xlabel("validation accuracy (%)")
    for ax in axes[:, 0]:
        ax.set_ylabel("evaluated vectors")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def progress_figure(df: pd.DataFrame) -> plt.Figure | None:
    """Best validation score so far against evaluations: per sampler on the class-incremental
    search (mean over search seeds, band from lowest to highest), per setting on the single
    task; the original's vector dotted."""
    h = history(df)
    if h.empty:
        return None
    singles = h[h["protocol"] == "single"]
    panels = 1 + (not singles.empty)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.6), squeeze=False)
    inc = h[h["protocol"] == "incremental"]
    ax = axes[0][0]
    for i, (sampler, g) in enumerate(inc.groupby("sampler", sort=False)):
        curve = g.groupby("evaluation")["best"].agg(["mean", "min", "max"])
        ax.plot(curve.index, curve["mean"], color=f"C{i}", label=SAMPLERS[sampler])
        ax.fill_between(curve.index, curve["min"], curve["max"], color=f"C{i}", alpha=0.15)
    ax.axhline(_validation(df, ("incremental", None, None), "original"), color="C3", ls=":",
               label=VECTORS["original"])
    ax.set_title(search_name("incremental"), fontsize=10)
    for i, ((epochs, images), g) in enumerate(singles.groupby(["epochs", "images"])):
        axes[0][1].plot(g["evaluation"], g["best"], color=f"C{i}",
                        label=search_name("single", epochs, images).split(", ", 1)[1])
        axes[0][1].set_title(f"{search_name('single')} ({SAMPLERS[g['sampler'].iloc[0]]})",
                             fontsize=10)
    for a in axes[0]:
        a.set_xlabel("evaluations")
        a.set_ylabel("best validation accuracy so far (%)")
        a.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _sampler_runs(df: pd.DataFrame) -> pd.DataFrame:
    """Per class-incremental search run: its best after the first generation, before its last
    and at the end."""
    h = history(df)
    h = h[h["protocol"] == "incremental"]
    runs = []
    for (sampler, seed), g in h.groupby(["sampler", "search_seed"], sort=False):
        last = g["generation"].max()
        runs.append({"sampler": sampler, "seed": seed, "evaluations": len(g),
                     "first": g.loc[g["generation"] == 1, "value"].max(),
                     "before_last": g.loc[g["generation"] < last, "value"].max(),
                     "end": g["value"].max()})
    return pd.DataFrame(runs)


def progress_table(df: pd.DataFrame) -> Styler:
    """Per sampler: evaluations per search, the best after the first generation and at the end,
    and what the last generation added (mean ± std over search seeds)."""
    runs = _sampler_runs(df)
    out = []
    for sampler, g in runs.groupby("sampler", sort=False):
        added = g["end"] - g["before_last"]
        out.append({"sampler": SAMPLERS[sampler], "searches": len(g),
                    "evaluations each": int(g["evaluations"].iloc[0]),
                    "best after generation 1 (%)": fmt_pm(g["first"].mean(), g["first"].std()),
                    "best at the end (%)": fmt_pm(g["end"].mean(), g["end"].std()),
                    "last generation added (points)": fmt_pm(added.mean(), added.std())})
    return for_people(pd.DataFrame(out), compact=True)


def progress_verdict(df: pd.DataFrame) -> str:
    """Markdown: which sampler ends highest, whether it stands apart from random search (95 %
    intervals of the search seeds' best scores do not overlap), and whether the best score has
    flattened (the last generation added less than ``FLAT`` points on average)."""
    runs = _sampler_runs(df)
    if runs.empty:
        return "No search history in these numbers."
    ends = runs.groupby("sampler", sort=False)["end"]
    top = ends.mean().idxmax()
    n = int(runs.groupby("sampler").size().min())
    text = (f"After {int(runs['evaluations'].iloc[0])} evaluations per search, "
            f"**{SAMPLERS[top]}** ends highest ({fmt_pm(ends.mean()[top], ends.std()[top])} on "
            f"validation, {n} search{'es' * (n != 1)} per sampler).")
    if top != "random" and "random" in ends.groups:
        if n < 2:
            text += " With one search per sampler, no sampler is compared with random search."
        else:
            (lo, _), (_, hi) = (stats.mean_ci(runs.loc[runs["sampler"] == s, "end"])
                                for s in (top, "random"))
            apart = lo > hi
            text += (f" Against random search ({fmt_pm(ends.mean()['random'])}) it is "
                     f"**{'ahead' if apart else 'not distinguishable'}** (95 % intervals of the "
                     f"searches' best scores {'do not overlap' if apart else 'overlap'}).")
    added = (runs["end"] - runs["before_last"]).mean()
    word = "has flattened" if added < FLAT else "is still rising"
    text += (f" The last generation added {added:.2f} points to a search's best on average: the "
             f"best score **{word}** (threshold {FLAT} points).")
    return text


def single_table(df: pd.DataFrame) -> Styler | None:
    """Per single-task setting: test accuracy without sleep and after one sleep with the
    original's and the searched vector, and each sleep's paired gain (its own p)."""
    out = []
    for search in [s for s in _searches(df) if s[0] == "single"]:
        t = test_scores(df, search)
        row = {"epochs": search[1], "images": search[2],
               "no sleep (%)": fmt_pm(t["none"].mean(), t["none"].std())}
        for v in ("original", "searched"):
            row[f"after sleep, {VECTORS[v]} (%)"] = fmt_pm(t[v].mean(), t[v].std())
            row[f"gain, {VECTORS[v]}"] = stats.short(stats.paired(t[v], t["none"]), 2)
        row["n"] = int(t["none"].count())
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True) if out else None


def single_figure(df: pd.DataFrame, epochs_sweep_images: int) -> plt.Figure | None:
    """Test accuracy of the single task without sleep and after one sleep with the original's
    and the searched vector: against epochs (the epochs sweep, on ``epochs_sweep_images``
    images) and against training images (the images sweep at 10 epochs), a point per mean with
    its 95 % interval; a setting in both sweeps is in both panels."""
    found = [s for s in _searches(df) if s[0] == "single"]
    if not found:
        return None
    sweeps = {"epochs": [s for s in found if s[2] == epochs_sweep_images],
              "images": [s for s in found if s[1] == BASE_EPOCHS]}
    sweeps = {k: v for k, v in sweeps.items() if v}
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 3.6), squeeze=False)
    for ax, (what, searches) in zip(axes[0], sweeps.items(), strict=True):
        long = pd.concat([test_scores(df, s).melt(value_name="test accuracy (%)").assign(
            **{what: s[1] if what == "epochs" else s[2]}) for s in searches])
        long["vector"] = long["vector"].map(VECTORS)
        sns.pointplot(long, x=what, y="test accuracy (%)", hue="vector", ax=ax,
                      errorbar=("ci", 95), dodge=0.3, palette=["black", "C3", "C2"],
                      hue_order=[VECTORS[v] for v in ("none", "original", "searched")])
        fixed = (f"on {searches[0][2]} images" if what == "epochs"
                 else f"at {searches[0][1]} epochs")
        ax.set_title(f"{what} swept, {fixed}", fontsize=10)
        ax.legend(fontsize=8, title=None)
    fig.tight_layout()
    return fig


def _training(search: SearchKey) -> str:
    """``1 epoch on 5000 images``."""
    _, epochs, images = search
    return f"{epochs} epoch{'s' * (epochs != 1)} on {images} images"


def single_verdict(df: pd.DataFrame) -> str:
    """Markdown: per setting, whether one sleep with the vector searched for it helps on the
    test set (Holm over the settings), and whether the sleep then helps the least-trained nets:
    the fewest epochs searched and the fewest images searched."""
    found = [s for s in _searches(df) if s[0] == "single"]
    if not found:
        return ("No single-task search in this run (parameters `single_epochs` and "
                "`single_image_counts`; the `paper` profile searches 1, 2, 5 and 10 epochs on "
                "5000 images and 1000 to 20000 images at 10 epochs).")
    tests = dict(zip(found, stats.family([
        stats.paired(test_scores(df, s)["searched"], test_scores(df, s)["none"])
        for s in found]), strict=True))
    lines = []
    for search, r in tests.items():
        why = stats.p_text(r) if r.tested else stats.why_untested(r)
        lines.append(f"- {_training(search)}: one sleep with the searched vector "
                     f"**{EFFECT[r.verdict]}** ({fmt_pm(r.difference, r.sd)} points, n = {r.n}, "
                     f"{why}).")
    fewest = {"epochs": min(found, key=lambda s: (s[1], s[2])),
              "images": min(found, key=lambda s: (s[2], s[1]))}
    for search in dict.fromkeys(fewest.values()):
        effect = EFFECT[tests[search].verdict]
        word = ("cannot be judged" if effect == "is not tested" else
                "holds" if effect == "helps" else "does not hold")
        what = " and ".join(w for w, s in fewest.items() if s == search)
        lines.append(f"\nWith a vector searched for its setting, \"one sleep helps an "
                     f"under-trained network\" **{word}** at {_training(search)}, the fewest "
                     f"{what} searched.")
    return "\n".join(lines)


def importances(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per search, each searched field's share of the validation score's variance (fANOVA over
    every evaluation of the search, pooled over samplers and seeds; seeded)."""
    h = history(df)
    out = {}
    for search in _searches(h):
        rows = _of(h, search)
        names = [c for c in rows.columns if c in _fields(rows)]
        ranges = space(sum(n.startswith("beta_") for n in names))
        dists = {n: optuna.distributions.FloatDistribution(*ranges[n], log=True) for n in names}
        if rows["value"].nunique() < 2:
            continue
        study = optuna.create_study(direction="maximize")
        study.add_trials([optuna.trial.create_trial(
            params={n: float(r[n]) for n in names}, distributions=dists, value=float(r["value"]))
            for _, r in rows.iterrows()])
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        out[search_name(*search)] = optuna.importance.get_param_importances(study,
                                                                            evaluator=evaluator)
    table = pd.DataFrame(out)
    if table.empty:
        return table
    order = [n for n in ("r_max", "inc", "dec") if n in table.index]  # the vector's order
    order += sorted((n for n in table.index if n.startswith("beta_")),
                    key=lambda n: int(n.removeprefix("beta_")))
    order += [n for n in table.index if n not in order]
    return table.reindex(order).rename(index=sleep_field)


def _fields(rows: pd.DataFrame) -> list[str]:
    """The searched fields present as columns, in the vector's order."""
    betas = sorted((c for c in rows.columns if c.startswith("beta_") and rows[c].notna().any()),
                   key=lambda c: int(c.removeprefix("beta_")))
    return ["r_max", "inc", "dec", *betas, "alpha_scale"]


def importance_table(df: pd.DataFrame) -> Styler | None:
    table = importances(df)
    if table.empty:
        return None
    shown = (100 * table).T.reset_index(names="search")  # a row per search
    return for_people(shown, digits=0, compact=True)


def importance_verdict(df: pd.DataFrame) -> str:
    """Markdown: per search, the two fields that explain most of the validation score's
    variance."""
    table = importances(df)
    h = history(df)
    lines = []
    for search in _searches(h):
        name = search_name(*search)
        if name not in table.columns:
            continue
        top = table[name].sort_values(ascending=False)
        lines.append(f"- **{name}**: {top.index[0]} explains most ({100 * top.iloc[0]:.0f} % "
                     f"of the variance fANOVA attributes), then {top.index[1]} "
                     f"({100 * top.iloc[1]:.0f} %), over {len(_of(h, search))} evaluated "
                     "vectors.")
    return "\n".join(lines) if lines else "No search history in these numbers."


def space_table(df: pd.DataFrame) -> Styler:
    """The searched range of every field (log-uniform), then per search the original's values
    and the chosen ones: a row each, a column per field."""
    rows = df[(df["metric"] == "val_acc") & df["vector"].isin(["original", "searched"])]
    fields = _fields(rows)
    ranges = {n: SPACE["beta" if n.startswith("beta_") else n] for n in fields}
    out = [{"search": "searched range", "vector": "from",
            **{sleep_field(n): f"{low:g}" for n, (low, _) in ranges.items()}},
           {"search": "", "vector": "to",
            **{sleep_field(n): f"{high:g}" for n, (_, high) in ranges.items()}}]
    for search in _searches(df):
        for v in ("original", "searched"):
            picked = _of(rows, search)
            picked = picked[picked["vector"] == v]
            out.append({"search": search_name(*search), "vector": v,
                        **{sleep_field(n): f"{picked[n].iloc[0]:.4g}" if len(picked) else "—"
                           for n in fields}})
    return for_people(pd.DataFrame(out), compact=True)


def transfer_scores(df: pd.DataFrame) -> pd.DataFrame:
    """The transfer study's test trials: one row per (data set tested on, trial), one column
    per vector (``searched on mnist``, ``searched on fashion``, ``original``, ``none``)."""
    rows = df[(df["protocol"] == TRANSFER) & df["metric"].isin(TEST_METRICS)]
    if rows.empty:
        return pd.DataFrame()
    on = rows["searched_on"] if "searched_on" in rows else pd.Series(None, rows.index)
    vector = [f"searched on {o}" if v == "searched" else v
              for v, o in zip(rows["vector"], on, strict=True)]
    return rows.assign(vector=vector).pivot_table(index=["dataset", "trial"], columns="vector",
                                                  values="value")


def _transfer_tests(t: pd.DataFrame) -> list[tuple[str, str, stats.Paired, stats.Paired]]:
    """Per data set tested on: (it, the other data set, own against transferred, transferred
    against no sleep), each family Holm-corrected over the data sets."""
    found = sorted(dict.fromkeys(t.index.get_level_values(0)),
                   key=lambda d: list(BENCHMARKS).index(d) if d in BENCHMARKS else len(BENCHMARKS))
    pairs = []
    for d in found:
        other = next(o for o in found if o != d)
        s = t.loc[d]
        pairs.append((d, other, stats.paired(s[f"searched on {d}"], s[f"searched on {other}"]),
                      stats.paired(s[f"searched on {other}"], s["none"])))
    own = stats.family([p[2] for p in pairs])
    helps = stats.family([p[3] for p in pairs])
    return [(d, o, a, b) for (d, o, _, _), a, b in zip(pairs, own, helps, strict=True)]


def transfer_table(df: pd.DataFrame) -> Styler | str:
    """Per data set tested on: test accuracy with each data set's searched vector, the
    original's and no sleep, and the paired differences own - transferred and transferred -
    no sleep."""
    t = transfer_scores(df)
    if t.empty:
        return NO_TRANSFER
    out = []
    for d, other, own, helps in _transfer_tests(t):
        s = t.loc[d]
        row = {"tested on": BENCHMARKS.get(d, d)}
        for column, name in ((f"searched on {d}", "own search"),
                             (f"searched on {other}", "other data set's search"),
                             ("original", VECTORS["original"]), ("none", VECTORS["none"])):
            row[f"{name} (%)"] = fmt_pm(s[column].mean(), s[column].std())
        row["own - transferred"] = stats.short(own, 2)
        row["transferred - no sleep"] = stats.short(helps, 2)
        row["n"] = int(s["none"].count())
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True)


def transfer_verdict(df: pd.DataFrame) -> str:
    """Markdown: per data set, whether the other data set's searched vector does as well as its
    own search's, and whether it still beats no sleep (paired; Holm over the data sets)."""
    t = transfer_scores(df)
    if t.empty:
        return NO_TRANSFER
    lines = []
    for d, other, own, helps in _transfer_tests(t):
        why = stats.p_text(own) if own.tested else stats.why_untested(own)
        why_helps = stats.p_text(helps) if helps.tested else stats.why_untested(helps)
        lines.append(f"- On {BENCHMARKS.get(d, d)}, its own search's vector against "
                     f"{BENCHMARKS.get(other, other)}'s: **{COMPARED[own.verdict]}** "
                     f"({own.difference:+.2f} points, n = {own.n}, {why}); "
                     f"{BENCHMARKS.get(other, other)}'s vector against no sleep: "
                     f"**{COMPARED[helps.verdict]}** ({helps.difference:+.2f} points, "
                     f"{why_helps}).")
    return "\n".join(lines)


def transfer_figure(df: pd.DataFrame) -> plt.Figure | None:
    """Test accuracy per trial on each data set with each vector: own search, the other data
    set's search, the original's, no sleep."""
    t = transfer_scores(df)
    if t.empty:
        return None
    long = t.reset_index().melt(id_vars=["dataset", "trial"], var_name="vector",
                                value_name="accuracy")
    long["tested on"] = long["dataset"].map(lambda d: BENCHMARKS.get(d, d))
    long["vector"] = [("own search" if v == f"searched on {d}" else
                       f"{BENCHMARKS.get(v.removeprefix('searched on '), v)}'s search"
                       if v.startswith("searched on ") else VECTORS[v])
                      for v, d in zip(long["vector"], long["dataset"], strict=True)]
    order = ["own search", *sorted({v for v in long["vector"] if v.endswith("'s search")}),
             VECTORS["original"], VECTORS["none"]]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.stripplot(long, x="tested on", y="accuracy", hue="vector", hue_order=order, dodge=True,
                  ax=ax, size=6, jitter=0.1)
    ax.set(xlabel="", ylabel="final accuracy on the test set (%)")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


NO_TRANSFER = ("No transfer study in this run (parameter `transfer`; the `paper` profile searches "
               "Fashion-MNIST too and scores each data set's vector on both).")
