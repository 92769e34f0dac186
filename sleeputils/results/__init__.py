"""Results layer: the unit cache, recorded numbers, the book's reference, the paper's numbers,
the check that compares them, and the run log.

* :class:`ResultStore` caches one file per computed unit (chapter, config, trial, code).
* :func:`record` writes a chapter's headline numbers (per trial and mean, std, n) with provenance.
* :func:`freeze` / :func:`tolerance` make and describe the reference a re-run is checked against.
"""

from sleeputils.results.record import load_records, load_trials, record, summarise
from sleeputils.results.reference import freeze, load_reference, tolerance
from sleeputils.results.store import ResultStore, default_root

__all__ = [
    "ResultStore",
    "default_root",
    "freeze",
    "load_records",
    "load_reference",
    "load_trials",
    "record",
    "summarise",
    "tolerance",
]
