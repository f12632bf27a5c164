"""Inflate every member of a zip container under a cap, before any reader trusts its sizes.

Why: the sizes a zip declares are the attacker's to write. A member that declares 1,000 bytes
and carries a deflate stream of gigabytes passes every check made on the directory; Python's
``zipfile`` then stops at the declared size (and fails its CRC), but the workbook reader
(calamine, on the Rust ``zip`` crate) bounds only the compressed input and inflates the output
to its end. So each member is inflated here first, in 1 MiB pieces that are counted and
dropped: one that yields more than it declares, or that is not a stream we can check, is
refused before a reader holds any of it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

from mfactory.errors import ImportFormatError

#: signature, versions, flags, method, time, date, crc, sizes, name and extra lengths
_LOCAL_HEADER = struct.Struct("<4s5HLLLHH")
_PIECE = 1 << 20


def _compressed_bytes(raw: memoryview, info: zipfile.ZipInfo, where: str) -> memoryview:
    """The member's compressed data, located through its local header (as every reader does)."""
    try:
        fields = _LOCAL_HEADER.unpack_from(raw, info.header_offset)
    except struct.error:
        fields = (b"",)
    if fields[0] != b"PK\x03\x04":
        raise ImportFormatError(
            f"broken zip container: no local header for member {info.filename!r}", file=where
        )
    start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    return raw[start : start + info.compress_size]


def _inflated_size(data: memoryview, cap: int) -> int:
    """Bytes a raw deflate stream yields, counting no further than ``cap`` + 1 (never held whole)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    for start in range(0, len(data), _PIECE):
        pending = bytes(data[start : start + _PIECE])
        while pending:
            total += len(inflater.decompress(pending, _PIECE))
            if total > cap:
                return total
            pending = inflater.unconsumed_tail
    return total + len(inflater.flush())


def refuse_lying_members(raw: bytes, archive: zipfile.ZipFile, where: str) -> None:
    """Refuse a member whose data inflates past its declared size, or that cannot be inflated."""
    view = memoryview(raw)
    for info in archive.infolist():
        if info.is_dir() and info.compress_size == 0:
            continue
        data = _compressed_bytes(view, info, where)
        if info.compress_type == zipfile.ZIP_STORED:
            size = len(data)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                size = _inflated_size(data, info.file_size)
            except zlib.error as exc:
                raise ImportFormatError(f"broken zip member {info.filename!r}: {exc}", file=where) from exc
        else:
            raise ImportFormatError(
                f"zip member {info.filename!r} uses compression method {info.compress_type},"
                " which inventory files do not (stored or deflate only)",
                file=where,
            )
        if size > info.file_size:
            raise ImportFormatError(
                f"zip member {info.filename!r} declares {info.file_size:,} bytes but inflates to more"
                f" ({size:,} counted before stopping): refused as a zip bomb",
                file=where,
            )
