"""The memo between the cleansing and inventory steps: it may only ever save work.

An entry is taken once, under exactly the key it was kept with; any other phase run's entries
go when a new run keeps one; ``forget`` drops what a run left.
"""

from __future__ import annotations

import uuid

import pandas as pd

from tasks.discovery import cleansed_memo
from tasks.discovery.cleansing.engine import cleanse
from tasks.discovery.mapping.proposal import ColumnMapping

MAPPINGS = (ColumnMapping("VM", "asset_name", 1.0, "header"),)


def _kept(phase: uuid.UUID, sheet: str = "vInfo") -> cleansed_memo.MemoKey:
    return (phase, uuid.UUID(int=1), sheet, (MAPPINGS, (), 1))


def _entry() -> tuple[pd.DataFrame, object]:
    raw = pd.DataFrame({"VM": ["web01", ""]}, index=[2, 3])
    return raw, cleanse(raw, list(MAPPINGS), sheet_name="vInfo")


def test_an_entry_is_taken_once_and_only_by_its_key() -> None:
    phase = uuid.uuid4()
    raw, result = _entry()
    cleansed_memo.remember(_kept(phase), raw, result)  # type: ignore[arg-type]
    assert cleansed_memo.take(_kept(phase, "vHost")) is None
    other_mappings = (
        phase,
        uuid.UUID(int=1),
        "vInfo",
        ((ColumnMapping("VM", "hostname", 1.0, "header"),), (), 1),
    )
    assert cleansed_memo.take(other_mappings) is None
    taken = cleansed_memo.take(_kept(phase))
    assert taken is not None and taken[0] is raw and taken[1] is result
    assert list(taken[1].assets["asset_name"]) == ["web01"]  # the nameless row is rejected, as on a re-read
    assert cleansed_memo.take(_kept(phase)) is None


def test_a_new_phase_run_drops_the_last_ones_entries_and_forget_drops_its_own() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    cleansed_memo.remember(_kept(first), *_entry())  # type: ignore[arg-type]
    cleansed_memo.remember(_kept(second), *_entry())  # type: ignore[arg-type]
    assert cleansed_memo.take(_kept(first)) is None
    cleansed_memo.forget(second)
    assert cleansed_memo.take(_kept(second)) is None
