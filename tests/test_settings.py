"""Settings are data: one encoder and its inverse, and nothing downstream parses a metric name."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sleeputils.results import setting
from sleeputils.results.record import summarise

ROOT = Path(__file__).resolve().parents[1]

def _random_settings(n: int = 300) -> list[dict]:
    """Seeded random settings: names, ints, floats of every magnitude, odd strings, booleans."""
    rng = np.random.default_rng(7)
    pool = [lambda: int(rng.integers(-10**6, 10**6)), lambda: float(rng.normal() * 10.0 **
            rng.integers(-8, 9)), lambda: bool(rng.integers(2)), lambda: float(rng.integers(9)),
            lambda: "".join(rng.choice(list('ab+-_ ",{}:\\é0.5'), rng.integers(0, 9)))]
    return [{f"k{j}_{rng.integers(99)}": pool[rng.integers(len(pool))]()
             for j in range(rng.integers(0, 5))} for _ in range(n)]


@pytest.mark.parametrize("values", _random_settings())
def test_decode_inverts_encode(values: dict) -> None:
    text = setting.encode(values)
    back = setting.decode(text)
    assert back == values  # 1.0 comes back as 1, which compares equal
    assert setting.encode(back) == text  # canonical: one text per setting


def test_encode_is_canonical_across_order_and_number_types() -> None:
    assert setting.encode(memory=100, variant="a") == setting.encode(variant="a", memory=100.0)
    assert setting.encode() == "" and setting.decode("") == {} and setting.decode(None) == {}
    assert setting.decode(float("nan")) == {}  # a missing CSV cell
    assert setting.encode(budget=None) == ""  # an unset value is no setting
    with pytest.raises(TypeError, match="scalar"):
        setting.encode(hidden=[1, 2])


def test_within_matches_a_paper_setting_inside_ours() -> None:
    ours = {"memory": 100, "variant": "herding+distill", "epochs": 10}
    assert setting.within('{"epochs":10,"memory":100}', ours)
    assert setting.within("", ours)  # the paper fixed nothing: every run of ours matches
    assert not setting.within('{"epochs":2,"memory":100}', ours)
    assert not setting.within('{"fraction":0.01}', ours)  # a value we did not set


def test_expand_and_summarise_keep_settings_apart() -> None:
    rows = pd.DataFrame({"dataset": "mnist", "method": "rehearsal", "metric": "final_acc",
                         "headline": True, "trial": [0, 0, 1, 1], "value": [1.0, 2.0, 3.0, 4.0],
                         "setting": [setting.encode(fraction=p) for p in (0.01, 0.1) * 2]})
    summary = summarise(rows)
    assert summary["mean"].tolist() == [2.0, 3.0]  # 0.01: (1 + 3) / 2, 0.1: (2 + 4) / 2
    assert setting.expand(summary)["fraction"].tolist() == [0.01, 0.1]
    with pytest.raises(ValueError, match="occurs more than once"):
        summarise(rows.assign(setting=""))  # two fractions under one key: refused


#: What reading a setting back out of a metric or method name looks like.
PARSING = re.compile(r"""\[["']metric["']\]\.str\b"""
                     r"""|metric\w*\.(split|rsplit|removeprefix|removesuffix|startswith|"""
                     r"""endswith)\(|re\.(search|match|fullmatch|findall|sub)\(""")


@pytest.mark.parametrize("folder", ["sleeputils/report", "sleeputils/chapters", "notebooks"])
def test_no_report_or_notebook_parses_a_metric_name(folder: str) -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / folder).rglob("*"))
             if path.suffix in (".py", ".md")
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if PARSING.search(line)]
    assert found == []


def test_the_parsing_guard_can_fail() -> None:
    for line in ('rows["metric"].str.split("_")', 'metric.removeprefix("nme_k")',
                 'memory = int(re.search(r"_k(\\d+)_", text).group(1))'):
        assert PARSING.search(line)
