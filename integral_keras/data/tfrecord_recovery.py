"""Reads the intact records of a damaged TFRecord file: resynchronises on the framing after each damaged record.

TFRecord framing, per record: `uint64 length`, `uint32 masked CRC32C(length)`, `length` data bytes,
`uint32 masked CRC32C(data)` (all little-endian). TensorFlow's reader stops at the first record whose CRC fails
(`DataLossError`) and moves to the next file, losing every intact record after it. The input reader keeps TF's
reader as the fast path and calls `recover_records` only for a file that its fast path did not read to the end
(a stat of the file size tells; clean files cost nothing extra). Recovery resumes at the byte where the fast path
stopped and, in plain Python on the damaged file only:

1. reads the record there with TensorFlow's `RandomRecordReader` (CRCs checked in C++);
2. when that fails, the record is lost: it scans forward byte by byte for the next offset whose 8-byte length
   field has a valid masked CRC32C (a false match has probability 2^-32 per offset) and whose length fits in the
   file, then reads from there. A header found this way whose data CRC fails is one more lost record (its frame is
   skipped whole).

The count of lost records is exact when the damage stays inside single records (flipped bytes in a length, a data
payload or a CRC; a truncated last record): each damaged frame is one lost record, and every intact record after
it is read. A damaged region that destroys several consecutive headers counts as one lost record (the records
whose headers are gone cannot be told apart); the log line says so.
"""
import os
import struct
from typing import Iterator, Tuple

import numpy as np

_HEADER = 12  # uint64 length + uint32 masked crc
_FOOTER = 4
_MASK_DELTA = 0xA282EAD8


def _crc32c_table() -> np.ndarray:
    table = np.zeros(256, np.uint32)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table[byte] = crc
    return table


_TABLE = [int(value) for value in _crc32c_table()]


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) of `data`; plain Python, meant for the 8-byte length fields only."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The TFRecord masked CRC32C: `((crc >> 15) | (crc << 17)) + 0xa282ead8` (mod 2^32)."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _valid_header(content: bytes, offset: int) -> bool:
    """Whether a record header starts at `offset`: its length fits in the file and its CRC verifies."""
    if offset + _HEADER + _FOOTER > len(content):
        return False
    (length,) = struct.unpack_from("<Q", content, offset)
    if length > len(content) - offset - _HEADER - _FOOTER:
        return False
    (stored,) = struct.unpack_from("<I", content, offset + 8)
    return masked_crc32c(content[offset:offset + 8]) == stored


def _next_header(content: bytes, offset: int) -> int:
    """The first offset >= `offset` holding a valid record header, or `len(content)`."""
    while offset < len(content):
        if _valid_header(content, offset):
            return offset
        offset += 1
    return len(content)


def recover_records(path: str, start_offset: int) -> Iterator[Tuple[bytes, int, bool]]:
    """The intact records of `path` from byte `start_offset` on, as `(record, lost_before, is_end)`.

    `lost_before` is the number of damaged records skipped just before the record. The last item is
    `(b"", lost, True)`: the records lost at the end of the file (possibly 0).

    Args:
      path: a TFRecord file (uncompressed).
      start_offset: where TensorFlow's reader stopped (the start of the first record it could not read).
    """
    from tensorflow.python.lib.io import _pywrap_record_io  # pylint: disable=import-outside-toplevel

    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    path = os.fsdecode(path)
    with tf.io.gfile.GFile(path, "rb") as handle:  # local files and every file system TF reads
        content = handle.read()
    reader = _pywrap_record_io.RandomRecordReader(path)
    offset, lost = int(start_offset), 0
    try:
        while offset < len(content):
            try:
                record, next_offset = reader.read(offset)
            except Exception:  # pylint: disable=broad-except  # DataLossError / OutOfRangeError from C++
                lost += 1
                if _valid_header(content, offset):  # header intact, data damaged: skip the frame whole
                    (length,) = struct.unpack_from("<Q", content, offset)
                    offset = _next_header(content, offset + _HEADER + length + _FOOTER)
                else:
                    offset = _next_header(content, offset + 1)
                continue
            yield bytes(record), lost, False
            lost = 0
            offset = next_offset
    finally:
        reader.close()
    yield b"", lost, True
