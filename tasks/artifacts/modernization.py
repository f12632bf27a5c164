"""Modernization's report: the refactor / rearchitect / rewrite candidates and why each was chosen."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.reports import count_modernization_candidates, modernization_candidates
from tasks.artifacts import keys
from tasks.artifacts.model import Report, TableArtifact
from tasks.artifacts.review import plural
from tasks.artifacts.tables import MAX_TABLE_ROWS, Rows, json_rows
from tasks.phases import PhaseContext


def build(session: Session, ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    run = ctx.assets_run_id
    report = Report(title="Modernization")
    counts = count_modernization_candidates(session=session, master_flow_id=run)
    total = sum(counts.values())
    report.done.append(
        f"{plural(total, 'modernization candidate')}: "
        + (", ".join(f"{s} {n:,}" for s, n in counts.items()) or "none")
    )
    if total:
        report.needs_human.append(
            f"An architect should confirm each of the {plural(total, 'candidate')} "
            f"(reasons in `{keys.artifact_key(ctx.phase, keys.CANDIDATES, ctx.engagement_id)}`)"
        )
    rows = Rows(
        json_rows(modernization_candidates(session=session, master_flow_id=run, limit=MAX_TABLE_ROWS)), total
    )
    report.artifacts.append(
        TableArtifact(keys.CANDIDATES, rows.rows, f"Modernization candidates ({rows.note('candidates')})")
    )
    return report
