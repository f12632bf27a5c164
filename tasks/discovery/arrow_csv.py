"""Parse a regular delimited text with pyarrow's C++ reader, or say that it cannot.

The ``csv`` module reads every text the importer accepts, but turning 100,000 x 25 cells into
Python lists and then into a DataFrame costs most of a second: more than the COPY that follows.
pyarrow reads the same bytes about ten times faster into string columns that pandas keeps without
a Python object per cell. It tokenises like the ``csv`` module (same delimiter, ``"`` quotes with
doubled quotes inside, a quoted cell may hold line breaks, ``\\r``, ``\\n`` and ``\\r\\n`` end a
record, a blank line is a record of empty cells) but refuses what the importer must still read:
a row wider or narrower than the header, a cell larger than a block. Those texts return None and
the caller reads them with the ``csv`` module, which knows how to report them row by row.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv

#: A record (a row with its quoted line breaks) must fit in one block; 16 MiB holds any row whose
#: cells are within the importer's cell limit, and a wider one falls back to the csv module.
BLOCK_BYTES = 16 << 20


def read_string_table(data: bytes, delimiter: str, width: int) -> pa.Table | None:
    """Every record of UTF-8 ``data`` (header included) as ``width`` string columns ``c0..``, or None.

    Nothing is typed, nothing becomes null: an empty cell, quoted or not, is ``""``. Column names are
    positional because the header is checked and named by the caller, as for every other table.
    """
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},  # what pandas keeps
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except pa.ArrowException:  # ragged row, a record larger than a block, ...: not the regular case
        return None
