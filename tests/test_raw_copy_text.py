"""The COPY text of raw rows, decoded back the way PostgreSQL reads it (pure: no database)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.repositories.raw_copy_text import (
    LINE_COLUMNS,
    RawRowsHeader,
    chunk_bounds,
    copy_lines,
    jsonb_key_order,
)

HEADER = RawRowsHeader(sheet_name="v\tInfo\\x", id_prefix="0190f3a2-7b1c-7abc-8def-0123")
_COPY_ESCAPE = re.compile(r"\\(.)")
_COPY_CHARS = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def _field(text: str) -> str | None:
    """One COPY text-format field as the server reads it (``\\N`` is NULL)."""
    if text == "\\N":
        return None
    return _COPY_ESCAPE.sub(lambda m: _COPY_CHARS.get(m.group(1), m.group(1)), text)


def _decode(frame: pd.DataFrame, **kwargs: Any) -> list[dict[str, Any]]:
    text = b"".join(bytes(chunk) for chunk in copy_lines(frame, HEADER, **kwargs)).decode()
    assert text.endswith("\n") or not len(frame)
    rows = []
    for line in text.split("\n")[:-1]:  # COPY ends a line at \n only (not at \x85 or \u2028)
        fields = [_field(f) for f in line.split("\t")]
        assert len(fields) == len(LINE_COLUMNS)
        rows.append(dict(zip(LINE_COLUMNS, fields, strict=True)))
    return rows


def test_every_cell_survives_both_escapings() -> None:
    nasty = [
        'a"b',
        "back\\slash",
        "tab\there",
        "new\nline\r\n",
        "\x01bell\x1f",
        "é ü 中",
        "\\N",
        "",
        "=cmd|' /C calc'!A0",
    ]
    frame = pd.DataFrame(
        {"Host name": nasty, 'we"ird\\key': list(reversed(nasty))}, index=range(7, 7 + len(nasty))
    )
    rows = _decode(frame)
    assert [json.loads(r["record"]) for r in rows] == frame.to_dict("records")
    assert [int(r["row_number"]) for r in rows] == list(frame.index)
    assert {r["sheet_name"] for r in rows} == {HEADER.sheet_name}
    assert [r["id"] for r in rows] == [f"{HEADER.id_prefix}{n:08x}" for n in frame.index]
    assert {r["is_valid"] for r in rows} == {"t"} and {r["errors"] for r in rows} == {None}


def test_problems_mark_their_rows_invalid_and_travel_with_them() -> None:
    frame = pd.DataFrame({"a": ["1", "2", "3"]}, index=[2, 3, 4])
    problems = {3: [{"column": "B", "value": "x\ty", "reason": "spilled"}]}
    rows = _decode(frame, problems=problems)
    assert [r["is_valid"] for r in rows] == ["t", "f", "t"]
    assert json.loads(rows[1]["errors"]) == problems[3]
    assert rows[0]["errors"] is None


def test_chunks_split_rows_without_losing_or_reordering_any() -> None:
    frame = pd.DataFrame({"a": [str(i) for i in range(25)], "b": ["x"] * 25}, index=range(2, 27))
    assert len(list(copy_lines(frame, HEADER, chunk_rows=7))) == 4
    rows = _decode(frame, chunk_rows=7)
    assert [json.loads(r["record"])["a"] for r in rows] == frame["a"].tolist()


def test_missing_and_non_text_cells_become_text() -> None:
    frame = pd.DataFrame({"n": [1, 2], "s": [None, "x"]}, index=[2, 3])
    assert [json.loads(r["record"]) for r in _decode(frame)] == [{"n": "1", "s": ""}, {"n": "2", "s": "x"}]


def test_keys_leave_in_jsonb_storage_order() -> None:
    names = ["memory_gb", "os", "Zz", "aa", "é", "hostname"]
    ordered = [names[i] for i in jsonb_key_order(names)]
    assert ordered == ["Zz", "aa", "os", "é", "hostname", "memory_gb"]  # "é" is two bytes
    frame = pd.DataFrame({n: ["v"] for n in names}, index=[2])
    record = _decode(frame)[0]["record"]
    assert list(json.loads(record)) == ordered


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.text(max_size=12)),
        min_size=1,
        max_size=15,
    )
)
def test_any_text_round_trips(cells: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(cells, columns=["first", "second"]).replace("\x00", "", regex=True)
    frame.index = range(2, 2 + len(frame))
    assert [json.loads(r["record"]) for r in _decode(frame)] == frame.to_dict("records")


@pytest.mark.parametrize("dtype", [object, "str"])
def test_object_and_arrow_backed_columns_give_the_same_text(dtype: Any) -> None:
    frame = pd.DataFrame({"a": ["x", 'y"', "z\\"], "b": ["1", "2", "3"]}, index=[2, 3, 4], dtype=dtype)
    plain = pd.DataFrame({"a": ["x", 'y"', "z\\"], "b": ["1", "2", "3"]}, index=[2, 3, 4], dtype=object)
    assert _decode(frame) == _decode(plain)


def test_chunk_bounds_cap_rows_and_bytes_and_give_a_huge_row_its_own_chunk() -> None:
    sizes = np.array([10, 10, 10, 500, 10, 10, 10, 10, 10])
    assert chunk_bounds(sizes, max_bytes=30, max_rows=100) == [(0, 3), (3, 4), (4, 7), (7, 9)]
    assert chunk_bounds(sizes, max_bytes=10_000, max_rows=4) == [(0, 4), (4, 8), (8, 9)]
    assert chunk_bounds(np.array([], dtype=np.int64), max_bytes=10, max_rows=10) == []


def test_wide_or_long_rows_split_by_bytes_keep_every_row() -> None:
    frame = pd.DataFrame(
        {"a": ["x" * 300, "y", "z" * 50, "w"], "b": ["1", "2", "3", "4"]}, index=[2, 3, 4, 5]
    )
    chunks = list(copy_lines(frame, HEADER, chunk_bytes=200))
    assert len(chunks) == 4  # no two neighbouring rows fit in 200 bytes (cells, keys and line)
    assert [json.loads(r["record"]) for r in _decode(frame, chunk_bytes=200)] == frame.to_dict("records")
