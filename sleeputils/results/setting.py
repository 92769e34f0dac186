"""A recorded number's setting: the values it was measured at, kept as data.

A recorded number is keyed by (dataset, method, setting, metric). The metric names *what* was
measured (``final_acc``, ``nme_acc``, ``d1_final``); the setting names *where*: a small mapping of
scalars such as ``{"memory": 100, "variant": "herding+distill", "epochs": 10}``. A CSV cell holds
it as one canonical text, written by :func:`encode` and read back by :func:`decode`, its inverse;
nothing else in the package writes or parses that text. Reports and notebooks get settings as
columns from :func:`expand`, and the paper's numbers (``paper_values.csv``) name the setting they
were measured at in the same form, so the status page compares like with like.

The text is compact JSON with sorted keys (``{"epochs":10,"memory":100}``); the empty setting is
the empty string. Floats with an integral value are written as integers, so ``1.0`` and ``1``
(a fraction read from YAML or typed by hand) are one setting.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: The column holding the encoded setting in every record, trial, reference and paper file.
COLUMN = "setting"

Scalar = int | float | str | bool


def _scalar(name: str, value: Any) -> Scalar:
    """``value`` as a plain JSON scalar (numpy scalars unwrapped, integral floats as int)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"setting {name!r} must be finite, got {value}")
        return int(value) if value.is_integer() else value
    raise TypeError(f"setting {name!r} must be a scalar (int, float, str, bool), "
                    f"got {type(value).__name__}")


def encode(setting: Mapping[str, Any] | None = None, /, **values: Any) -> str:
    """The canonical text of a setting (``""`` when it is empty).

    >>> encode(memory=100, variant="herding+distill")
    '{"memory":100,"variant":"herding+distill"}'
    """
    items = {**(setting or {}), **values}
    plain = {str(k): _scalar(k, v) for k, v in items.items() if v is not None}
    if not plain:
        return ""
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(text: Any) -> dict[str, Scalar]:
    """The mapping :func:`encode` wrote (``{}`` for an empty or missing cell)."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or text == "":
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"not a setting: {text!r}")
    return value


def normalise(column: pd.Series) -> pd.Series:
    """A setting column read from CSV (missing cells as NaN) re-encoded canonically."""
    return column.map(lambda text: encode(decode(text)))


def expand(df: pd.DataFrame, column: str = COLUMN) -> pd.DataFrame:
    """``df`` with one column per setting name, filled from its ``setting`` cells.

    Where a row's setting lacks a name, an existing column of that name keeps its value (fresh
    protocol output already carries settings as columns); elsewhere the cell is missing.
    """
    if column not in df.columns or df.empty:
        return df.copy()
    decoded = pd.DataFrame([decode(t) for t in df[column]], index=df.index)
    out = df.copy()
    for name in decoded.columns:
        values = decoded[name]
        if name in out.columns:
            values = values.where(values.notna(), out[name])
        out[name] = values.infer_objects()
    return out


def within(text: Any, values: Mapping[str, Any]) -> bool:
    """Whether every value the setting ``text`` names equals the one in ``values`` (a paper
    number names only what its paper fixed: it matches every run of ours at those values)."""
    return all(k in values and values[k] is not None and _scalar(k, values[k]) == v
               for k, v in decode(text).items())


def describe(text: Any) -> str:
    """The setting for people: ``memory 100, variant herding+distill`` (``—`` when empty)."""
    items = decode(text)
    return ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) and
                     not isinstance(v, bool) else f"{k.replace('_', ' ')} {v}"
                     for k, v in items.items()) or "—"
