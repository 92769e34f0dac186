"""Exceptions of the data layer.

Both are ``ValueError`` subclasses so callers that only know "bad input" still catch them, while
the data layer itself can tell "nothing to load" apart from "something is there but it is wrong".
"""

from __future__ import annotations


class DataUnavailableError(ValueError):
    """No source could provide a data set; the message says what was tried and how to get it."""


class DataVerificationError(ValueError):
    """Data was found but failed a check (checksum, shape, label range or class counts)."""


class IdxFormatError(DataVerificationError):
    """Bytes that are not a well-formed IDX file (bad magic number, dims or length)."""
