"""Reading and writing IDX files, the container format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimension sizes, then the row-major payload. Only the unsigned-byte type (``0x08``) occurs in
MNIST-like data, so it is the only one accepted here. Files may be gzip-compressed; compression is
recognised by the gzip magic bytes rather than the file name, so a mis-named file still works.

Checksums are taken over the *decompressed* bytes: the same IDX content is shipped in differently
compressed ``.gz`` files (Debian, for example, recompresses Fashion-MNIST), so only the raw bytes
identify the data.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import IdxFormatError

UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def md5_hex(data: bytes) -> str:
    """Hex MD5 of ``data`` (used as a content fingerprint, not for security)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def read_idx_bytes(path: str | Path) -> bytes:
    """The decompressed IDX bytes of ``path`` (gzip or raw)."""
    data = Path(path).read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(f"{path}: corrupt gzip stream ({exc})") from exc


def parse_idx(data: bytes, ndim: int | None = None, name: str = "IDX data") -> np.ndarray:
    """Parse decompressed IDX bytes into a uint8 array of the declared shape.

    ``ndim`` (if given) is the number of dimensions the caller expects, e.g. 3 for images and 1
    for labels; ``name`` only labels error messages. Raises ``IdxFormatError`` on a bad magic
    number, an unsupported element type, a dimension mismatch, or a payload whose length does not
    match the declared dimensions.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{name}: {len(data)} bytes is too short for an IDX header")
    zero0, zero1, dtype_code, n_dims = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise IdxFormatError(
            f"{name}: bad magic number 0x{data[:4].hex()} (IDX files start with two zero bytes)"
        )
    if dtype_code != UBYTE:
        raise IdxFormatError(
            f"{name}: element type 0x{dtype_code:02x} is not supported (only unsigned byte 0x08)"
        )
    if n_dims == 0:
        raise IdxFormatError(f"{name}: header declares 0 dimensions")
    if ndim is not None and n_dims != ndim:
        raise IdxFormatError(f"{name}: expected {ndim} dimensions, header declares {n_dims}")
    header_len = 4 + 4 * n_dims
    if len(data) < header_len:
        raise IdxFormatError(f"{name}: truncated header ({len(data)} of {header_len} bytes)")
    shape = struct.unpack(f">{n_dims}I", data[4:header_len])
    expected = int(np.prod(shape, dtype=np.int64))
    payload = len(data) - header_len
    if payload != expected:
        raise IdxFormatError(
            f"{name}: payload is {payload} bytes but dims {shape} need {expected}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip or raw) into a uint8 array; see ``parse_idx`` for the checks."""
    return parse_idx(read_idx_bytes(path), ndim=ndim, name=str(path))


def to_idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: what an official file with this content contains.

    Used to check that arrays obtained from another container (e.g. a Zarr archive) are
    byte-identical to the official IDX files, by hashing this encoding.
    """
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"IDX encoding here supports uint8 only, got {arr.dtype}")
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"IDX needs 1..255 dimensions, got {arr.ndim}")
    header = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr).tobytes()


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file, gzip-compressed when ``path`` ends in ``.gz``."""
    path = Path(path)
    data = to_idx_bytes(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
    return path
