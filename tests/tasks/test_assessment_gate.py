"""The assessment gate (expectations/assessment.json) on hand-built frames, through real GX.

Each rule is shown to pass on a sound plan and to fail on the one violation it exists for, so a
rule that could never fail (a typo in a column name, a condition that filters every row) shows up
here rather than in production.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pandas as pd
import pytest

from db.models.assets import SIX_R
from tasks.quality import EXPECTATIONS_DIR, MAIN_FRAME, QualityGateFailed, suite_frames, validate_frames

SUITE = "assessment"


def assets(n: int = 4, **changes: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": [uuid.uuid4() for _ in range(n)],
            "asset_name": [f"srv{i}" for i in range(n)],
            "six_r_strategy": ["rehost", "replatform", "retire", "retain"][:n],
            "six_r_rationale": ["rule r1"] * n,
            "six_r_confidence": [0.9] * n,
            "wave_id": [None] * n,
            "wave_number": [None] * n,
            "wave_size": [None] * n,
            "max_size": [None] * n,
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def waves(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Wave rows as the gate query returns them; unspecified fields describe a sound wave."""
    base = {
        "recorded_assets": 2,
        "member_assets": 2,
        "members_of_other_runs": 0,
        "max_servers": 2,
        "max_ram_milli_gb": None,
        "max_storage_milli_gb": None,
        "ram_milli_gb": 16_000,
        "storage_milli_gb": 200_000,
        "planner_note": None,
        "overflow_explained": False,
    }
    records = [{"id": uuid.uuid4(), "number": i + 1, **base, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(records, columns=["id", "number", *base])


def validate(main: pd.DataFrame, wave_frame: pd.DataFrame) -> dict[str, Any]:
    return validate_frames(SUITE, {MAIN_FRAME: main, "waves": wave_frame})


def failed(summary: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(r["frame"], r["expectation"], r["column"]) for r in summary["results"] if not r["success"]}


def test_a_sound_plan_passes_and_the_suite_checks_both_frames() -> None:
    summary = validate(assets(), waves([{}, {"member_assets": 1, "recorded_assets": 1}]))
    assert summary["success"], failed(summary)
    assert suite_frames(SUITE) == [MAIN_FRAME, "waves"]
    assert {r["frame"] for r in summary["results"]} == {MAIN_FRAME, "waves"}
    evaluated = summary["statistics"]["evaluated_expectations"]
    assert evaluated == len(json.loads((EXPECTATIONS_DIR / "assessment.json").read_text())["expectations"])


def test_no_waves_at_all_is_fine_when_nothing_moves() -> None:
    summary = validate(assets(2, six_r_strategy=["retire", "retain"]), waves([]))
    assert summary["success"], failed(summary)


def test_the_allowed_strategies_are_exactly_the_models() -> None:
    spec = json.loads((EXPECTATIONS_DIR / "assessment.json").read_text())
    sets = [e["kwargs"]["value_set"] for e in spec["expectations"] if e["type"].endswith("_in_set")]
    assert sets == [list(SIX_R)]


@pytest.mark.parametrize(
    ("strategies", "rule"),
    [
        (["rehost", None, "retire", "retain"], "expect_column_values_to_not_be_null"),
        (["rehost", "lift-and-pray", "retire", "retain"], "expect_column_values_to_be_in_set"),
    ],
)
def test_an_asset_without_a_valid_strategy_fails(strategies: list[str | None], rule: str) -> None:
    summary = validate(assets(six_r_strategy=strategies), waves([{}]))
    assert failed(summary) == {(MAIN_FRAME, rule, "six_r_strategy")}


def test_an_asset_listed_twice_fails() -> None:
    frame = assets()
    frame.loc[3, "id"] = frame.loc[0, "id"]
    assert failed(validate(frame, waves([{}]))) == {(MAIN_FRAME, "expect_column_values_to_be_unique", "id")}


@pytest.mark.parametrize(
    ("wave", "rule", "column"),
    [
        (
            {"member_assets": 3, "recorded_assets": 3},
            "expect_column_pair_values_a_to_be_greater_than_b",
            "max_servers, member_assets",
        ),
        (
            {"max_ram_milli_gb": 15_999},
            "expect_column_pair_values_a_to_be_greater_than_b",
            "max_ram_milli_gb, ram_milli_gb",
        ),
        (
            {"max_storage_milli_gb": 100_000},
            "expect_column_pair_values_a_to_be_greater_than_b",
            "max_storage_milli_gb, storage_milli_gb",
        ),
    ],
)
def test_a_wave_over_a_limit_the_planner_did_not_explain_fails(
    wave: dict[str, Any], rule: str, column: str
) -> None:
    summary = validate(assets(), waves([{}, wave]))
    assert failed(summary) == {("waves", rule, column)}
    with pytest.raises(QualityGateFailed, match=r"waves:expect_column_pair_values_a_to_be_greater_than_b"):
        raise QualityGateFailed(SUITE, summary)


def test_limits_exactly_reached_pass() -> None:
    wave = {"max_ram_milli_gb": 16_000, "max_storage_milli_gb": 200_000}
    assert validate(assets(), waves([wave]))["success"]


def test_an_overflow_the_planner_declared_and_explained_passes() -> None:
    alone = {
        "member_assets": 1,
        "recorded_assets": 1,
        "max_ram_milli_gb": 8_000,
        "overflow_explained": True,
        "planner_note": "one asset alone is over the limit",
    }
    pinned = {
        "member_assets": 3,
        "recorded_assets": 3,
        "overflow_explained": True,
        "planner_note": "assets pinned by a user are over the limit",
    }
    summary = validate(assets(), waves([alone, pinned]))
    assert summary["success"], failed(summary)


@pytest.mark.parametrize(
    ("wave", "rule", "column"),
    [
        ({"recorded_assets": 3}, "expect_column_pair_values_to_be_equal", "recorded_assets, member_assets"),
        ({"members_of_other_runs": 1}, "expect_column_values_to_be_between", "members_of_other_runs"),
        ({"max_servers": None}, "expect_column_values_to_not_be_null", "max_servers"),
    ],
)
def test_wave_membership_that_does_not_add_up_fails(wave: dict[str, Any], rule: str, column: str) -> None:
    assert (("waves", rule, column)) in failed(validate(assets(), waves([{}, wave])))


def test_two_waves_with_one_number_fail() -> None:
    frame = waves([{}, {}])
    frame["number"] = 1
    assert failed(validate(assets(), frame)) == {("waves", "expect_column_values_to_be_unique", "number")}


def test_a_suite_frame_the_phase_does_not_produce_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match=r"does not produce: \['waves'\]"):
        validate_frames(SUITE, {MAIN_FRAME: assets()})
