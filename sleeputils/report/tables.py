"""Shared formatting of the chapters' tables: tables for people, headline rows and the
committed trials as rows a report reads."""

from __future__ import annotations

import textwrap

import pandas as pd
from pandas.io.formats.style import Styler

#: Cell spacing, so that neighbouring columns do not run together.
#: Characters per line of a column of long text.
WRAP_WIDTH = 48
CELL_STYLE = [{"selector": "td, th",
               "props": "padding: 3px 12px; text-align: left; white-space: nowrap;"}]


def for_people(
    table: pd.DataFrame, digits: int = 2, *, compact: bool = False, wrap: tuple[str, ...] = (),
    wrap_width: int = WRAP_WIDTH,
) -> Styler:
    """No index column, numbers to ``digits`` places, "—" for missing values, "48.47 ± 5.03" kept
    on one line; ``compact`` sets a smaller type for wide tables, ``wrap`` names the columns of
    long text that may wrap (at ``wrap_width`` characters)."""
    styles = CELL_STYLE + ([{"selector": "", "props": "font-size: 0.8em;"}] if compact else [])
    styler = (table.style.hide(axis="index").format(na_rep="—", precision=digits)
              .set_table_styles(styles))
    wrapped = [c for c in wrap if c in table.columns]
    if wrapped:
        styler = styler.format(lambda text: "<br>".join(textwrap.wrap(str(text), wrap_width)),
                               subset=wrapped, na_rep="—")
    return styler


def headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows marked ``headline``, one per (dataset, method, metric, trial)."""
    return df[df["headline"].fillna(False).astype(bool)].copy()


def committed_trials(trials: pd.DataFrame, chapter_id: str, settings: str | None = None
                     ) -> pd.DataFrame:
    """One chapter's recorded trials (``results/paper/trials``) as headline rows a chapter's
    report functions read. ``settings`` is a regular expression whose named groups are settings
    the metric name carries (``_e(?P<epochs>\\d+)`` in ``test_after_e10``): each becomes a
    column, of numbers where it holds numbers, missing where a name has none."""
    rows = trials[trials["chapter_id"] == chapter_id].assign(headline=True)
    if settings is not None:
        found = rows["metric"].str.extract(settings).apply(_as_numbers)
        rows = pd.concat([rows, found], axis=1)
    return rows


def _as_numbers(column: pd.Series) -> pd.Series:
    """Integers or floats when every present value is a number; the words otherwise."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.isna().sum() > column.isna().sum():
        return column
    whole = numbers.notna().all() and (numbers == numbers.round()).all()
    return numbers.astype(int) if whole else numbers
