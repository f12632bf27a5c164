"""What the engagement's stored overrides mean for one run's plan: pure functions, no database.

Rules (also in docs/architecture.md, "Editor"):
- ``six_r`` sets an asset's strategy; ``wave`` pins an asset into a wave number; ``wave_dates``
  fixes a wave's start (and end; without one the wave keeps its computed length); ``lock`` keeps
  the strategy and wave the asset had when it was locked.
- An explicit ``six_r`` or ``wave`` override of an asset wins over its lock (it is more specific).
- An override naming an asset or wave the run does not have is *stale*: reported, not applied,
  and kept (the asset may come back with the next inventory). Only when an override is *given*
  must its subject exist, so a typo fails at once.
- A wave with fixed dates is an anchor: the waves after it follow it as they follow any wave (a
  gap after it ends, cutovers clear of blackouts) up to the next anchor; earlier waves keep their
  dates. A fixed wave's cutover may fall in a blackout: the user's dates win and it is reported.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from db.models.assets import SIX_R
from db.models.overrides import OVERRIDE_KINDS
from tasks.assessment.roadmap import (
    CUTOVER,
    DAY,
    GAP_DAYS,
    Blackout,
    WaveDates,
    milestone_dates,
    schedule_waves,
    wave_days,
)

SIX_R_KIND, WAVE_KIND, DATES_KIND, LOCK_KIND = OVERRIDE_KINDS
#: Kinds whose subject is an asset name (the other, wave_dates, names a wave number).
ASSET_KINDS = (SIX_R_KIND, WAVE_KIND, LOCK_KIND)
ACTIVE_COLUMNS = ["id", "kind", "subject", "value", "reason", "source", "created_by", "created_at"]


@dataclass(frozen=True)
class OverrideRequest:
    """One override a user asks for; ``value`` of a lock is filled from the run when it is stored."""

    kind: str
    subject: str
    value: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


def _iso(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"{what} must be a date YYYY-MM-DD, got {value!r}") from exc


def wave_number(value: Any, what: str) -> int:
    """A wave number from 1, or a ValueError saying which input was wrong."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: {value!r} is not a wave number") from exc
    if number < 1:
        raise ValueError(f"{what}: {number}: waves are numbered from 1")
    return number


def six_r_request(asset: str, strategy: str, reason: str | None = None) -> OverrideRequest:
    strategy = str(strategy).strip().lower()
    if strategy not in SIX_R:
        raise ValueError(f"6R override of {asset!r}: {strategy!r} is not one of {', '.join(SIX_R)}")
    return OverrideRequest(SIX_R_KIND, _asset(asset), {"six_r_strategy": strategy}, reason)


def wave_request(asset: str, wave: Any, reason: str | None = None) -> OverrideRequest:
    number = wave_number(wave, f"wave of {asset!r}")
    return OverrideRequest(WAVE_KIND, _asset(asset), {"wave": number}, reason)


def dates_request(wave: Any, start: Any, end: Any = None, reason: str | None = None) -> OverrideRequest:
    number = wave_number(wave, "wave dates")
    first = _iso(start, f"start of wave {number}")
    last = None if end in (None, "") else _iso(end, f"end of wave {number}")
    if last is not None and last < first:
        raise ValueError(f"wave {number} would end ({last}) before it starts ({first})")
    value = {"start": first.isoformat(), "end": last.isoformat() if last else None}
    return OverrideRequest(DATES_KIND, str(number), value, reason)


def lock_request(asset: str, reason: str | None = None) -> OverrideRequest:
    return OverrideRequest(LOCK_KIND, _asset(asset), {}, reason)


def _asset(name: str) -> str:
    name = str(name).strip()
    if not name:
        raise ValueError("an override needs an asset name")
    return name


def requests_from_params(params: Mapping[str, Any]) -> list[OverrideRequest]:
    """A run's up-front answers (``overrides`` = 6R by asset, ``wave_pins``) as override requests."""
    six_r = params.get("overrides") or {}
    pins = params.get("wave_pins") or {}
    return [six_r_request(a, s) for a, s in six_r.items()] + [wave_request(a, w) for a, w in pins.items()]


# --- effective overrides of a run ----------------------------------------------------------------


def effective_six_r(active: pd.DataFrame) -> pd.DataFrame:
    """Per asset name the strategy users set: ``six_r`` overrides, else the strategy of a lock.

    Columns: asset_name, strategy, kind, override_id, actor, reason.
    """
    rows = active[active["kind"].isin([SIX_R_KIND, LOCK_KIND])].copy()
    rows["strategy"] = rows["value"].map(lambda v: (v or {}).get("six_r_strategy"))
    rows = rows.dropna(subset=["strategy"])
    rows["rank"] = (rows["kind"] != SIX_R_KIND).astype(int)  # explicit 6R first, then the lock
    rows = rows.sort_values(["subject", "rank"]).drop_duplicates("subject")
    return pd.DataFrame(
        {
            "asset_name": rows["subject"].astype(str),
            "strategy": rows["strategy"].astype(str),
            "kind": rows["kind"],
            "override_id": rows["id"],
            "actor": rows["created_by"],
            "reason": rows["reason"],
        }
    ).reset_index(drop=True)


def effective_pins(active: pd.DataFrame) -> dict[str, int]:
    """Asset name -> wave: ``wave`` overrides, else the wave an asset was locked in (if it had one)."""
    pins: dict[str, int] = {}
    for kind in (LOCK_KIND, WAVE_KIND):  # the explicit wave override written last, so it wins
        rows = active[active["kind"] == kind]
        for subject, value in zip(rows["subject"], rows["value"], strict=True):
            wave = (value or {}).get("wave")
            if wave is not None:
                pins[str(subject)] = int(wave)
    return pins


def effective_dates(active: pd.DataFrame) -> dict[int, tuple[dt.date, dt.date | None]]:
    """Wave number -> (start, end or None) fixed by users."""
    rows = active[active["kind"] == DATES_KIND]
    return {
        int(subject): (_iso(value["start"], "start"), _iso(value["end"], "end") if value.get("end") else None)
        for subject, value in zip(rows["subject"], rows["value"], strict=True)
    }


def stale_overrides(
    active: pd.DataFrame, asset_names: set[str], wave_numbers: set[int] | None = None
) -> list[dict[str, str]]:
    """Overrides naming an asset (or, with ``wave_numbers``, a wave) this run does not have."""
    # Overrides are few next to assets: a set lookup per override, not a hash table of every asset.
    known = active["subject"].astype(str).map(asset_names.__contains__).astype(bool)
    missing = active["kind"].isin(ASSET_KINDS) & ~known
    if wave_numbers is not None:
        dated = active["kind"] == DATES_KIND
        numbers = pd.to_numeric(active["subject"].where(dated), errors="coerce")
        missing |= dated & ~numbers.isin(list(wave_numbers))
    stale = active[missing]
    return [
        {"id": str(i), "kind": str(k), "subject": str(s)}
        for i, k, s in zip(stale["id"], stale["kind"], stale["subject"], strict=True)
    ]


def six_r_changes(assets: pd.DataFrame, effective: pd.DataFrame) -> pd.DataFrame:
    """The assets whose stored decision differs from the users' override, with the new decision.

    ``assets`` has id, asset_name, six_r_strategy, six_r_decided_by, six_r_locked. The result keeps
    ``before`` (the strategy replaced) and the override's id and actor for the audit trail; an
    asset already carrying the override (a re-run of the same assets) is not a change.
    """
    merged = assets.merge(effective, on="asset_name", how="inner")
    differs = (
        (merged["six_r_strategy"] != merged["strategy"])
        | ~merged["six_r_locked"].fillna(False).astype(bool)
        | (merged["six_r_decided_by"] != "user")
    )
    changed = merged[differs].copy()
    locked = changed["kind"] == LOCK_KIND
    why = changed["reason"].map(lambda r: f": {r}" if isinstance(r, str) and r else "")
    changed["before"] = changed["six_r_strategy"]
    changed["six_r_rationale"] = ("locked by " + changed["actor"].astype(str) + " in the editor").where(
        locked, "set by " + changed["actor"].astype(str) + " in the editor"
    ) + why
    changed["six_r_strategy"] = changed["strategy"]
    changed["six_r_decided_by"] = "user"
    changed["six_r_confidence"] = 1.0
    changed["six_r_locked"] = True
    return changed.reset_index(drop=True)


def released_locks(assets: pd.DataFrame, effective: pd.DataFrame, revoked: set[str]) -> pd.DataFrame:
    """Assets locked by a user through an override since revoked (``revoked``: asset names), none
    other active: the rules decide them again. Locks with no override behind them are left alone."""
    user_locked = assets["six_r_locked"].fillna(False).astype(bool) & (assets["six_r_decided_by"] == "user")
    candidates = assets[user_locked]  # few: only what people decided
    freed = candidates["asset_name"].isin(list(revoked)) & ~candidates["asset_name"].isin(
        effective["asset_name"]
    )
    return candidates[freed].reset_index(drop=True)


# --- wave dates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedDates:
    """The roadmap after users' wave dates, and the fixed waves whose cutover is in a blackout."""

    dates: list[WaveDates]
    fixed: list[int]
    cutover_in_blackout: list[int]


def _anchored(number: int, strategies: Sequence[str], start: dt.date, end: dt.date | None) -> WaveDates:
    last = end if end is not None else start + (wave_days(strategies) - 1) * DAY
    cutover = next(m for m in milestone_dates(start, last) if m[0] == CUTOVER)
    return WaveDates(
        number=number,
        start=start,
        end=last,
        cutover_start=cutover[1],
        cutover_end=cutover[2],
        delay_days=0,
        delayed_by=(),
    )


def fixed_dates(
    planned: Sequence[tuple[int, Sequence[str]]],
    dates: Sequence[WaveDates],
    fixed: Mapping[int, tuple[dt.date, dt.date | None]],
    blackouts: Sequence[Blackout] = (),
) -> FixedDates:
    """``dates`` (the roadmap of ``planned`` waves) with users' dates on the ``fixed`` waves.

    Each fixed wave is an anchor; the waves after it, up to the next anchor, are scheduled again
    from a gap after its end with the roadmap's own rules (``schedule_waves``).
    """
    strategies = {int(n): list(s) for n, s in planned}
    out = sorted(dates, key=lambda d: d.number)
    i = 0
    while i < len(out):
        number = out[i].number
        if number not in fixed:
            i += 1
            continue
        out[i] = _anchored(number, strategies.get(number, []), *fixed[number])
        j = next((k for k in range(i + 1, len(out)) if out[k].number in fixed), len(out))
        if j > i + 1:
            follow = [(d.number, strategies.get(d.number, [])) for d in out[i + 1 : j]]
            out[i + 1 : j] = schedule_waves(follow, out[i].end + (GAP_DAYS + 1) * DAY, blackouts)
        i = j
    in_blackout = [
        d.number
        for d in out
        if d.number in fixed and any(b.overlaps(d.cutover_start, d.cutover_end) for b in blackouts)
    ]
    return FixedDates(
        dates=out, fixed=sorted(n for n in fixed if n in strategies), cutover_in_blackout=in_blackout
    )


def override_id(value: Any) -> uuid.UUID:
    """Parse an override id (as printed by ``mfactory edit list``)."""
    try:
        return uuid.UUID(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an override id (see `mfactory edit list`)") from exc


__all__ = [
    "ASSET_KINDS",
    "DATES_KIND",
    "LOCK_KIND",
    "SIX_R_KIND",
    "WAVE_KIND",
    "FixedDates",
    "OverrideRequest",
    "dates_request",
    "effective_dates",
    "effective_pins",
    "effective_six_r",
    "fixed_dates",
    "lock_request",
    "released_locks",
    "requests_from_params",
    "six_r_changes",
    "six_r_request",
    "stale_overrides",
    "wave_request",
]
