"""IDX parsing: round trips, checksums of decompressed bytes, and every rejected malformation."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from sleeputils.data.errors import DataVerificationError, IdxFormatError
from sleeputils.data.idx import (
    md5_hex,
    parse_idx,
    read_idx,
    read_idx_bytes,
    to_idx_bytes,
    write_idx,
)

IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
LABELS = np.array([7, 0, 255], dtype=np.uint8)


def test_encoding_matches_the_idx_layout_byte_for_byte():
    data = to_idx_bytes(IMAGES)
    assert data[:4] == b"\x00\x00\x08\x03"
    assert struct.unpack(">3I", data[4:16]) == (2, 3, 4)
    assert data[16:] == bytes(range(24))
    assert to_idx_bytes(LABELS) == b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 0, 255])


@pytest.mark.parametrize("name", ["t-images-idx3-ubyte", "t-images-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzip(tmp_path, name):
    path = write_idx(tmp_path / name, IMAGES)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path, ndim=3)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, IMAGES)
    # the checksum is over the decompressed bytes, so both files hash the same
    assert md5_hex(read_idx_bytes(path)) == md5_hex(to_idx_bytes(IMAGES))


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "labels-without-gz-suffix"
    path.write_bytes(gzip.compress(to_idx_bytes(LABELS)))
    np.testing.assert_array_equal(read_idx(path, ndim=1), LABELS)


def test_md5_is_the_standard_digest():
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert md5_hex(b"abc") == "900150983cd24fb0d6963f7d28e17f72"


@pytest.mark.parametrize(
    ("data", "ndim", "message"),
    [
        (b"\x00\x00", None, "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", None, "bad magic"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4, None, "element type 0x0d"),
        (b"\x00\x00\x08\x00", None, "0 dimensions"),
        (to_idx_bytes(LABELS), 3, "expected 3 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), 3, "truncated header"),
        (to_idx_bytes(IMAGES)[:-1], 3, "payload is 23 bytes"),
        (to_idx_bytes(IMAGES) + b"\x00", 3, "payload is 25 bytes"),
    ],
)
def test_malformed_idx_is_rejected(data, ndim, message):
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(data, ndim=ndim)


def test_format_errors_are_verification_errors_and_value_errors():
    assert issubclass(IdxFormatError, DataVerificationError)
    assert issubclass(IdxFormatError, ValueError)


def test_corrupt_gzip_is_a_format_error(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(to_idx_bytes(IMAGES))[:30])
    with pytest.raises(IdxFormatError, match="corrupt gzip"):
        read_idx(path)


def test_only_uint8_arrays_can_be_encoded():
    with pytest.raises(ValueError, match="uint8"):
        to_idx_bytes(np.zeros(3, dtype=np.int32))
