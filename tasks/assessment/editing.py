"""Overrides against a run's assets: given (CLI, review form, run parameters), applied, reported.

One code path stores an override whoever gives it (``record``): its subject must exist in the
run it is given against, a lock captures the asset's strategy and wave at that moment, and the
audit row keeps what the plan said before. The step hooks below apply the engagement's active
overrides inside the assessment steps, so a re-run (a new master run or an assessment re-run)
plans with them: treatment (6R and locks), wave planning (pins), the editor (wave dates).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from db.repositories.exports import plan_run
from db.repositories.overrides import active_overrides, audit, revoked_subjects, set_override
from db.repositories.runs import latest_accepted_handoff
from db.repositories.waves import load_waves, update_waves
from db.session import Tenant
from tasks.assessment.overrides import (
    ASSET_KINDS,
    DATES_KIND,
    LOCK_KIND,
    SIX_R_KIND,
    WAVE_KIND,
    OverrideRequest,
    effective_dates,
    effective_pins,
    effective_six_r,
    fixed_dates,
    released_locks,
    requests_from_params,
    six_r_changes,
    stale_overrides,
)
from tasks.assessment.roadmap import WaveDates, parse_blackouts
from tasks.phases import PhaseContext

SIX_R_WRITTEN = ["six_r_strategy", "six_r_rationale", "six_r_decided_by", "six_r_confidence", "six_r_locked"]
STATE_COLUMNS = ["asset_name", "six_r_strategy", "six_r_decided_by", "six_r_locked", "wave_id"]
#: Stale overrides listed by name in step metrics (the count is always complete).
STALE_SHOWN = 25


def current_run(*, session: Session) -> uuid.UUID:
    """The run whose assets an override given now is checked against: the latest plan, else discovery."""
    run = plan_run(session=session, master_flow_id=None)
    if run is None:
        handoff = latest_accepted_handoff(session=session, target_phase="assessment")
        run = uuid.UUID(handoff.package["assets_run_id"]) if handoff is not None else None
    if run is None:
        raise ValueError("this engagement has no discovered assets yet: run discovery first")
    return run


def _state(session: Session, run_id: uuid.UUID) -> tuple[pd.DataFrame, dict[int, Any]]:
    """The run's assets (with their wave number) and its waves by number."""
    waves = {w.number: w for w in load_waves(session=session, master_flow_id=run_id)}
    numbers = {w.id: n for n, w in waves.items()}
    assets = load_assets(session=session, master_flow_id=run_id, columns=STATE_COLUMNS)
    assets["wave_number"] = assets["wave_id"].map(numbers)
    return assets, waves


def _check_subjects(requests: Sequence[OverrideRequest], names: set[str], waves: dict[int, Any]) -> None:
    unknown = sorted({r.subject for r in requests if r.kind in ASSET_KINDS and r.subject not in names})
    if unknown:
        raise ValueError(
            f"override(s) name {len(unknown)} asset(s) not in this engagement's current inventory: "
            f"{unknown[:10]}"
        )
    missing = sorted({int(r.subject) for r in requests if r.kind == DATES_KIND} - set(waves))
    if missing:
        have = f"waves 1 to {max(waves)}" if waves else "no waves yet (run assessment first)"
        raise ValueError(f"wave dates name wave(s) {missing} but the current plan has {have}")


def record(
    *,
    session: Session,
    tenant: Tenant,
    run_id: uuid.UUID,
    requests: Sequence[OverrideRequest],
    actor: str,
    source: str,
) -> list[dict[str, Any]]:
    """Store ``requests`` as the engagement's overrides, checked against ``run_id``; audited.

    Asset ids are accepted where names are expected (run parameters allowed both) and stored as
    names. Returns one ``{"id", "kind", "subject", "changed"}`` per request.
    """
    if not requests:
        return []
    assets, waves = _state(session, run_id)
    assets = assets.drop_duplicates("asset_name")
    by_id = dict(zip(assets["id"].astype(str), assets["asset_name"], strict=True))
    requests = [
        OverrideRequest(r.kind, by_id.get(r.subject, r.subject), r.value, r.reason)
        if r.kind in ASSET_KINDS
        else r
        for r in requests
    ]
    _check_subjects(requests, set(assets["asset_name"]), waves)
    by_name = assets.set_index("asset_name")
    out = []
    for request in requests:  # one per override a person gave
        value, before = _value_and_before(request, by_name, waves)
        stored, changed = set_override(
            session=session,
            tenant=tenant,
            kind=request.kind,
            subject=request.subject,
            value=value,
            actor=actor,
            source=source,
            reason=request.reason,
            before=before,
        )
        out.append(
            {"id": str(stored.id), "kind": request.kind, "subject": request.subject, "changed": changed}
        )
    return out


def _plain(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _value_and_before(
    request: OverrideRequest, by_name: pd.DataFrame, waves: dict[int, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if request.kind == DATES_KIND:
        wave = waves[int(request.subject)]
        before = {
            "start": wave.planned_start.isoformat() if wave.planned_start else None,
            "end": wave.planned_end.isoformat() if wave.planned_end else None,
        }
        return request.value, before
    row = by_name.loc[request.subject]
    strategy, wave_number = _plain(row["six_r_strategy"]), _plain(row["wave_number"])
    wave = None if wave_number is None else int(wave_number)
    if request.kind == SIX_R_KIND:
        return request.value, {
            "six_r_strategy": strategy,
            "six_r_decided_by": _plain(row["six_r_decided_by"]),
        }
    if request.kind == WAVE_KIND:
        return request.value, {"wave": wave}
    if strategy is None:
        raise ValueError(f"cannot lock {request.subject!r}: it has no 6R decision yet (run assessment first)")
    return {"six_r_strategy": strategy, "wave": wave}, {"locked": bool(row["six_r_locked"])}


# --- step hooks -----------------------------------------------------------------------------------


def _actor(ctx: PhaseContext, default: str = "user") -> str:
    return str(ctx.params.get("user") or default)


def prepare_treatment(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Before the rules decide: store the run's up-front answers; free assets whose override is gone.

    A revoked override's asset is still locked from the run that applied it; unlocking it here
    lets the rules decide it again (audited), which is what "revoke" promises.
    """
    stored = record(
        session=session,
        tenant=ctx.tenant,
        run_id=ctx.assets_run_id,
        requests=requests_from_params(ctx.params),
        actor=_actor(ctx),
        source="run",
    )
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["asset_name", *SIX_R_WRITTEN]
    )
    revoked = revoked_subjects(session=session, kinds=[SIX_R_KIND, LOCK_KIND])
    released = released_locks(assets, effective_six_r(active_overrides(session=session)), revoked)
    if len(released):
        released["six_r_locked"] = False
        update_assets(session=session, frame=released, columns=["six_r_locked"])
        audit(
            session=session,
            tenant=ctx.tenant,
            entries=[
                {
                    "actor": _actor(ctx, "editor"),
                    "action": "six_r_override_released",
                    "target_table": "assets",
                    "target_id": asset_id,
                    "details": {"before": {"six_r_strategy": s, "locked": True}, "after": {"locked": False}},
                }
                for asset_id, s in zip(released["id"], released["six_r_strategy"], strict=True)
            ],
        )
    return {"overrides_recorded": sum(s["changed"] for s in stored), "locks_released": len(released)}


def apply_six_r(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Put the users' strategies (6R overrides, locks) on the run's assets, locked; each change audited."""
    active = active_overrides(session=session)
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=["asset_name", "six_r_strategy", "six_r_decided_by", "six_r_locked"],
    )
    changed = six_r_changes(assets, effective_six_r(active))
    update_assets(session=session, frame=changed, columns=SIX_R_WRITTEN)
    audit(
        session=session,
        tenant=ctx.tenant,
        entries=[
            {
                "actor": str(row.actor),
                "action": "six_r_override",
                "target_table": "assets",
                "target_id": row.id,
                "details": {
                    "before": _plain(row.before),
                    "after": row.six_r_strategy,
                    "override_id": str(row.override_id),
                    "override_kind": row.kind,
                    "run": str(ctx.assets_run_id),
                },
            }
            for row in changed.itertuples()
        ],
    )
    stale = stale_overrides(active, set(assets["asset_name"]))
    return {
        "six_r_overrides_applied": len(changed),
        "stale_overrides": len(stale),
        "stale": stale[:STALE_SHOWN],
    }


def planned_pins(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Wave pins for the planner: the engagement's stored ones, then this run's parameters."""
    return {**effective_pins(active_overrides(session=session)), **(ctx.params.get("wave_pins") or {})}


def _roadmap_dates(wave: Any) -> WaveDates:
    """A wave's dates as the roadmap step stored them."""
    cutover = (wave.metrics or {}).get("cutover") or {}
    delay = (wave.metrics or {}).get("blackout_delay") or {}
    return WaveDates(
        number=wave.number,
        start=wave.planned_start,
        end=wave.planned_end,
        cutover_start=pd.Timestamp(cutover.get("start", wave.planned_start)).date(),
        cutover_end=pd.Timestamp(cutover.get("end", wave.planned_end)).date(),
        delay_days=int(delay.get("days", 0)),
        delayed_by=tuple(delay.get("blackouts", ())),
    )


def apply_wave_dates(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Fix the waves users dated and let the waves after each follow it (see ``fixed_dates``)."""
    active = active_overrides(session=session)
    fixed = effective_dates(active)
    waves = [w for w in load_waves(session=session, master_flow_id=ctx.assets_run_id) if w.planned_start]
    stale = [n for n in fixed if n not in {w.number for w in waves}]
    if not fixed or not waves:
        return {"waves_dated_by_user": 0, "stale_wave_dates": sorted(stale)}
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["wave_id", "six_r_strategy"]
    )
    by_wave = assets.dropna(subset=["wave_id"]).groupby("wave_id")["six_r_strategy"].apply(list)
    planned = [(w.number, by_wave.get(w.id, [])) for w in waves]
    result = fixed_dates(
        planned, [_roadmap_dates(w) for w in waves], fixed, parse_blackouts(ctx.params.get("blackouts"))
    )
    who = {
        int(s): str(a)
        for k, s, a in zip(active["kind"], active["subject"], active["created_by"], strict=True)
        if k == DATES_KIND
    }
    changes = []
    for wave, when in zip(waves, result.dates, strict=True):  # one per wave
        if (wave.planned_start, wave.planned_end) == (when.start, when.end):
            continue
        metrics = {
            **wave.metrics,
            "cutover": {"start": when.cutover_start.isoformat(), "end": when.cutover_end.isoformat()},
            "blackout_delay": {"days": when.delay_days, "blackouts": list(when.delayed_by)},
        }
        if wave.number in fixed:
            metrics["dates_set_by"] = who.get(wave.number)
        changes.append(
            {"id": wave.id, "planned_start": when.start, "planned_end": when.end, "metrics": metrics}
        )
    update_waves(session=session, changes=changes)
    return {
        "waves_dated_by_user": len(result.fixed),
        "waves_redated": len(changes),
        "fixed_cutover_in_blackout": result.cutover_in_blackout,
        "stale_wave_dates": sorted(stale),
    }


__all__ = [
    "apply_six_r",
    "apply_wave_dates",
    "current_run",
    "planned_pins",
    "prepare_treatment",
    "record",
]
