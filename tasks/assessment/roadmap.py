"""Assessment step 4 - Roadmap: dated waves from a start date, several at once, no cutover in a blackout.

A wave lasts longer the more (and the harder) assets it moves: a fixed setup plus its assets' days by
6R, divided by the assets a wave crew moves at once. Its milestones (replicate, test, cutover, hypercare)
are fixed shares of its duration and are defined here, so the roadmap and the planning timeline agree
on when each cutover happens. Up to ``max_parallel_waves`` waves run at the same time (one lane each,
waves taken in number order, each into the lane that frees first); a wave with a dependency across
waves on an earlier wave starts only after that wave's cutover, so what it talks to is already moved.
A change freeze (blackout window) may not contain a cutover: such a wave starts later, just enough
that its cutover falls after the freeze, and the delay and the freeze's reason are recorded on the wave.
The result is a frame of (number, start, end, ...) so later steps (human date overrides) can amend it.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets
from db.repositories.reports import cross_wave_links
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
# A wave's fixed days (kick-off, landing-zone checks, go/no-go) and how many assets its crew moves at once.
SETUP_DAYS, ASSETS_AT_ONCE = 3, 5
DEFAULT_MAX_PARALLEL_WAVES = 3
# Share of a wave's duration per milestone, in order.
MILESTONES = (("replicate", 0.4), ("test", 0.3), ("cutover", 0.1), ("hypercare", 0.2))
CUTOVER = "cutover"
DAY = dt.timedelta(days=1)


def wave_days(strategies: Sequence[str]) -> int:
    """Days a wave takes: setup plus its assets' days by 6R over the assets moved at once; >= a week."""
    work = sum(DAYS_PER_ASSET.get(s, 1.0) for s in strategies)
    return max(MIN_WAVE_DAYS, math.ceil(SETUP_DAYS + work / ASSETS_AT_ONCE))


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
    """When a wave runs, its cutover, how long blackouts delayed it and which waves it waited for."""

    number: int
    start: dt.date
    end: dt.date
    cutover_start: dt.date
    cutover_end: dt.date
    delay_days: int
    delayed_by: tuple[str, ...]
    waited_for: tuple[int, ...] = ()


def predecessors(links: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    """For each wave, the earlier-numbered waves it shares a dependency with (either direction)."""
    out: dict[int, set[int]] = {}
    for a, b in links:
        if a != b:
            out.setdefault(max(a, b), set()).add(min(a, b))
    return out


def _clear_of_blackouts(
    earliest: dt.date, offset: int, length: int, blackouts: Sequence[Blackout]
) -> tuple[dt.date, list[str]]:
    """The first start from ``earliest`` whose cutover (``offset`` days in) touches no blackout."""
    begin, reasons = earliest, []
    while True:
        first = begin + offset * DAY
        hit = next((b for b in blackouts if b.overlaps(first, first + length * DAY)), None)
        if hit is None:
            return begin, reasons
        begin = hit.end + DAY - offset * DAY
        reasons.append(hit.reason)


def schedule_waves(
    waves: Sequence[tuple[int, Sequence[str]]],
    start: dt.date,
    blackouts: Sequence[Blackout] = (),
    max_parallel: int = 1,
    after: Mapping[int, set[int]] | None = None,
) -> list[WaveDates]:
    """Date ``waves`` ((number, 6R strategies of its assets)) from ``start``, ``max_parallel`` at a time.

    Waves go in number order, each into the lane that frees first (a gap after the lane's last wave).
    A wave in ``after`` (wave -> earlier waves it depends on) cuts over no sooner than the day after the
    latest of their cutovers: it starts later if needed, and may otherwise overlap them, which keeps
    the time a dependency spans on-premises and cloud short. If its cutover would touch a blackout, the
    wave starts later so the cutover begins the day after that blackout; this repeats while another
    blackout is in the way, and each blackout can push a wave at most once because the cutover only
    moves forward. One loop step per wave (thousands at most), never per asset.
    """
    if max_parallel < 1:
        raise ValueError(f"max_parallel_waves must be at least 1, got {max_parallel}")
    ordered = sorted(blackouts, key=lambda b: (b.start, b.end, b.reason))
    depends = after or {}
    lanes = [start] * max_parallel
    cutover_end: dict[int, dt.date] = {}
    out: list[WaveDates] = []
    for number, strategies in sorted(waves, key=lambda w: w[0]):
        days = wave_days(strategies)
        lane_free = heapq.heappop(lanes)
        cutover = next(m for m in milestone_dates(lane_free, lane_free + (days - 1) * DAY) if m[0] == CUTOVER)
        offset, length = (cutover[1] - lane_free).days, (cutover[2] - cutover[1]).days
        # Its cutover starts the day after the last cutover of the earlier waves it depends on.
        bound = {p: cutover_end[p] + DAY - offset * DAY for p in depends.get(number, ()) if p in cutover_end}
        earliest = max([lane_free, *bound.values()])
        begin, reasons = _clear_of_blackouts(earliest, offset, length, ordered)
        end = begin + (days - 1) * DAY
        when = WaveDates(
            number=number,
            start=begin,
            end=end,
            cutover_start=begin + offset * DAY,
            cutover_end=begin + (offset + length) * DAY,
            delay_days=(begin - earliest).days,
            delayed_by=tuple(reasons),
            waited_for=tuple(sorted(p for p, day in bound.items() if day > lane_free)),
        )
        out.append(when)
        cutover_end[number] = when.cutover_end
        heapq.heappush(lanes, end + (GAP_DAYS + 1) * DAY)
    return out


def roadmap_frame(dates: Sequence[WaveDates]) -> pd.DataFrame:
    """The roadmap as a frame, one row per wave: ``number, start, end`` first, then the why."""
    return pd.DataFrame(
        [
            {
                "number": d.number,
                "start": d.start,
                "end": d.end,
                "cutover_start": d.cutover_start,
                "cutover_end": d.cutover_end,
                "delay_days": d.delay_days,
                "delayed_by": list(d.delayed_by),
                "waited_for": list(d.waited_for),
            }
            for d in dates
        ],
        columns=[
            "number",
            "start",
            "end",
            "cutover_start",
            "cutover_end",
            "delay_days",
            "delayed_by",
            "waited_for",
        ],
    )


def roadmap(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Give each wave a start and end date, several waves at once, dependent waves after their
    dependencies' cutovers, cutovers clear of blackouts."""
    start = (
        dt.date.fromisoformat(ctx.params["start_date"])
        if ctx.params.get("start_date")
        else (dt.date.today() + dt.timedelta(days=14))
    )
    blackouts = parse_blackouts(ctx.params.get("blackouts"))
    parallel = int(ctx.params.get("max_parallel_waves") or DEFAULT_MAX_PARALLEL_WAVES)
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["wave_id", "six_r_strategy"]
    )
    by_wave = assets.dropna(subset=["wave_id"]).groupby("wave_id")["six_r_strategy"].apply(list)
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    links = cross_wave_links(session=session, master_flow_id=ctx.assets_run_id)
    after = predecessors(zip(links["from_wave"].astype(int), links["to_wave"].astype(int), strict=True))
    plan = roadmap_frame(
        schedule_waves([(w.number, by_wave.get(w.id, [])) for w in waves], start, blackouts, parallel, after)
    )
    rows = plan.set_index("number")
    update_waves(
        session=session,
        changes=[
            {
                "id": wave.id,
                "planned_start": rows.at[wave.number, "start"],
                "planned_end": rows.at[wave.number, "end"],
                "status": "scheduled",
                "metrics": {
                    **wave.metrics,
                    "cutover": {
                        "start": rows.at[wave.number, "cutover_start"].isoformat(),
                        "end": rows.at[wave.number, "cutover_end"].isoformat(),
                    },
                    "blackout_delay": {
                        "days": int(rows.at[wave.number, "delay_days"]),
                        "blackouts": rows.at[wave.number, "delayed_by"],
                    },
                    "waited_for_waves": rows.at[wave.number, "waited_for"],
                },
            }
            for wave in waves
        ],
    )
    return {
        "start": start.isoformat(),
        "end": (plan["end"].max() if len(plan) else start).isoformat(),
        "waves": len(plan),
        "max_parallel_waves": parallel,
        "most_waves_at_once": _most_at_once(plan),
        "waves_waiting_on_dependencies": int(plan["waited_for"].map(bool).sum()),
        "blackouts": len(blackouts),
        "waves_delayed_by_blackouts": int((plan["delay_days"] > 0).sum()),
        "blackout_delay_days": int(plan["delay_days"].sum()),
    }


def _most_at_once(plan: pd.DataFrame) -> int:
    """Largest number of waves running on the same day (a sweep over starts and ends)."""
    if plan.empty:
        return 0
    events = pd.concat(
        [
            pd.DataFrame({"day": plan["start"], "step": 1}),
            pd.DataFrame({"day": plan["end"] + DAY, "step": -1}),
        ]
    ).sort_values(["day", "step"])
    return int(events["step"].cumsum().max())


roadmap_step = step_task(ASSESSMENT, "roadmap", roadmap)
