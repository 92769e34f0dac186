"""Results layer: the unit cache, recorded headline numbers and the book's reference numbers.

* :class:`ResultStore` caches one file per computed unit (chapter, config, trial, code).
* :func:`record` writes a chapter's headline numbers (mean, std, n) with provenance.
* :func:`freeze` / :func:`tolerance` make and describe the reference a re-run is checked against.
"""

from sleeputils.results.record import load_records, record, summarise
from sleeputils.results.reference import freeze, load_reference, tolerance
from sleeputils.results.store import ResultStore, default_root

__all__ = [
    "ResultStore",
    "default_root",
    "freeze",
    "load_records",
    "load_reference",
    "record",
    "summarise",
    "tolerance",
]
