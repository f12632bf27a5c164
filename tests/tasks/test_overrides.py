"""Overrides, pure: what stored overrides mean for a run's assets, pins and roadmap dates.

No database and no Prefect: the functions take frames of overrides and assets as the
repositories return them, and roadmap dates as ``schedule_waves`` computes them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
import pytest

from tasks.assessment.overrides import (
    dates_request,
    effective_dates,
    effective_pins,
    effective_six_r,
    fixed_dates,
    lock_request,
    released_locks,
    requests_from_params,
    six_r_changes,
    six_r_request,
    stale_overrides,
    wave_request,
)
from tasks.assessment.roadmap import GAP_DAYS, Blackout, schedule_waves, wave_days
from tasks.reviews.forms import EditorReview
from tasks.reviews.gates import editor_requests

D = dt.date.fromisoformat


def active(*rows: tuple[str, str, dict[str, Any]]) -> pd.DataFrame:
    """Active overrides as ``active_overrides`` returns them (kind, subject, value; the rest filled)."""
    return pd.DataFrame(
        [
            {
                "id": uuid.uuid4(),
                "kind": kind,
                "subject": subject,
                "value": value,
                "reason": None,
                "source": "cli",
                "created_by": f"user-{i}",
                "created_at": pd.Timestamp("2026-11-23", tz="UTC") + pd.Timedelta(minutes=i),
            }
            for i, (kind, subject, value) in enumerate(rows)
        ],
        columns=["id", "kind", "subject", "value", "reason", "source", "created_by", "created_at"],
    )


def assets(*rows: tuple[str, str | None, str | None, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": uuid.uuid4(),
                "asset_name": n,
                "six_r_strategy": s,
                "six_r_decided_by": d,
                "six_r_locked": lk,
            }
            for n, s, d, lk in rows
        ]
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: six_r_request("web01", "lift-and-shift"), "'lift-and-shift' is not one of rehost"),
        (lambda: wave_request("web01", "0"), "waves are numbered from 1"),
        (lambda: wave_request("web01", "two"), "'two' is not a wave number"),
        (lambda: dates_request(2, "2027-03-10", "2027-03-01"), "would end (2027-03-01) before it starts"),
        (lambda: dates_request(2, "10/03/2027"), "start of wave 2 must be a date YYYY-MM-DD"),
        (lambda: lock_request("  "), "needs an asset name"),
    ],
)
def test_bad_overrides_are_refused_saying_what_is_wrong(make: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        make()
    assert message in str(caught.value)


def test_requests_are_normalised() -> None:
    assert six_r_request(" web01 ", "Retire").value == {"six_r_strategy": "retire"}
    assert six_r_request("web01", "retire").subject == "web01"
    assert wave_request("db01", "3").value == {"wave": 3}
    assert dates_request("2", "2027-03-01").value == {"start": "2027-03-01", "end": None}
    assert dates_request(2, "2027-03-01", "2027-03-20").subject == "2"
    made = requests_from_params({"overrides": {"a": "retain"}, "wave_pins": {"b": 2}})
    assert [(r.kind, r.subject, r.value) for r in made] == [
        ("six_r", "a", {"six_r_strategy": "retain"}),
        ("wave", "b", {"wave": 2}),
    ]


def test_review_form_answers_become_the_same_requests_as_the_cli() -> None:
    answer = EditorReview(
        reviewer="bob",
        six_r_overrides={"a": "retire"},
        wave_overrides={"b": 2},
        wave_dates={3: {"start": "2027-05-03"}},
        locks=["c"],
        reason="steering committee",
    )
    made = editor_requests(answer)
    assert made == [
        {
            "kind": "six_r",
            "subject": "a",
            "value": {"six_r_strategy": "retire"},
            "reason": "steering committee",
        },
        {"kind": "wave", "subject": "b", "value": {"wave": 2}, "reason": "steering committee"},
        {
            "kind": "wave_dates",
            "subject": "3",
            "value": {"start": "2027-05-03", "end": None},
            "reason": "steering committee",
        },
        {"kind": "lock", "subject": "c", "value": {}, "reason": "steering committee"},
    ]


def test_explicit_6r_and_wave_overrides_win_over_a_lock() -> None:
    stored = active(
        ("lock", "a", {"six_r_strategy": "rehost", "wave": 2}),
        ("six_r", "a", {"six_r_strategy": "retain"}),
        ("lock", "b", {"six_r_strategy": "replatform", "wave": 4}),
        ("wave", "b", {"wave": 1}),
        ("lock", "c", {"six_r_strategy": "retire", "wave": None}),
        ("wave_dates", "2", {"start": "2027-03-01", "end": None}),
    )
    six_r = effective_six_r(stored).set_index("asset_name")
    assert six_r["strategy"].to_dict() == {"a": "retain", "b": "replatform", "c": "retire"}
    assert six_r["kind"].to_dict() == {"a": "six_r", "b": "lock", "c": "lock"}
    assert effective_pins(stored) == {"a": 2, "b": 1}  # c was locked outside any wave: no pin
    assert effective_dates(stored) == {2: (D("2027-03-01"), None)}


def test_six_r_changes_only_what_differs_and_keeps_the_rules_decision_as_before() -> None:
    stored = active(
        ("six_r", "a", {"six_r_strategy": "retire"}), ("six_r", "b", {"six_r_strategy": "retain"})
    )
    run = assets(
        ("a", "rehost", "rules", False), ("b", "retain", "user", True), ("c", "rehost", "rules", False)
    )
    changed = six_r_changes(run, effective_six_r(stored))
    assert changed[["asset_name", "before", "six_r_strategy", "six_r_decided_by", "six_r_locked"]].to_dict(
        "records"
    ) == [
        {
            "asset_name": "a",
            "before": "rehost",
            "six_r_strategy": "retire",
            "six_r_decided_by": "user",
            "six_r_locked": True,
        }
    ]
    assert changed.loc[0, "six_r_rationale"] == "set by user-0 in the editor"


def test_a_revoked_override_releases_its_asset_and_only_that() -> None:
    stored = active(("six_r", "b", {"six_r_strategy": "retain"}))
    run = assets(
        ("a", "retire", "user", True),  # its override was revoked
        ("b", "retain", "user", True),  # revoked once, but replaced by an active one
        ("c", "rehost", "rules", False),
        ("d", "retain", "user", True),  # locked with no override behind it (an older editor): kept
    )
    assert released_locks(run, effective_six_r(stored), {"a", "b"})["asset_name"].tolist() == ["a"]


def test_overrides_of_assets_or_waves_the_run_lacks_are_stale() -> None:
    stored = active(
        ("six_r", "gone", {"six_r_strategy": "retire"}),
        ("six_r", "here", {"six_r_strategy": "retire"}),
        ("wave_dates", "9", {"start": "2027-03-01", "end": None}),
        ("wave_dates", "1", {"start": "2027-03-01", "end": None}),
    )
    stale = stale_overrides(stored, {"here"}, {1, 2})
    assert [(s["kind"], s["subject"]) for s in stale] == [("six_r", "gone"), ("wave_dates", "9")]
    assert [s["subject"] for s in stale_overrides(stored, {"here"})] == ["gone"]


PLANNED = [(1, ["rehost"] * 12), (2, ["replatform"] * 8), (3, ["rehost"] * 10), (4, ["rehost"] * 10)]
START = D("2027-01-04")


def test_a_fixed_wave_moves_and_the_waves_after_it_follow() -> None:
    dates = schedule_waves(PLANNED, START)
    result = fixed_dates(PLANNED, dates, {2: (D("2027-04-01"), None)})
    by = {d.number: d for d in result.dates}
    assert by[1] == dates[0]  # before the anchor: unchanged
    assert by[2].start == D("2027-04-01")
    assert (by[2].end - by[2].start).days + 1 == wave_days(PLANNED[1][1])  # keeps its planned length
    assert by[3].start == by[2].end + dt.timedelta(days=GAP_DAYS + 1)
    assert by[4].start == by[3].end + dt.timedelta(days=GAP_DAYS + 1)
    assert by[2].start <= by[2].cutover_start <= by[2].cutover_end <= by[2].end
    assert result.fixed == [2] and result.cutover_in_blackout == []


def test_two_anchors_each_lead_the_waves_up_to_the_next_and_an_end_date_is_kept() -> None:
    dates = schedule_waves(PLANNED, START)
    fixed = {2: (D("2027-02-01"), D("2027-02-28")), 4: (D("2027-06-07"), None)}
    by = {d.number: d for d in fixed_dates(PLANNED, dates, fixed).dates}
    assert (by[2].start, by[2].end) == (D("2027-02-01"), D("2027-02-28"))
    assert by[3].start == D("2027-03-03")
    assert by[4].start == D("2027-06-07")


def test_following_waves_still_clear_blackouts_but_a_fixed_wave_is_only_reported() -> None:
    dates = schedule_waves(PLANNED, START)
    fixed_wave = fixed_dates(PLANNED, dates, {2: (D("2027-04-01"), None)}).dates[1]
    later = fixed_dates(PLANNED, dates, {2: (D("2027-04-01"), None)}).dates[2]
    freeze_later = Blackout(later.cutover_start, later.cutover_end, "quarter close")
    freeze_fixed = Blackout(fixed_wave.cutover_start, fixed_wave.cutover_start, "board meeting")
    result = fixed_dates(PLANNED, dates, {2: (D("2027-04-01"), None)}, [freeze_later, freeze_fixed])
    by = {d.number: d for d in result.dates}
    assert by[2].start == D("2027-04-01")  # the user's dates win over the freeze...
    assert result.cutover_in_blackout == [2]  # ...and it is reported
    assert by[3].cutover_start > freeze_later.end and by[3].delayed_by == ("quarter close",)


def test_dates_for_a_wave_the_plan_lacks_change_nothing() -> None:
    dates = schedule_waves(PLANNED, START)
    result = fixed_dates(PLANNED, dates, {9: (D("2027-04-01"), None)})
    assert result.dates == dates and result.fixed == []
