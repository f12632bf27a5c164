"""Planning a file's confirmations (pure: no database, no embedder)."""

from __future__ import annotations

import pandas as pd
import pytest

from mfactory.errors import MappingError
from tasks.discovery.mapping.proposal import ColumnMapping
from tasks.discovery.mapping_confirm import Answer, parse_answer, plan_confirmations


def _proposal(source: str, field: str | None, unit: str | None = None) -> tuple[ColumnMapping, pd.Series]:
    return ColumnMapping(source, field, 0.6, "scored", unit=unit), pd.Series(["a"] * 300)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VM=asset_name", ("VM", Answer("asset_name"))),
        ("Memory = memory_gb:MiB", ("Memory", Answer("memory_gb", "MiB"))),
        ("Notes=unmapped", ("Notes", Answer(None))),
        ("a=b=cpu_cores", ("a=b", Answer("cpu_cores"))),
    ],
)
def test_answers_parse(text: str, expected: tuple[str, Answer]) -> None:
    assert parse_answer(text) == expected


@pytest.mark.parametrize("text", ["VM", "=asset_name", "VM=", "VM=:MiB"])
def test_malformed_answers_are_refused(text: str) -> None:
    with pytest.raises(MappingError, match="COLUMN=FIELD"):
        parse_answer(text)


def test_accept_all_confirms_mapped_proposals_and_answers_win() -> None:
    proposals = [
        _proposal("VM", "asset_name"),
        _proposal("Memory", "memory_gb", "MiB"),
        _proposal("Notes", None),
        _proposal("Brains", None),
    ]
    decisions = plan_confirmations(proposals, {"Brains": Answer("cpu_cores")}, accept_all=True)
    found = {d.column: (d.proposed, d.field, d.unit, d.action, len(d.values)) for d in decisions}
    assert found == {
        "VM": ("asset_name", "asset_name", None, "mapping_confirmed", 200),
        "Memory": ("memory_gb", "memory_gb", "MiB", "mapping_confirmed", 200),
        "Brains": (None, "cpu_cores", None, "mapping_override", 200),
    }  # "Notes" was proposed unmapped and not answered: not learned
    assert plan_confirmations(proposals, {}, accept_all=False) == []


def test_a_header_proposed_differently_on_two_sheets_needs_an_answer() -> None:
    proposals = [_proposal("Name", "asset_name"), _proposal("Name", "hostname")]
    with pytest.raises(MappingError, match="different sheets"):
        plan_confirmations(proposals, {}, accept_all=True)
    decided = plan_confirmations(proposals, {"Name": Answer("hostname")}, accept_all=True)
    assert [(d.column, d.field) for d in decided] == [("Name", "hostname")]
