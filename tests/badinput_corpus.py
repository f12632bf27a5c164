"""A corpus of malformed inventory files, built on the fly (nothing large or binary is committed).

Each case says what a careful reader must do with the file: refuse it with an ``ImportFormatError``
that names the file (and the row/column where one applies), or read it and keep every row, the bad
ones listed as rejects with their row numbers. Nothing in between: no other exception, no lost row.
The flow tests pick a few of these and run them through the real discovery phase.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

GOOD_HEADER = "name,ip_address,os,cpu_cores,memory_gb"
GOOD_ROWS = ["vm-a,10.0.0.1,RHEL 8,2,4", "vm-b,10.0.0.2,Windows Server 2019,4,8"]
BIG_CELL_CHARS = 10 * 1024 * 1024
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|'/C calc'!A0",
]
SQL_STRINGS = [
    "'; DROP TABLE assets;--",
    'vm-x"; DELETE FROM migration.assets; --',
    "1' OR '1'='1",
    "$$; TRUNCATE x; $$",
]


@dataclass(frozen=True)
class Case:
    """One malformed file: how to build it and what reading it must give.

    ``error`` is a regex the ``ImportFormatError`` message must match (None: the file is readable);
    ``row``/``column`` are where the error must point. For readable files, ``rows`` are the row
    numbers the read keeps (every data row of the file) and ``rejected`` those listed as rejects.
    """

    name: str
    build: Callable[[Path], Path]
    error: str | None = None
    row: int | None = None
    column: str | None = None
    rows: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    values: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, column) -> exact value kept
    sheet_in_file: str | None = None  # the error names this sheet/member after the file name


def _bytes(filename: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / filename
        path.write_bytes(data() if callable(data) else data)
        return path

    return build


def _text(
    filename: str, lines: list[str], encoding: str = "utf-8", newline: str = "\n"
) -> Callable[[Path], Path]:
    return _bytes(filename, lambda: (newline.join(lines) + newline).encode(encoding))


def _workbook(filename: str, sheets: dict[str, list[list[object]]]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        book = Workbook()
        book.remove(book.active)
        for title, grid in sheets.items():
            sheet = book.create_sheet(title)
            for row in grid:
                sheet.append(row)
        path = folder / filename
        book.save(path)
        return path

    return build


def _good_xlsx_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "servers"
    sheet.append(GOOD_HEADER.split(","))
    for line in GOOD_ROWS * 50:
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip(
    filename: str, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED
) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / filename
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return path

    return build


def _zip_bomb_xlsx(folder: Path) -> Path:
    """A workbook whose one worksheet inflates 64 MiB of blanks from about 64 KiB (1,000 to 1).

    Written in streamed chunks, so neither the test nor the file on disk ever holds the 64 MiB.
    """
    path = folder / "inventory.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", b'<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(64):
                sheet.write(chunk)
    return path


def _lying(build: Callable[[Path], Path], member: str, declared: int | None = None) -> Callable[[Path], Path]:
    """``build``'s zip with ``member`` tampered: its declared size set to ``declared`` (local header
    and central directory alike, so every reader sees the lie), or else its deflate data garbled."""

    def tampered(folder: Path) -> Path:
        path = build(folder)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            info = archive.getinfo(member)
        name = member.encode()
        if declared is None:
            start = info.header_offset + 30 + len(name) + len(info.extra)
            data[start : start + 16] = b"\xff" * 16  # not a deflate stream any more
        else:
            struct.pack_into("<L", data, info.header_offset + 22, declared)
            central = data.find(b"PK\x01\x02")
            while central != -1:
                length = struct.unpack_from("<H", data, central + 28)[0]
                if bytes(data[central + 46 : central + 46 + length]) == name:
                    struct.pack_into("<L", data, central + 24, declared)
                central = data.find(b"PK\x01\x02", central + 4)
        path.write_bytes(bytes(data))
        return path

    return tampered


CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
CP1252_DECODABLE_HIGH = bytes(b for b in range(0x80, 0x100) if b not in CP1252_UNDEFINED)


def _random_bytes(seed: int, size: int, alphabet: bytes) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(alphabet) for _ in range(size))


def _big_cell() -> bytes:
    lines = [GOOD_HEADER, GOOD_ROWS[0], "vm-big,10.0.0.9,RHEL 9,2," + "9" * BIG_CELL_CHARS, GOOD_ROWS[1]]
    return ("\n".join(lines) + "\n").encode()


def _text_with_late_nul() -> bytes:
    rows = [f"vm-{i:05d},10.0.{i // 250}.{i % 250},RHEL 8,2,4" for i in range(3000)]
    rows[2500] = "vm-\x00nul,10.0.9.9,RHEL 8,2,4"  # beyond the first 64 KiB
    return ("\n".join([GOOD_HEADER, *rows]) + "\n").encode()


def _thousand_columns() -> bytes:
    header = ["name", "os"] + [f"attribute_{i:04d}" for i in range(998)]
    rows = [[f"vm-{r}", "RHEL 8"] + [str(r * i) for i in range(998)] for r in range(5)]
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


def _mixed_encoding() -> bytes:
    return (
        GOOD_HEADER.encode()
        + b"\n"
        + "vm-caf\u00e9,10.0.0.1,RHEL 8,2,4\n".encode("utf-8")
        + "vm-na\u00efve,10.0.0.2,RHEL 8,2,4\n".encode("cp1252")
    )


ROWS_2_3 = (2, 3)

DEFLATED_BUNDLE = _zip(
    "export.zip",
    {"inventory.csv": ("\n".join([GOOD_HEADER, *GOOD_ROWS * 500]) + "\n").encode()},
    compression=zipfile.ZIP_DEFLATED,
)

CASES: list[Case] = [
    # --- nothing to read ---
    Case("empty", _bytes("inventory.csv", b""), error="empty"),
    Case("whitespace-only", _bytes("inventory.csv", b" \r\n\t\r\n\n"), error="empty"),
    Case("bom-only", _bytes("inventory.csv", b"\xef\xbb\xbf"), error="empty"),
    Case("utf16-bom-only", _bytes("inventory.csv", b"\xff\xfe"), error="empty"),
    Case("header-only", _text("inventory.csv", [GOOD_HEADER]), error="no data rows", row=2),
    Case(
        "header-then-blank-lines",
        _text("inventory.csv", [GOOD_HEADER, "", "", ",,,,"]),
        error="no data rows",
        row=2,
    ),
    Case("delimiters-only", _text("inventory.csv", [",,,,", " , ,,", ",,,,"]), error="no header row"),
    Case(
        "random-bytes",
        _bytes("inventory.csv", lambda: _random_bytes(6, 20_000, bytes(range(1, 256)))),
        error="binary|not text",
        row=1,
    ),
    Case("missing-file", lambda folder: folder / "absent.csv", error="no such file"),
    Case(
        "empty-folder",
        lambda folder: (folder / "export").mkdir() or folder / "export",
        error="holds no table",
    ),
    # --- not a table at all ---
    Case(
        "binary-with-nul",
        _bytes("inventory.csv", lambda: _random_bytes(1, 20_000, bytes(range(256)))),
        error="binary",
        row=1,
    ),
    Case(
        "binary-without-nul",
        _bytes(
            "inventory.csv", lambda: _random_bytes(2, 20_000, bytes(range(32, 127)) + CP1252_DECODABLE_HIGH)
        ),
        error="binary",
        row=1,
    ),
    Case(
        "binary-high-bytes",
        _bytes("inventory.csv", lambda: _random_bytes(3, 20_000, CP1252_DECODABLE_HIGH)),
        error="binary",
        row=1,
    ),
    Case(
        "png-image",
        _bytes("inventory.csv", b"\x89PNG\r\n\x1a\n" + _random_bytes(4, 4000, bytes(range(256)))),
        error="binary",
        row=1,
    ),
    Case(
        "gzip",
        _bytes("inventory.csv", lambda: gzip.compress(b"name,os\nvm-1,RHEL\n" * 100)),
        error="binary",
        row=1,
    ),
    Case("pdf", _bytes("inventory.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), error="PDF"),
    Case(
        "legacy-xls",
        _bytes("inventory.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),
        error=".xls",
    ),
    Case("json", _bytes("inventory.csv", b'[{"name": "vm-1", "os": "RHEL"}]'), error="JSON", row=1),
    Case(
        "xml",
        _bytes("inventory.csv", b"<?xml version='1.0'?><servers><vm name='a'/></servers>"),
        error="XML/HTML",
        row=1,
    ),
    # --- header problems ---
    Case(
        "duplicate-headers",
        _text("inventory.csv", ["name,os,name", "vm-a,RHEL,vm-b"]),
        error="duplicate",
        row=1,
    ),
    Case(
        "duplicate-headers-after-trim",
        _text("inventory.csv", ["name,os, name ", "vm-a,RHEL,vm-b"]),
        error="duplicate",
        row=1,
    ),
    Case(
        "ten-mb-column-name",
        _bytes("inventory.csv", lambda: ("name,os," + "x" * BIG_CELL_CHARS + "\nvm-a,RHEL,1\n").encode()),
        error="column name of 10,485,760 characters",
        row=1,
        column="C",
    ),
    Case(
        "no-header-values-only", _text("inventory.csv", GOOD_ROWS), error="no header row", row=1, column="B"
    ),
    Case(
        "unnamed-column-with-values",
        _text("inventory.csv", ["name,,os", "vm-a,x,RHEL"]),
        error="empty column name",
        row=1,
        column="B",
    ),
    # --- encodings ---
    Case(
        "undecodable-bytes",
        _bytes("inventory.csv", GOOD_HEADER.encode() + b"\nvm-a,10.0.0.1,\x81\x8d\x8f,2,4\n"),
        error="undecodable",
        row=2,
    ),
    Case(
        "broken-utf16",
        _bytes("inventory.csv", b"\xff\xfe" + "name,os\nvm-a,RHEL\n".encode("utf-16-le") + b"\x00\xd8"),
        error="not text",
        row=3,
    ),
    Case(
        "utf16-without-bom",
        _text("inventory.csv", [GOOD_HEADER, *GOOD_ROWS], encoding="utf-16-le"),
        rows=ROWS_2_3,
    ),
    Case(
        "cp1252",
        _text("inventory.csv", [GOOD_HEADER, "vm-caf\u00e9,10.0.0.1,RHEL 8,2,4"], encoding="cp1252"),
        rows=(2,),
        values={(2, "name"): "vm-caf\u00e9"},
    ),
    Case("mixed-utf8-and-cp1252", _bytes("inventory.csv", _mixed_encoding()), error="mixed encodings", row=3),
    Case("nul-after-64k", _bytes("inventory.csv", _text_with_late_nul), error="NUL|binary", row=2502),
    # --- structure ---
    Case("single-word", _bytes("inventory.csv", b"hello"), error="no data rows", row=2),
    Case(
        "old-mac-line-endings",
        _bytes("inventory.csv", (GOOD_HEADER + "\r" + "\r".join(GOOD_ROWS) + "\r").encode()),
        rows=ROWS_2_3,
        values={(3, "os"): "Windows Server 2019"},
    ),
    Case(
        "unclosed-quote",
        _text("inventory.csv", [GOOD_HEADER, 'vm-a,10.0.0.1,"RHEL 8,2,4', GOOD_ROWS[1]]),
        error="never closed",
        row=2,
    ),
    Case(
        "extra-cells",
        _text("inventory.csv", [GOOD_HEADER, GOOD_ROWS[0] + ",surplus", GOOD_ROWS[1]]),
        rows=ROWS_2_3,
        rejected=(2,),
    ),
    Case(
        "short-rows",
        _text("inventory.csv", [GOOD_HEADER, "vm-a,10.0.0.1", GOOD_ROWS[1]]),
        rows=ROWS_2_3,
        values={(2, "os"): ""},
    ),
    Case("ten-mb-single-cell", _bytes("inventory.csv", _big_cell), rows=(2, 3, 4), rejected=(3,)),
    Case(
        "thousand-columns",
        _bytes("inventory.csv", _thousand_columns),
        rows=(2, 3, 4, 5, 6),
        values={(6, "attribute_0997"): str(4 * 997)},
    ),
    # --- hostile values: kept verbatim, never executed or lost ---
    Case(
        "formula-injection",
        _text(
            "inventory.csv", [GOOD_HEADER] + [f'"{f}",10.0.0.{i},RHEL 8,2,4' for i, f in enumerate(FORMULAS)]
        ),
        rows=(2, 3, 4, 5),
        values={(2, "name"): FORMULAS[0], (5, "name"): FORMULAS[3]},
    ),
    Case(
        "sql-strings",
        _text(
            "inventory.csv",
            [GOOD_HEADER]
            + ['"' + s.replace('"', '""') + f'",10.0.0.{i},RHEL 8,2,4' for i, s in enumerate(SQL_STRINGS)],
        ),
        rows=(2, 3, 4, 5),
        values={(2, "name"): SQL_STRINGS[0], (3, "name"): SQL_STRINGS[1]},
    ),
    Case(
        "mixed-units",
        _text(
            "inventory.csv",
            [
                "name,memory,disk",
                "vm-a,4 GB,100 GB",
                "vm-b,4096 MB,102400 MiB",
                "vm-c,8GiB,1 TB",
                "vm-d,lots,-5",
            ],
        ),
        rows=(2, 3, 4, 5),
        values={(3, "memory"): "4096 MB"},
    ),
    Case(
        "control-characters",
        _text("inventory.csv", [GOOD_HEADER, "vm-\x1b[31ma,10.0.0.1,RHEL\x07,2,4"]),
        rows=(2,),
        values={(2, "name"): "vm-\x1b[31ma"},
    ),
    # --- workbooks and bundles ---
    Case("truncated-xlsx", _bytes("inventory.xlsx", lambda: _good_xlsx_bytes()[:1500]), error="zip|workbook"),
    Case(
        "xlsx-no-header-anywhere",
        _workbook("inventory.xlsx", {"empty": [], "blank": [[None, None], [None]]}),
        error="no sheet has a header row",
    ),
    Case(
        "xlsx-header-only",
        _workbook("inventory.xlsx", {"servers": [GOOD_HEADER.split(",")]}),
        error="no sheet has a header row",
    ),
    Case(
        "xlsx-values-only",
        _workbook("inventory.xlsx", {"servers": [r.split(",") for r in GOOD_ROWS]}),
        error="no header row",
        row=1,
        column="B",
        sheet_in_file="servers",
    ),
    Case(
        "xlsx-duplicate-headers",
        _workbook("inventory.xlsx", {"servers": [["name", "os", "name"], ["a", "b", "c"]]}),
        error="duplicate",
        row=1,
        sheet_in_file="servers",
    ),
    Case(
        "xlsx-nul-escape-in-cell",
        _workbook("inventory.xlsx", {"servers": [["name", "os"], ["vm-a", "RHEL"], ["vm_x0000_b", "RHEL"]]}),
        error="NUL",
        row=3,
        column="A",
        sheet_in_file="servers",
    ),
    Case(
        "xlsx-zip-bomb",
        _zip_bomb_xlsx,
        error=r"sheet1\.xml.* to 1, limit 100 to 1\): refused as a zip bomb",
    ),
    Case(
        "xlsx-zip-bomb-lying-size",
        _lying(_zip_bomb_xlsx, "xl/worksheets/sheet1.xml", declared=60_000),
        error=r"sheet1\.xml' declares 60,000 bytes but inflates to more.*refused as a zip bomb",
    ),
    Case(
        "zip-bundle-lying-size",
        _lying(DEFLATED_BUNDLE, "inventory.csv", declared=100),
        error=r"'inventory\.csv' declares 100 bytes but inflates to more",
    ),
    Case(
        "zip-member-garbled",
        _lying(DEFLATED_BUNDLE, "inventory.csv"),
        error=r"broken zip member 'inventory\.csv'",
    ),
    Case(
        "zip-inside-zip",
        _zip("export.zip", {"inner.zip": b"PK\x03\x04 nested archive"}),
        error="unreadable workbook",
        sheet_in_file="inner.zip",
    ),
    Case(
        "xlsx-parts-without-workbook",
        _zip("inventory.xlsx", {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"garbage"}),
        error="unreadable workbook",
    ),
    Case(
        "zip-without-tables",
        _zip("export.zip", {"readme.txt": b""}),
        error="empty",
        sheet_in_file="readme.txt",
    ),
    Case(
        "zip-with-garbage-member",
        _zip(
            "export.zip",
            {
                "vmInfo.csv": b"MachineId,MachineName\nm-1,vm-1\n",
                "diskInfo.csv": _random_bytes(5, 5000, bytes(range(1, 256))),
            },
        ),
        error="binary|not text",
        row=1,
        sheet_in_file="diskInfo.csv",
    ),
]
