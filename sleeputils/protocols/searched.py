"""The sleep vector the committed sleep search chose, for the chapters that sleep with it beside
the original's (method ``src_searched``; book/methods/protocols.md, protocol-sleep-search).

The vector is read from the committed records of the ``sleep-search`` chapter's ``paper``
profile (``results/paper``): on MNIST the best of its class-incremental searches, on
Fashion-MNIST the transfer study's search. A unit sleeping with it names the vector's values in
its key, so a new committed search makes new units. The records keep six significant digits, so
the vector sleeps rounded to them (the search chapter's own test trials used it unrounded).
"""

from __future__ import annotations

from pathlib import Path

from ..params import ParamError
from ..results import setting
from ..results.record import PAPER_PROFILE, load_records

#: The chapter whose committed records hold the searched vectors.
SEARCH_CHAPTER = "sleep-search"
#: Where each data set's searched vector comes from: the setting of its chosen vector's records.
SOURCES = {"mnist": setting.encode(protocol="incremental", vector="searched"),
           "fashion": setting.encode(protocol="transfer", searched_on="fashion",
                                     vector="searched")}
#: The searched fields, in the vector's order (a net of three weight layers).
FIELDS = ("r_max", "inc", "dec", "beta_1", "beta_2", "beta_3", "alpha_scale")


def searched_vector(dataset: str, project: Path | None = None) -> tuple[tuple[str, float], ...]:
    """The committed searched vector for ``dataset``'s class-incremental protocol, as (field,
    value) pairs; one line (``ParamError``) saying what to run when there is none."""
    if dataset not in SOURCES:
        raise ParamError(f"no sleep vector is searched for {dataset}; the sleep search covers "
                         f"{', '.join(SOURCES)}")
    records = load_records(PAPER_PROFILE, project=project)
    if len(records):
        records = records[(records["chapter_id"] == SEARCH_CHAPTER)
                          & (records["dataset"] == dataset)
                          & (setting.normalise(records["setting"]) == SOURCES[dataset])]
    values = dict(zip(records["metric"], records["mean"], strict=True)) if len(records) else {}
    missing = [f for f in FIELDS if f not in values]
    if missing:
        raise ParamError(f"method src_searched needs the committed paper run of {SEARCH_CHAPTER}, "
                         f"which holds no searched vector for {dataset} (results/paper): run "
                         f"`sleepbook run {SEARCH_CHAPTER} --profile paper` and commit its records")
    return tuple((f, float(values[f])) for f in FIELDS)
