"""Read an inventory export into string-typed tables, one per sheet, each row with its file row number.

Everything is decided from the bytes, never from the file name: a zip that holds a workbook is
XLSX, another zip (or a folder) is a bundle of tables (Google Migration Center ships several CSVs),
byte-order marks and decoding pick the text encoding, and the delimiter is the one that splits
the sample into the most consistent table. Every value stays a string: typing is the cleansing
step's job, and the raw record must keep what the client sent.

Row numbers are what a person sees when opening the file in a spreadsheet: the header row is
usually 1, a quoted multi-line cell is one row, blank rows count but are not imported.
A row that cannot be read as a row of the table (more cells than the header, a cell too long to
be a value) is kept, listed in ``rejects`` and goes no further; the other rows go on.
A file that is not a table at all is an ``ImportFormatError`` naming file, row and column.

Delimited text is parsed by pyarrow when it is a regular table (``arrow_csv``: ten times faster)
and by the ``csv`` module otherwise; both give the same table, checked file by file in the tests.
Every column is a pandas ``str`` column backed by pyarrow, from whichever reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mfactory.errors import ImportFormatError
from tasks.discovery import formats
from tasks.discovery.arrow_csv import read_string_table
from tasks.discovery.formats import ASSETS, Detection, TablePlan
from tasks.discovery.zip_inflate import refuse_lying_members

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 20
MAX_CELL_CHARS = 32_768
MAX_COLUMNS = 1_500  # the raw-record stage is a table, and PostgreSQL allows 1,600 columns per table
MAX_HEADER_CHARS = 1_024  # a column name is repeated in every raw record's JSON and sent to the mapper
REJECT_COLUMNS = ["row_number", "column", "value", "reason"]
STRING_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str``
#: How delimited text is parsed: "auto" takes pyarrow for a regular table and the csv module for
#: anything else; "csv" and "arrow" force one (tests compare them; "arrow" refuses an irregular text).
TEXT_READERS = ("auto", "csv", "arrow")
#: Zip containers (XLSX, bundles): the most a file may unpack to, and the most one large member may
#: expand its compressed bytes by. Worksheet XML compresses about 5-30 times; a zip bomb thousands.
MAX_UNPACKED_BYTES = 1 << 30
MAX_MEMBER_RATIO = 100
RATIO_CHECK_FROM_BYTES = 8 << 20  # small parts (styles, shared strings of a few rows) may pack tighter
_VALUE_LIKE = re.compile(
    r"^(?:[-+]?\d+(?:[.,]\d+)?"  # numbers
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # IPv4
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}"  # MAC
    r"|\d{4}[-/]\d{1,2}[-/]\d{1,2}.*)$"  # dates
)


@dataclass(frozen=True)
class SourceSheet:
    name: str  # "" for single-table files
    frame: pd.DataFrame  # original columns (file order), str values, index = file row numbers
    header_row: int = 1
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    notes: dict[str, Any] = field(default_factory=dict)  # encoding, delimiter, blank rows, preamble
    plan: TablePlan | None = None  # role, kind, units, joins (set by format detection)

    @property
    def role(self) -> str:
        return self.plan.role if self.plan else ASSETS

    def metadata(self) -> dict[str, Any]:
        """The ``data_imports.sheets`` entry: columns the mapper sees (originals, then joined)."""
        plan = self.plan or TablePlan(self.name, ASSETS, None, {})
        columns = list(self.frame.columns)
        return {
            "name": self.name,
            "columns": columns + [c for c in plan.joined_columns if c not in columns],
            "source_columns": len(columns),
            "rows": len(self.frame),
            "rejected_rows": int(self.rejects["row_number"].nunique()) if len(self.rejects) else 0,
            "header_row": self.header_row,
            "role": plan.role,
            "table": plan.kind,
            "units": plan.units,
            "joins": list(plan.joins),
            **self.notes,
        }


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str  # detected format (rvtools, azure_migrate, ...) or the container (csv | xlsx | bundle)
    sha256: str
    sheets: tuple[SourceSheet, ...]
    container: str = "csv"
    label: str = ""
    source_kind: str | None = None  # what a known format is: inventory | dependencies

    def sheet(self, name: str) -> SourceSheet:
        return next(s for s in self.sheets if s.name == name)

    @property
    def asset_sheets(self) -> tuple[SourceSheet, ...]:
        return tuple(s for s in self.sheets if s.role == ASSETS)


@dataclass(frozen=True)
class _Table:
    """A table before format detection."""

    name: str
    frame: pd.DataFrame
    header_row: int
    rejects: pd.DataFrame
    notes: dict[str, Any]


# --- bytes -> text -------------------------------------------------------------------------


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text without a byte-order mark shows as NUL in every other byte."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
MAX_NON_ASCII_SHARE = 0.3


def _refuse_cp1252_fallback(
    raw: bytes, text: str, utf8_failure: UnicodeDecodeError | None, where: str
) -> None:
    """cp1252 decodes almost any bytes, so taking it as the last resort needs two checks.

    A file that is mostly UTF-8 but holds one line in another encoding (two exports pasted
    together) would otherwise become cp1252 as a whole and every UTF-8 accent would turn into
    mojibake without a word: refuse it and point at the first byte that is not UTF-8.
    Random bytes without control characters or the five bytes cp1252 leaves undefined would be
    read as a text of accented letters: real inventories are mostly ASCII, so a text whose sample
    is largely non-ASCII is binary content.
    """
    if utf8_failure is not None and _UTF8_MULTIBYTE.search(raw, 0, utf8_failure.start):
        row = raw[: utf8_failure.start].count(b"\n") + 1
        raise ImportFormatError(
            f"mixed encodings: UTF-8 text, then byte 0x{raw[utf8_failure.start]:02x} that is not UTF-8"
            " (save the whole file in one encoding)",
            file=where,
            row=row,
        )
    sample = text[:65_536]
    if sum(1 for ch in sample if ord(ch) > 127) > MAX_NON_ASCII_SHARE * len(sample):
        raise ImportFormatError("binary content, not a text table", file=where, row=1)


def decode(raw: bytes, where: str) -> tuple[str, str]:
    """``(text, encoding)``: BOMs first, then UTF-16 by its NULs, then UTF-8, then cp1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        candidates = ["utf-16"]
    elif (utf16 := _utf16_without_bom(raw)) is not None:
        candidates = [utf16]
    elif b"\x00" in raw[:65_536]:
        raise ImportFormatError("binary content, not a text table", file=where, row=1)
    else:
        candidates = ["utf-8", "cp1252"]
    failure: UnicodeDecodeError | None = None
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            failure = failure or exc
            continue
        if encoding == "cp1252":
            _refuse_cp1252_fallback(raw, text, failure, where)
        label = {"utf-16": "utf-16-le" if raw.startswith(b"\xff\xfe") else "utf-16-be"}.get(
            encoding, encoding
        )
        return text, label
    assert failure is not None
    row = raw[: failure.start].count(b"\n") + 1
    raise ImportFormatError(
        f"not text in UTF-8, UTF-16 or cp1252 (undecodable byte 0x{raw[failure.start]:02x})",
        file=where,
        row=row,
    )


def _refuse_non_tables(raw: bytes, where: str) -> None:
    """Files that are clearly something else get an error that says what they are."""
    if raw.startswith(b"%PDF"):
        raise ImportFormatError("a PDF document, not a table (export it as CSV or XLSX)", file=where)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFormatError("a legacy .xls/OLE document: save it as .xlsx or CSV", file=where)


def _refuse_non_text(text: str, where: str) -> None:
    nul = text.find("\x00")  # anywhere, not just in the sample: PostgreSQL text cannot hold NUL
    if nul >= 0:
        row = text.count("\n", 0, nul) + 1
        raise ImportFormatError("NUL character in the text (binary content?)", file=where, row=row)
    sample = text[:65_536]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if "\x00" in sample or control > max(8, len(sample) // 100):
        raise ImportFormatError("binary content, not a text table", file=where, row=1)
    stripped = sample.lstrip()
    if stripped[:1] in ("{", "[") or stripped[:5].lower() in ("<?xml", "<html", "<!doc"):
        kind = "JSON" if stripped[:1] in ("{", "[") else "XML/HTML"
        raise ImportFormatError(f"looks like {kind}, not a table with a header row", file=where, row=1)


# --- text -> records -------------------------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits a sample into the most consistent multi-column rows."""
    sample = text[:65_536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 60))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (count / len(widths), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _text_records(
    text: str, where: str, delimiter: str | None = None
) -> tuple[list[list[str]], dict[str, Any]]:
    delimiter = delimiter or sniff_delimiter(text)
    csv.field_size_limit(2**31 - 1)  # long cells are rejected per row below, not by the parser
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFormatError(f"not a readable delimited table: {exc}", file=where) from exc
    if records and records[-1] and "\n" in records[-1][-1] and not text.rstrip("\r\n").endswith('"'):
        raise ImportFormatError(
            "a quoted cell is never closed: it runs to the end of the file", file=where, row=len(records)
        )
    return records, {"delimiter": delimiter}


def _first_records(text: str, delimiter: str, count: int) -> list[list[str]]:
    """The csv module's first ``count`` records, parsed from a prefix that holds them all.

    The csv module copies the whole text it is given; a record is complete once the next one
    has started, so a prefix that yields ``count + 1`` records gives the first ``count`` exactly.
    """
    size = 1 << 16
    while True:
        reader = csv.reader(io.StringIO(text[:size], newline=""), delimiter=delimiter)
        records = list(islice(reader, count + 1))
        if len(records) > count or size >= len(text):
            return records[:count]
        size *= 4


def _arrow_text_table(
    raw: bytes, text: str, encoding: str, delimiter: str, where: str, name: str
) -> _Table | None:
    """The table ``table_from_records`` would build, parsed by pyarrow; None unless provably the same.

    Taken only for the regular case: the header is the first record (checked by the same rules,
    on the first records as the csv module parses them), every column is named, every record is
    as wide as the header (pyarrow refuses any other row) and pyarrow's first records are the csv
    module's. Blank rows, long cells and row numbers are then computed column-wise. Anything else,
    including every error, is left to the csv module path, which says what is wrong and where.
    """
    head = _first_records(text, delimiter, HEADER_SEARCH_ROWS)
    if _find_header(head) != 0:
        return None
    header = [h.strip() for h in head[0]]
    width = len(header)
    if width < 2 or not all(header) or any(r and len(r) != width for r in head):
        return None
    try:
        _check_header(header, where, 1)
    except ImportFormatError:
        return None  # the csv module path raises it, after any error that comes first there
    if encoding in ("utf-8", "utf-8-sig"):
        data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    else:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: strict decoding should never leave one
            return None
    table = read_string_table(data, delimiter, width)
    if table is None or table.num_rows < 2:
        return None
    if table.slice(0, len(head)).to_pylist() != [
        {f"c{i}": v for i, v in enumerate(r or [""] * width)} for r in head
    ]:
        return None
    last = table.column(width - 1)[-1].as_py()
    if "\n" in last and not text.rstrip("\r\n").endswith('"'):
        return None  # a quoted cell runs to the end of the file: the csv module path refuses it
    body = table.slice(1)
    sizes = [pc.binary_length(body.column(i)) for i in range(width)]  # bytes: from the offsets alone
    filled = sizes[0]
    for size in sizes[1:]:
        filled = pc.add(filled, size)
    keep = pc.greater(filled, 0)
    numbers = np.arange(2, 2 + body.num_rows, dtype=np.int64)
    kept = body if pc.all(keep).as_py() else body.filter(keep)
    if kept.num_rows == 0:
        return None
    rows = numbers if kept is body else numbers[keep.to_numpy(zero_copy_only=False)]
    frame = string_frame(kept.columns, header, rows)
    too_long = sorted(  # a cell has at least as many bytes as characters: only those are counted
        (int(numbers[i]), j, value)
        for j, size in enumerate(sizes)
        for i in np.flatnonzero(pc.greater(size, MAX_CELL_CHARS).to_numpy(zero_copy_only=False))
        if len(value := body.column(j)[int(i)].as_py()) > MAX_CELL_CHARS
    )
    rejects = [_long_cell_rejects([(n, header[j], v) for n, j, v in too_long])] if too_long else []
    notes = {"encoding": encoding, "delimiter": delimiter, "blank_rows": body.num_rows - kept.num_rows}
    return _Table(name=name, frame=frame, header_row=1, rejects=_reject_frame(rejects), notes=notes)


# --- records -> table ------------------------------------------------------------------------


def _column_letter(position: int) -> str:
    """1 -> A, 27 -> AA: how a spreadsheet names a column position."""
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _find_header(records: list[list[str]]) -> int | None:
    """Index of the header row: the first row nearly as wide as the widest of the first rows."""
    counts = [sum(1 for c in r if c.strip()) for r in records[:HEADER_SEARCH_ROWS]]
    widest = max(counts, default=0)
    if widest == 0:
        return None
    need = 1 if widest < 2 else max(2, math.ceil(widest / 2))
    return next(i for i, n in enumerate(counts) if n >= need)


def _check_header(header: list[str], where: str, row: int) -> None:
    names = [h for h in header if h]
    if len(header) > MAX_COLUMNS:
        raise ImportFormatError(
            f"{len(header):,} columns (limit {MAX_COLUMNS:,}): not an inventory table",
            file=where,
            row=row,
            column=_column_letter(MAX_COLUMNS + 1),
        )
    too_long = next((i for i, h in enumerate(header) if len(h) > MAX_HEADER_CHARS), None)
    if too_long is not None:
        raise ImportFormatError(
            f"column name of {len(header[too_long]):,} characters (limit {MAX_HEADER_CHARS:,}): not a header",
            file=where,
            row=row,
            column=_column_letter(too_long + 1),
        )
    value_like = [(i, h) for i, h in enumerate(header) if h and _VALUE_LIKE.match(h)]
    if value_like and len(value_like) * 2 >= len(names):
        i, h = value_like[0]
        raise ImportFormatError(
            f"no header row: row {row} holds values like {h!r}, not column names",
            file=where,
            row=row,
            column=_column_letter(i + 1),
        )
    duplicated = sorted({h for h in names if names.count(h) > 1})
    if duplicated:
        raise ImportFormatError(f"duplicate column names {duplicated}", file=where, row=row)


def table_from_records(
    records: list[list[str]],
    where: str,
    *,
    name: str = "",
    first_row: int = 1,
    notes: dict[str, Any] | None = None,
) -> _Table | None:
    """Header row, data frame and per-row rejects of one table; None when it has no header or rows."""
    header_at = _find_header(records)
    if header_at is None:
        return None
    header_row = first_row + header_at
    header = [str(h).strip() for h in records[header_at]]
    while header and not header[-1]:  # a workbook's grid or a trailing delimiter: not a column
        header.pop()
    _check_header(header, where, header_row)
    preamble = [" ".join(c for c in r if c.strip()) for r in records[:header_at] if any(c.strip() for c in r)]

    width = len(header)
    body = records[header_at + 1 :]
    numbers = range(header_row + 1, header_row + 1 + len(body))
    rejects: list[pd.DataFrame] = []

    # ragged rows (few): pad short ones; values beyond the last column reject their row
    spilled: list[tuple[int, str, str]] = []
    for i in [i for i, n in enumerate(map(len, body)) if n != width]:
        row = body[i]
        if len(row) > width and any(row[width:]):
            cells = max(j for j, v in enumerate(row) if v) + 1
            values = " | ".join(v for v in row[width:] if v)
            spilled.append((numbers[i], values, f"row has {cells} cells, the header names {width} columns"))
        body[i] = row[:width] + [""] * (width - len(row))
    if spilled:
        row_numbers, values, reasons = zip(*spilled, strict=True)
        rejects.append(
            pd.DataFrame(
                {
                    "row_number": row_numbers,
                    "column": _column_letter(width + 1),
                    "value": values,
                    "reason": reasons,
                }
            )
        )

    keep = [i for i, row in enumerate(body) if any(row)]  # blank rows count but are not imported
    grid = np.array([body[i] for i in keep], dtype=object).reshape(len(keep), width)
    unnamed = [i for i, h in enumerate(header) if not h]
    holding = [i for i in unnamed if any(grid[:, i])]
    if holding:
        raise ImportFormatError(
            f"header row has an empty column name above values at position {[i + 1 for i in holding]}",
            file=where,
            row=header_row,
            column=_column_letter(holding[0] + 1),
        )
    named = [i for i in range(width) if header[i]]
    frame = string_frame(
        [pa.array(grid[:, i], type=pa.large_string()) for i in named],
        [header[i] for i in named],
        np.array([numbers[i] for i in keep], dtype=np.int64),
    )

    long_rows = [i for i in keep if sum(map(len, body[i])) > MAX_CELL_CHARS]  # only these can hold one
    too_long = [
        (numbers[i], header[j], body[i][j])
        for i in long_rows
        for j in named
        if len(body[i][j]) > MAX_CELL_CHARS
    ]
    if too_long:
        rejects.append(_long_cell_rejects(too_long))
    if frame.empty:
        return None
    info = dict(notes or {})
    info["blank_rows"] = len(body) - len(keep)
    if preamble:
        info["preamble"] = preamble
    return _Table(name=name, frame=frame, header_row=header_row, rejects=_reject_frame(rejects), notes=info)


def string_frame(
    columns: list[pa.Array | pa.ChunkedArray], names: list[str], rows: np.ndarray
) -> pd.DataFrame:
    """Columns of strings as pandas ``str`` columns (pyarrow-backed: no Python object per cell).

    Every reader (csv module, pyarrow, workbook) returns this one dtype, so what follows behaves the
    same whatever the shape of the file was.
    """
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    frame = table.to_pandas(types_mapper={pa.large_string(): STRING_DTYPE}.get)
    frame.columns = pd.Index(names, dtype=STRING_DTYPE)
    frame.index = pd.Index(rows, dtype=np.int64)
    return frame


def _long_cell_rejects(too_long: list[tuple[int, str, str]]) -> pd.DataFrame:
    """Rejects of cells over MAX_CELL_CHARS, given as (row number, column name, value) in row order."""
    return pd.DataFrame(
        {
            "row_number": [n for n, _, _ in too_long],
            "column": [c for _, c, _ in too_long],
            "value": [v[:200] + "..." for _, _, v in too_long],
            "reason": [f"cell of {len(v):,} characters (limit {MAX_CELL_CHARS:,})" for _, _, v in too_long],
        }
    )


def _reject_frame(rejects: list[pd.DataFrame]) -> pd.DataFrame:
    return (
        pd.concat(rejects, ignore_index=True).sort_values("row_number", kind="stable")
        if rejects
        else pd.DataFrame(columns=REJECT_COLUMNS)
    )


# --- workbooks ---------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A workbook cell as the text a spreadsheet shows (16384.0 -> "16384", dates ISO)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if value is None:
        return ""
    return str(value)


def _refuse_nul_cells(records: list[list[str]], where: str) -> None:
    """A cell may spell NUL as ``_x0000_``; PostgreSQL text cannot hold it, so say where it is."""
    row = next((i for i, r in enumerate(records) if "\x00" in "".join(r)), None)
    if row is not None:
        column = next(j for j, v in enumerate(records[row]) if "\x00" in v)
        raise ImportFormatError(
            "NUL character in a cell (binary content?)",
            file=where,
            row=row + 1,
            column=_column_letter(column + 1),
        )


def _refuse_zip_bomb(raw: bytes, archive: zipfile.ZipFile, where: str) -> None:
    """Refuse a container that would unpack to an absurd size, or that lies about its sizes.

    The sizes a zip declares are checked first, from its directory alone; then every member is
    inflated under a cap (``zip_inflate``), since a declared size is only the file's word. So a
    bomb is refused without the workbook reader (or ``archive.read``) ever holding its output.
    """
    members = archive.infolist()
    total = sum(i.file_size for i in members)
    if total > MAX_UNPACKED_BYTES:
        raise ImportFormatError(
            f"zip container unpacks to {total:,} bytes (limit {MAX_UNPACKED_BYTES:,}): refused", file=where
        )
    for info in members:
        if info.file_size >= RATIO_CHECK_FROM_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_MEMBER_RATIO:
                raise ImportFormatError(
                    f"zip member {info.filename!r} expands {info.compress_size:,} bytes to {info.file_size:,}"
                    f" ({ratio:,.0f} to 1, limit {MAX_MEMBER_RATIO} to 1): refused as a zip bomb",
                    file=where,
                )
    refuse_lying_members(raw, archive, where)


def _open_zip(raw: bytes, where: str) -> zipfile.ZipFile:
    """The zip container of ``raw``, its declared sizes checked (see ``_refuse_zip_bomb``)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise ImportFormatError(f"broken zip/XLSX container: {exc}", file=where) from exc
    _refuse_zip_bomb(raw, archive, where)
    return archive


def _workbook_tables(raw: bytes, where: str) -> list[_Table]:
    from python_calamine import CalamineWorkbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        pass  # not a readable zip: the workbook reader below says what is wrong with it
    else:
        with archive:  # also reached for a workbook inside a bundle, which no one checked yet
            _refuse_zip_bomb(raw, archive, where)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        tables = []
        for sheet_name in book.sheet_names:
            grid = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            records = [[_cell_text(v) for v in row] for row in grid]
            _refuse_nul_cells(records, f"{where} [{sheet_name}]")
            table = table_from_records(records, f"{where} [{sheet_name}]", name=sheet_name)
            if table is not None:
                tables.append(table)
    except ImportFormatError:
        raise
    except Exception as exc:  # the reader raises many types for broken workbooks
        raise ImportFormatError(f"unreadable workbook: {exc}", file=where) from exc
    if not tables:
        raise ImportFormatError("no sheet has a header row and data rows", file=where)
    return tables


def _is_workbook(archive: zipfile.ZipFile) -> bool:
    names = set(archive.namelist())
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


# --- one file, a bundle ------------------------------------------------------------------------


def _text_table(raw: bytes, where: str, name: str = "", text_reader: str = "auto") -> _Table:
    _refuse_non_tables(raw, where)
    text, encoding = decode(raw, where)
    if not text.strip():
        raise ImportFormatError("file is empty", file=where)
    _refuse_non_text(text, where)
    delimiter = sniff_delimiter(text)
    if text_reader != "csv":
        fast = _arrow_text_table(raw, text, encoding, delimiter, where, name)
        if fast is not None:
            return fast
        if text_reader == "arrow":
            raise ValueError(f"{where}: not a regular table, pyarrow cannot read it as the csv module does")
    records, notes = _text_records(text, where, delimiter)
    table = table_from_records(records, where, name=name, notes={"encoding": encoding, **notes})
    if table is None:
        header_at = _find_header(records)
        if header_at is None:  # only delimiters and blanks: not "a header without rows"
            raise ImportFormatError("no header row: no row holds a column name", file=where)
        raise ImportFormatError("header row but no data rows", file=where, row=header_at + 2)
    return table


def _member_tables(members: list[tuple[str, bytes]], where: str, text_reader: str = "auto") -> list[_Table]:
    """Each file of a bundle (zip or folder) is one table named after it (workbooks: one per sheet)."""
    tables: list[_Table] = []
    for member, data in members:
        inner = f"{where} [{member}]"
        stem = Path(member).stem
        if data.startswith(b"PK\x03\x04"):
            for t in _workbook_tables(data, inner):
                tables.append(_Table(f"{stem}/{t.name}", t.frame, t.header_row, t.rejects, t.notes))
        else:
            tables.append(_text_table(data, inner, name=stem, text_reader=text_reader))
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ImportFormatError(f"two tables of the bundle have the same name: {names}", file=where)
    if not tables:
        raise ImportFormatError("the bundle holds no table", file=where)
    return tables


def _visible(name: str) -> bool:
    return not any(part.startswith((".", "__MACOSX")) for part in Path(name).parts)


def _tables(path: Path, raw: bytes | None, text_reader: str) -> tuple[str, list[_Table]]:
    where = str(path)
    if raw is None:
        files = sorted(p for p in path.rglob("*") if p.is_file() and _visible(str(p.relative_to(path))))
        members = [(str(p.relative_to(path)), p.read_bytes()) for p in files]
        return "bundle", _member_tables(members, where, text_reader)
    if raw.startswith(b"PK\x03\x04"):
        with _open_zip(raw, where) as archive:
            if _is_workbook(archive):
                return "xlsx", _workbook_tables(raw, where)
            try:
                members = [
                    (info.filename, archive.read(info))
                    for info in sorted(archive.infolist(), key=lambda i: i.filename)
                    if not info.is_dir() and _visible(info.filename)
                ]
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
                raise ImportFormatError(f"broken zip container: {exc}", file=where) from exc
        return "bundle", _member_tables(members, where, text_reader)
    return "csv", [_text_table(raw, where, text_reader=text_reader)]


def _digest(path: Path, raw: bytes | None) -> str:
    if raw is not None:
        return hashlib.sha256(raw).hexdigest()
    digest = hashlib.sha256()
    for p in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(p.relative_to(path)).encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()


def read_source(path: Path, *, text_reader: str = "auto") -> SourceFile:
    """Read ``path`` (CSV/TSV/XLSX in any common encoding, or a zip/folder of them) and detect its format.

    ``text_reader`` (one of TEXT_READERS) is for tests that hold the two text parsers to one result.
    """
    if text_reader not in TEXT_READERS:
        raise ValueError(f"text_reader {text_reader!r}: one of {TEXT_READERS}")
    path = Path(path)
    if not path.exists():
        raise ImportFormatError("no such file", file=str(path))
    raw = None if path.is_dir() else path.read_bytes()
    if raw is not None and not raw:
        raise ImportFormatError("file is empty", file=str(path))
    container, tables = _tables(path, raw, text_reader)
    detection: Detection = formats.detect([(t.name, list(t.frame.columns)) for t in tables], container)
    sheets = tuple(
        SourceSheet(t.name, t.frame, t.header_row, t.rejects, t.notes, detection.tables[t.name])
        for t in tables
    )
    return SourceFile(
        path=path,
        format=detection.format,
        sha256=_digest(path, raw),
        sheets=sheets,
        container=container,
        label=detection.label,
        source_kind=detection.source_kind,
    )
