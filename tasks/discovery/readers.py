"""Read an inventory export into string-typed frames, one per sheet.

The format is detected from the content (zip magic for XLSX, byte-order marks and
decoding for text), never from the file name. Every value stays a string: typing is
the cleansing step's job, and the raw record must keep what the client sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mfactory.errors import ImportFormatError

TEXT_ENCODINGS = ("utf-8", "cp1252")


@dataclass(frozen=True)
class SourceSheet:
    name: str  # "" for single-table files
    frame: pd.DataFrame


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str  # csv | xlsx
    sha256: str
    sheets: tuple[SourceSheet, ...]


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    for encoding in TEXT_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFormatError("not UTF-8, UTF-16 or cp1252 text", file=str(path))


def _read_text_table(text: str, path: Path) -> pd.DataFrame:
    sample = text[:64_000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    _check_header(header, path, "")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except pd.errors.ParserError as exc:
        raise ImportFormatError(f"malformed table: {exc}", file=str(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise ImportFormatError("file is empty", file=str(path)) from exc
    return _checked(frame, path, "")


def _check_header(header: list[str], path: Path, sheet: str) -> None:
    """Duplicate names must be caught on the raw header: pandas would rename them ``x.1``."""
    names = [str(h).strip() for h in header]
    duplicated = sorted({h for h in names if h and names.count(h) > 1})
    if duplicated:
        where = f"{path} [{sheet}]" if sheet else str(path)
        raise ImportFormatError(f"duplicate column names {duplicated}", file=where, row=1)


def _checked(frame: pd.DataFrame, path: Path, sheet: str) -> pd.DataFrame:
    where = f"{path} [{sheet}]" if sheet else str(path)
    headers = [str(c).strip() for c in frame.columns]
    blank = [i + 1 for i, h in enumerate(headers) if not h or h.startswith("Unnamed:")]
    if blank:
        raise ImportFormatError(f"header row has empty column name(s) at position {blank}", file=where, row=1)
    duplicated = sorted({h for h in headers if headers.count(h) > 1})
    if duplicated:
        raise ImportFormatError(f"duplicate column names {duplicated}", file=where, row=1)
    frame.columns = headers
    return frame


def read_source(path: Path) -> SourceFile:
    """Read ``path`` (CSV/TSV/XLSX in any common encoding) into string frames."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError("no such file", file=str(path))
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw.startswith(b"PK\x03\x04"):
        try:
            headers = pd.read_excel(io.BytesIO(raw), sheet_name=None, header=None, nrows=1, dtype=str)
            for name, first in headers.items():
                if not first.empty:
                    _check_header(first.iloc[0].fillna("").tolist(), path, str(name))
            book = pd.read_excel(io.BytesIO(raw), sheet_name=None, dtype=str, keep_default_na=False)
        except ImportFormatError:
            raise
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            raise ImportFormatError(f"unreadable workbook: {exc}", file=str(path)) from exc
        sheets = tuple(
            SourceSheet(name=name, frame=_checked(frame, path, name))
            for name, frame in book.items()
            if not frame.empty
        )
        return SourceFile(path=path, format="xlsx", sha256=digest, sheets=sheets)
    frame = _read_text_table(_decode(raw, path), path)
    return SourceFile(path=path, format="csv", sha256=digest, sheets=(SourceSheet(name="", frame=frame),))
