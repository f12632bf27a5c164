"""Raw import rows as PostgreSQL COPY text, built column by column with Arrow compute.

Why not one Python object per row: 100,000 rows of 25 cells are 2.5 million values, and any
per-row Python work (a dict, ``json.dumps``, an adapted tuple) costs seconds, several times the
COPY itself. Here every cell column is escaped once, as a whole, by Arrow's C++ string kernels;
the JSON record of each row and then its COPY line are joined element-wise across columns, and
the chunk leaves as the one contiguous buffer Arrow already holds. Python touches only columns
(and the few rejected rows), never rows.

Two escapings nest. A cell becomes a JSON string (``\\`` ``"`` and control characters escaped),
and the JSON text becomes a COPY text field, whose own escape character is the backslash, so
every backslash JSON wrote is doubled. JSON-escaped text has no raw tab or newline left, so that
doubling is all COPY needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Columns of each COPY line, in order (``COPY <table> (...) FROM STDIN``).
#: The tenant and import columns are not sent: the partition table has them as column defaults
#: (and a CHECK pinning them), which saves 100 bytes and three uuid parses per row.
LINE_COLUMNS = ("id", "sheet_name", "row_number", "record", "is_valid", "errors")
#: Rows per chunk: the server parses one chunk while the next is built.
CHUNK_ROWS = 10_000
#: Cell bytes per chunk, at most (escaping grows a cell at most sixfold: still far below 2 GiB).
CHUNK_BYTES = 64 << 20
#: Bytes of a line besides its cells and keys (id, row number, separators, flags), for sizing.
LINE_OVERHEAD = 64
COPY_NULL = "\\N"
_NEEDS_JSON_ESCAPE = r'[\\"\x00-\x1f]'
_OTHER_CONTROLS = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
#: What a cell's characters become in the COPY field of its JSON record: JSON escape, then COPY's.
_CELL_ESCAPES = (("\\", "\\\\\\\\"), ('"', '\\\\"'), ("\n", "\\\\n"), ("\r", "\\\\r"), ("\t", "\\\\t"))


@dataclass(frozen=True)
class RawRowsHeader:
    """What every line of one sheet shares (the tenant and import come from the partition)."""

    sheet_name: str
    id_prefix: str
    """The first 28 characters of every row id; the row number as 8 hex digits completes it."""


def copy_field(value: str) -> str:
    """``value`` as one COPY text-format field (backslash, tab, newline and CR escaped)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _json_copy_text(value: str) -> str:
    """``value`` as JSON string content (no quotes), escaped again for a COPY field."""
    return copy_field(json.dumps(value, ensure_ascii=False)[1:-1])


def _cells(column: pd.Series) -> pa.Array:
    """A whole frame column as one Arrow large-string array without nulls ("" for an absent cell).

    Large strings (64-bit offsets) hold a column of any size; each chunk's slice is cast to
    plain strings, the width every piece joined into a line must share.
    """
    if not pd.api.types.is_string_dtype(column.dtype):
        column = column.astype(str)
    cells = pa.array(column, from_pandas=True)  # Arrow-backed columns (pandas' str) come zero-copy
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    cells = cells.cast(pa.large_string())
    return pc.fill_null(cells, "") if cells.null_count else cells


def chunk_bounds(row_bytes: np.ndarray, max_bytes: int, max_rows: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive chunks of at most ``max_rows`` rows and about ``max_bytes``.

    A row bigger than ``max_bytes`` is a chunk of its own. Bytes bound the memory a chunk takes
    and keep its text under Arrow's 2 GiB per string array whatever the rows hold.
    """
    ends = np.cumsum(row_bytes, dtype=np.int64)
    bounds: list[tuple[int, int]] = []
    start, total = 0, len(row_bytes)
    while start < total:
        before = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, before + max_bytes, side="right"))
        stop = min(max(stop, start + 1), start + max_rows, total)
        bounds.append((start, stop))
        start = stop
    return bounds


def escaped_cells(cells: pa.Array) -> pa.Array:
    """Each cell as the COPY text of its JSON string content; untouched when nothing needs escaping."""
    if not pc.any(pc.match_substring_regex(cells, _NEEDS_JSON_ESCAPE)).as_py():
        return cells
    if pc.any(pc.match_substring_regex(cells, _OTHER_CONTROLS)).as_py():
        # Rare control characters have per-character \\u escapes: this one column goes through json.
        return pa.array([_json_copy_text(v) for v in cells.to_pylist()], type=pa.string())
    for plain, escaped in _CELL_ESCAPES:
        cells = pc.replace_substring(cells, plain, escaped)
    return cells


def jsonb_key_order(names: list[str]) -> list[int]:
    """Positions of ``names`` in the order JSONB stores object keys: shorter first, then by bytes.

    Keys that arrive in that order cost the server's JSONB input no sort (its sort returns early
    on sorted input): about 15 % of the parse of a 25-column record, measured.
    """
    return sorted(range(len(names)), key=lambda i: (len(names[i].encode()), names[i].encode()))


def json_records(columns: list[pa.Array], names: list[str]) -> pa.Array:
    """One JSON object per row (column name -> cell text), as COPY text, joined column-wise."""
    pieces: list[Any] = []
    for written, position in enumerate(jsonb_key_order(names)):
        key = _json_copy_text(names[position])
        pieces.append(('{"' if written == 0 else '","') + key + '":"')
        pieces.append(escaped_cells(columns[position].cast(pa.string())))
    pieces.append('"}')
    return pc.binary_join_element_wise(*pieces, "")


def _problem_fields(
    row_numbers: np.ndarray, problems: Mapping[int, list[dict[str, Any]]]
) -> tuple[pa.Array, pa.Array]:
    """``is_valid`` and ``errors`` fields: "t" and NULL, except for rows with import problems."""
    valid = np.full(len(row_numbers), "t", dtype=object)
    errors = np.full(len(row_numbers), COPY_NULL, dtype=object)
    if problems:
        position = {int(n): i for i, n in enumerate(row_numbers)}
        for row, listed in problems.items():
            if (i := position.get(int(row))) is not None:
                valid[i] = "f"
                errors[i] = copy_field(json.dumps(listed, ensure_ascii=False))
    return pa.array(valid, type=pa.string()), pa.array(errors, type=pa.string())


def _contiguous(lines: pa.Array) -> memoryview:
    """The bytes of a freshly built string array: its data buffer between its first and last offset."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def copy_lines(
    frame: pd.DataFrame,
    header: RawRowsHeader,
    problems: Mapping[int, list[dict[str, Any]]] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[memoryview]:
    """COPY text of every row of ``frame`` (index = file row number), in chunks of at most
    ``chunk_rows`` rows and about ``chunk_bytes`` bytes of cells (``chunk_bounds``).

    ``problems`` maps a row number to its import problems: that row is stored ``is_valid =
    false`` with them in ``errors`` (kept, not dropped: nothing the client sent is lost).
    """
    numbers = np.asarray(frame.index, dtype=np.int64)
    names = [str(name) for name in frame.columns]
    columns = [_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    row_bytes = np.full(len(frame), LINE_OVERHEAD + sum(len(n.encode()) + 6 for n in names), dtype=np.int64)
    for column in columns:
        row_bytes += np.asarray(pc.binary_length(column), dtype=np.int64)
    sheet = copy_field(header.sheet_name)
    for start, stop in chunk_bounds(row_bytes, chunk_bytes, chunk_rows):
        rows = numbers[start:stop]
        ids = pa.array([f"{header.id_prefix}{n:08x}" for n in rows.tolist()], type=pa.string())
        row_text = pa.array([str(n) for n in rows.tolist()], type=pa.string())
        valid, errors = _problem_fields(rows, problems or {})
        records = json_records([c.slice(start, stop - start) for c in columns], names)
        tab = "\t"
        lines = pc.binary_join_element_wise(
            ids, tab, sheet, tab, row_text, tab, records, tab, valid, tab, errors, "\n", ""
        )
        yield _contiguous(lines)
