"""The pyarrow reader of regular delimited text gives exactly what the csv module path gives.

``read_source(..., text_reader=...)`` forces one parser: "csv" is the csv module path (the reference),
"arrow" the pyarrow path (a ValueError when the text is not one it may take), "auto" what the importer
runs. For every file here the outcome must be identical: the same frames (values, dtype, columns,
row numbers), rejects, notes and header row, or the same ImportFormatError (message, file, row,
column). Regular files must really take the pyarrow path, irregular ones must really be refused by
it: otherwise the comparison would hold the csv module to itself. Pure: no database or Prefect.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from mfactory.errors import ImportFormatError
from tasks.discovery import readers
from tasks.discovery.readers import MAX_CELL_CHARS, STRING_DTYPE, SourceFile, read_source
from tests.badinput_corpus import CASES, Case
from tests.exports import MAPPING_DIR

Outcome = SourceFile | tuple[str, str | None, int | None, str | None]


def _outcome(path: Path, text_reader: str) -> Outcome:
    try:
        return read_source(path, text_reader=text_reader)
    except ImportFormatError as error:
        return (str(error), error.file, error.row, error.column)


def _assert_same(path: Path, reader: str) -> None:
    """``reader`` reads ``path`` exactly as the csv module path does."""
    expected, actual = _outcome(path, "csv"), _outcome(path, reader)
    if not isinstance(expected, SourceFile) or not isinstance(actual, SourceFile):
        assert actual == expected
        return
    assert (actual.format, actual.container, actual.sha256, actual.label) == (
        expected.format,
        expected.container,
        expected.sha256,
        expected.label,
    )
    assert len(actual.sheets) == len(expected.sheets)
    for got, want in zip(actual.sheets, expected.sheets, strict=True):
        assert_frame_equal(got.frame, want.frame, check_exact=True)
        assert_frame_equal(got.rejects, want.rejects, check_exact=True)
        assert got.notes == want.notes
        assert got.metadata() == want.metadata()


def _takes_arrow(path: Path) -> bool:
    try:
        read_source(path, text_reader="arrow")
    except ValueError as error:
        assert "not a regular table" in str(error)
        return False
    return True


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


HEADER = ["Name", "OS", "Notes", "CPUs"]
ROWS = [
    ["vm-1", "RHEL 8", "plain", "2"],
    ["vm-2", "Windows Server 2019", 'line one\nline "two"', "4"],  # quoted, with a line break
    ["vm-3", "", "", ""],  # empty cells stay ""
    ["vm-4", "Ubuntu", "crlf\r\ninside", "8"],
    ["", "", "", ""],  # a row of empty cells: counted as blank, not imported
    ["vm-5", "SLES; 15", "a,b\tc", "16"],  # every candidate delimiter inside a quoted cell
    ["vm-6", "Café Über", "naïve €", "1"],  # non-ASCII, and in cp1252 too
]


def _text(
    delimiter: str = ",", end: str = "\n", rows: list[list[str]] = ROWS, header: list[str] = HEADER
) -> str:
    def cell(value: str) -> str:
        if any(ch in value for ch in ',;\t"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(cell(v) for v in row) + end for row in [header, *rows])


REGULAR: dict[str, bytes] = {
    "comma.csv": _text().encode(),
    "semicolon.csv": _text(";").encode(),
    "tab.tsv": _text("\t").encode(),
    "pipe.csv": _text("|").encode(),
    "crlf.csv": _text(end="\r\n").encode(),
    "cr-only.csv": _text(end="\r").encode(),
    "no-final-newline.csv": _text().rstrip("\n").encode(),
    "utf8-bom.csv": b"\xef\xbb\xbf" + _text().encode(),
    "cp1252.csv": _text(";").encode("cp1252"),
    "utf16-le-bom.csv": _text("\t", "\r\n").encode("utf-16"),
    "utf16-be-bom.csv": b"\xfe\xff" + _text().encode("utf-16-be"),
    "utf16-le-no-bom.csv": _text().encode("utf-16-le"),
    "long-cells.csv": _text(
        rows=[*ROWS, ["vm-7", "x" * (MAX_CELL_CHARS + 1), "é" * MAX_CELL_CHARS, "y" * 40_000]]
    ).encode(),
    "many-blank-rows.csv": _text(rows=[*ROWS, *([["", "", "", ""]] * 3), ["vm-9", "a", "b", "c"]]).encode(),
    "padded-header.csv": _text(header=[" Name ", '"OS"', "Notes ", "CPUs"]).encode(),
    "blank-line.csv": (_text() + "\nvm-10,a,b,c\n").encode(),
    "blank-line-inside.csv": _text().replace("vm-3", "\nvm-3").encode(),
    "row-over-a-block.csv": _text(
        rows=[["vm-1", "x" * (17 << 20), "", ""], ["vm-2", "a", "b", "c"]]
    ).encode(),
}
IRREGULAR: dict[str, bytes] = {
    "ragged-short.csv": (_text() + "vm-10,a\n").encode(),
    "ragged-long.csv": (_text() + "vm-10,a,b,c,spill\n").encode(),
    "ragged-empty-spill.csv": (_text() + "vm-10,a,b,c,,\n").encode(),
    "trailing-delimiter.csv": _text().replace("\n", ",\n").encode(),
    "preamble.csv": ("Exported by a tool\n,,,\n" + _text()).encode(),
    "one-column.csv": b"name\nvm-1\nvm-2\n",
    "unclosed-quote.csv": (_text() + 'vm-10,a,"never closed\nmore,stuff\n').encode(),
    "empty-header-name.csv": _text(header=["Name", "", "Notes", "CPUs"]).encode(),
    "duplicate-header.csv": _text(header=["Name", "OS", "OS", "CPUs"]).encode(),
    "values-as-header.csv": _text(header=["10.0.0.1", "12", "13", "x"]).encode(),
    "header-only.csv": _text(rows=[]).encode(),
    "only-blank-rows.csv": _text(rows=[["", "", "", ""]] * 2).encode(),
}


@pytest.mark.parametrize("name", sorted(REGULAR))
def test_regular_text_takes_pyarrow_and_reads_the_same(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, REGULAR[name])
    assert _takes_arrow(path)
    _assert_same(path, "arrow")
    _assert_same(path, "auto")


@pytest.mark.parametrize("name", sorted(IRREGULAR))
def test_irregular_text_is_left_to_the_csv_module(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, IRREGULAR[name])
    assert not _takes_arrow(path)
    _assert_same(path, "auto")


def test_both_paths_count_rows_and_rejects_as_a_person_sees_them(tmp_path: Path) -> None:
    """Row numbers count records (a quoted line break stays in its row); blank rows count, unimported."""
    sheet = read_source(_write(tmp_path, "t.csv", REGULAR["long-cells.csv"]), text_reader="arrow").sheets[0]
    assert list(sheet.frame.index) == [2, 3, 4, 5, 7, 8, 9]
    assert sheet.notes["blank_rows"] == 1
    assert list(zip(sheet.rejects["row_number"], sheet.rejects["column"], strict=True)) == [
        (9, "OS"),
        (9, "CPUs"),
    ]
    assert sheet.frame.at[3, "Notes"] == 'line one\nline "two"'
    assert sheet.frame.at[4, "OS"] == ""


@pytest.mark.parametrize("path", sorted(MAPPING_DIR.glob("*.csv")), ids=lambda p: p.name)
def test_shared_vendor_files_take_pyarrow_and_read_the_same(path: Path) -> None:
    assert _takes_arrow(path)
    _assert_same(path, "auto")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_malformed_corpus_reads_or_fails_the_same(tmp_path: Path, case: Case) -> None:
    path = case.build(tmp_path)
    _assert_same(path, "auto")


def test_random_texts_read_the_same(tmp_path: Path) -> None:
    """Seeded texts of well- and ill-formed quoting, blank and empty rows, mixed line ends."""
    rng = random.Random(4)
    pieces = ["a", "b c", "", '"q"', '"a,b"', '"x\ny"', '"x\r\ny"', '"x""y"', 'ab"c', '"ab"c', ' "ab"']
    pieces += ['"ab" ', '"', '""', '"""', "é", "\r", "  ", '"a\rb"']
    fast = 0
    for n in range(300):
        delimiter = rng.choice([",", ";", "\t"])
        lines = [delimiter.join(["h1", "h2", "h3"])]
        for _ in range(rng.randint(1, 6)):
            draw = rng.random()
            cells = ["", "", ""] if draw < 0.1 else [rng.choice(pieces) for _ in range(3)]
            lines.append("" if draw < 0.05 else delimiter.join(cells))
        text = "".join(line + rng.choice(["\n", "\n", "\r\n", "\r"]) for line in lines)
        path = _write(tmp_path, f"r{n}.csv", text.encode())
        fast += _takes_arrow(path)
        _assert_same(path, "auto")
    assert fast > 100  # most of them really compared pyarrow with the csv module


def test_frames_are_pyarrow_backed_strings_whatever_the_reader(tmp_path: Path) -> None:
    regular = _write(tmp_path, "r.csv", REGULAR["comma.csv"])
    irregular = _write(tmp_path, "i.csv", IRREGULAR["ragged-long.csv"])
    for path, text_reader in [(regular, "arrow"), (regular, "csv"), (irregular, "auto")]:
        frame = read_source(path, text_reader=text_reader).sheets[0].frame
        assert all(dtype == STRING_DTYPE for dtype in frame.dtypes)
        assert frame.columns.dtype == STRING_DTYPE
        assert frame.index.dtype == "int64"


def test_unknown_text_reader_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="text_reader"):
        read_source(_write(tmp_path, "r.csv", REGULAR["comma.csv"]), text_reader="fast")
    assert readers.TEXT_READERS == ("auto", "csv", "arrow")
