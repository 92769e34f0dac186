"""Shared formatting of the chapters' tables: tables for people, headline rows and the
committed trials as rows a report reads."""

from __future__ import annotations

import textwrap

import pandas as pd
from pandas.io.formats.style import Styler

from ..results import setting
from ..results.record import headline_rows

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
    on one line; ``compact`` sets a smaller type and narrower cell spacing for wide tables,
    ``wrap`` names the columns of long text that may wrap (at ``wrap_width`` characters)."""
    styles = CELL_STYLE + ([{"selector": "", "props": "font-size: 0.8em;"},
                            {"selector": "td, th", "props": "padding: 3px 7px;"}]
                           if compact else [])
    styler = (table.style.hide(axis="index").format(na_rep="—", precision=digits)
              .set_table_styles(styles))
    wrapped = [c for c in wrap if c in table.columns]
    if wrapped:  # the browser may break them too (at a <wbr>), which nowrap would forbid
        styler = (styler.format(lambda text: wrap_html(str(text), wrap_width), subset=wrapped,
                                na_rep="—")
                  .set_properties(subset=wrapped, **{"white-space": "normal"}))
    return styler


def wrap_html(text: str, width: int = WRAP_WIDTH) -> str:
    """``text`` in lines of at most ``width`` characters joined by ``<br>``, never breaking
    inside an HTML tag (a link's ``<a href=...>`` stays whole) or inside a word. A comma outside
    a tag and followed by no space gets a ``<wbr>``: a list spelt as the command line takes it
    (``a,b,c``) may break after a comma where the page is narrow, and still copies as typed."""
    chars, inside = [], False
    for ch in text:  # spaces inside a tag become NULs, which textwrap does not break at
        inside = (inside or ch == "<") and ch != ">"
        chars.append("\0" if inside and ch == " " else ch)
    lines = textwrap.wrap("".join(chars), width, break_long_words=False,
                          break_on_hyphens=False)
    return "<br>".join(_comma_breaks(line).replace("\0", " ") for line in lines)


def _comma_breaks(line: str) -> str:
    """``<wbr>`` after each comma of ``line`` that is outside a tag and not followed by a space
    (inside a tag, spaces are NULs here, so a tag's commas are never followed by a space)."""
    out, inside = [], False
    for i, ch in enumerate(line):
        inside = (inside or ch == "<") and ch != ">"
        out.append(ch)
        if ch == "," and not inside and line[i + 1 : i + 2] not in ("", " "):
            out.append("<wbr>")
    return "".join(out)


def headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows marked ``headline``, one per (dataset, method, setting, metric, trial), each with its
    canonical ``setting`` cell."""
    return headline_rows(df).copy()


def committed_trials(trials: pd.DataFrame, chapter_id: str) -> pd.DataFrame:
    """One chapter's recorded trials (``results/paper/trials``) as headline rows a chapter's
    report functions read: every name of their settings becomes a column, as in a fresh run."""
    return setting.expand(trials[trials["chapter_id"] == chapter_id].assign(headline=True))


