"""Assessment step 4 — Roadmap: dated waves from a start date, with no cutover inside a blackout.

A wave lasts longer the more (and the harder) assets it moves; its milestones (replicate, test,
cutover, hypercare) are fixed shares of its duration and are defined here, so the roadmap and
the planning timeline agree on when each cutover happens. A change freeze (blackout window)
may not contain a cutover: such a wave starts later, just enough that its cutover falls after
the freeze, and the delay and the freeze's reason are recorded on the wave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db.repositories.assets import load_assets
from db.repositories.waves import load_waves, update_waves
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

# Working days per asset by strategy: rehost is quickest, refactoring slowest.
DAYS_PER_ASSET = {
    "rehost": 0.5,
    "relocate": 0.3,
    "replatform": 1.0,
    "repurchase": 1.0,
    "refactor": 2.0,
    "rearchitect": 3.0,
    "rewrite": 4.0,
}
MIN_WAVE_DAYS, GAP_DAYS = 5, 2
# Share of a wave's duration per milestone, in order.
MILESTONES = (("replicate", 0.4), ("test", 0.3), ("cutover", 0.1), ("hypercare", 0.2))
CUTOVER = "cutover"
DAY = dt.timedelta(days=1)


def wave_days(strategies: Sequence[str]) -> int:
    """Days a wave takes: its assets' days by 6R strategy, at least a working week."""
    return max(MIN_WAVE_DAYS, round(sum(DAYS_PER_ASSET.get(s, 1.0) for s in strategies)))


def milestone_dates(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Split a wave's dates into replicate / test / cutover / hypercare (name, first day, last day)."""
    total = (end - start).days + 1
    out, cursor = [], start
    for i, (name, share) in enumerate(MILESTONES):
        days = total - (cursor - start).days if i == len(MILESTONES) - 1 else max(1, round(total * share))
        finish = min(end, cursor + dt.timedelta(days=days - 1))
        out.append((name, cursor, finish))
        cursor = min(end, finish + DAY)
    return out


def milestones(start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """The milestones of a wave as ISO dates (what the planning timeline stores)."""
    return [
        {"milestone": name, "start": first.isoformat(), "end": last.isoformat()}
        for name, first, last in milestone_dates(start, end)
    ]


@dataclass(frozen=True)
class Blackout:
    """A change freeze: no cutover may happen from ``start`` to ``end`` (both included)."""

    start: dt.date
    end: dt.date
    reason: str

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        return self.start <= last and first <= self.end


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where} must be an ISO date (YYYY-MM-DD), got {value!r}") from exc


def parse_blackouts(raw: Sequence[Mapping[str, Any]] | None) -> list[Blackout]:
    """Blackouts from run parameters (``[{"start", "end", "reason"}]``), checked and sorted."""
    blackouts = []
    for i, item in enumerate(raw or []):
        if not isinstance(item, Mapping) or "start" not in item or "end" not in item:
            raise ValueError(f"blackouts[{i}] needs 'start' and 'end' dates, got {item!r}")
        start = _date(item["start"], f"blackouts[{i}].start")
        end = _date(item["end"], f"blackouts[{i}].end")
        if end < start:
            raise ValueError(f"blackouts[{i}] ends ({end}) before it starts ({start})")
        blackouts.append(Blackout(start=start, end=end, reason=str(item.get("reason") or "blackout")))
    return sorted(blackouts, key=lambda b: (b.start, b.end, b.reason))


@dataclass(frozen=True)
class WaveDates:
    """When a wave runs, when its cutover happens, and how long blackouts delayed it."""

    number: int
    start: dt.date
    end: dt.date
    cutover_start: dt.date
    cutover_end: dt.date
    delay_days: int
    delayed_by: tuple[str, ...]


def schedule_waves(
    waves: Sequence[tuple[int, Sequence[str]]], start: dt.date, blackouts: Sequence[Blackout] = ()
) -> list[WaveDates]:
    """Date ``waves`` ((number, 6R strategies of its assets)) back to back from ``start``.

    Each wave starts a gap after the previous one ends. If its cutover would touch a blackout,
    the wave starts later so the cutover begins the day after that blackout; this repeats while
    another blackout is in the way, and each blackout can push a wave at most once because the
    cutover only moves forward.
    """
    ordered = sorted(blackouts, key=lambda b: (b.start, b.end, b.reason))
    out: list[WaveDates] = []
    cursor = start
    for number, strategies in sorted(waves, key=lambda w: w[0]):  # one iteration per wave
        days = wave_days(strategies)
        cutover = next(m for m in milestone_dates(cursor, cursor + (days - 1) * DAY) if m[0] == CUTOVER)
        offset, length = (cutover[1] - cursor).days, (cutover[2] - cutover[1]).days
        begin, reasons = cursor, []
        while True:
            first = begin + offset * DAY
            last = first + length * DAY
            hit = next((b for b in ordered if b.overlaps(first, last)), None)
            if hit is None:
                break
            begin = hit.end + DAY - offset * DAY
            reasons.append(hit.reason)
        end = begin + (days - 1) * DAY
        out.append(
            WaveDates(
                number=number,
                start=begin,
                end=end,
                cutover_start=first,
                cutover_end=last,
                delay_days=(begin - cursor).days,
                delayed_by=tuple(reasons),
            )
        )
        cursor = end + (GAP_DAYS + 1) * DAY
    return out


def roadmap(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Give each wave a start and end date, back to back with a short gap, cutovers clear of blackouts."""
    start = (
        dt.date.fromisoformat(ctx.params["start_date"])
        if ctx.params.get("start_date")
        else (dt.date.today() + dt.timedelta(days=14))
    )
    blackouts = parse_blackouts(ctx.params.get("blackouts"))
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["wave_id", "six_r_strategy"]
    )
    by_wave = assets.dropna(subset=["wave_id"]).groupby("wave_id")["six_r_strategy"].apply(list)
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    dates = schedule_waves([(w.number, by_wave.get(w.id, [])) for w in waves], start, blackouts)
    update_waves(
        session=session,
        changes=[
            {
                "id": wave.id,
                "planned_start": when.start,
                "planned_end": when.end,
                "status": "scheduled",
                "metrics": {
                    **wave.metrics,
                    "cutover": {"start": when.cutover_start.isoformat(), "end": when.cutover_end.isoformat()},
                    "blackout_delay": {"days": when.delay_days, "blackouts": list(when.delayed_by)},
                },
            }
            for wave, when in zip(waves, dates, strict=True)
        ],
    )
    return {
        "start": start.isoformat(),
        "end": max((d.end for d in dates), default=start).isoformat(),
        "waves": len(dates),
        "blackouts": len(blackouts),
        "waves_delayed_by_blackouts": sum(1 for d in dates if d.delay_days),
        "blackout_delay_days": sum(d.delay_days for d in dates),
    }


roadmap_step = step_task(ASSESSMENT, "roadmap", roadmap)
