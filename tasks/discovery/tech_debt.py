"""Step 6 — Tech Debt: end-of-support operating systems and databases, with severity, per application.

The run's distinct OS and database strings are matched once against the shipped, dated lifecycle
table (tasks/discovery/lifecycle.py); the verdicts are written to all assets in one UPDATE and
summarised per engagement and per application into the step's metrics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.lifecycle import apply_lifecycle, as_records, lifecycle_texts, tech_debt_assets
from tasks.discovery.lifecycle import SEVERITY_RANK, Lifecycle, lifecycle_table, resolve, severity, summarise
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task

TOP_APPLICATIONS = 25
UNRESOLVED_SHOWN = 10


def lifecycle_matches(texts: pd.DataFrame, table: Lifecycle, today: dt.date) -> pd.DataFrame:
    """One verdict row per distinct (kind, text): product, release, date, severity and its rank."""
    parts = []
    for kind in ("os", "database"):
        subset = texts.loc[texts["kind"] == kind, "text"]
        if subset.empty:
            continue
        matched = resolve(subset, kind, table).assign(kind=kind)
        parts.append(matched)
    if not parts:
        return pd.DataFrame(
            columns=["kind", "text", "product", "release", "end_of_support", "severity", "rank"]
        )
    matches = pd.concat(parts, ignore_index=True)
    matches["severity"] = severity(
        matches["end_of_support"],
        today,
        high_within_months=table.high_within_months,
        medium_within_months=table.medium_within_months,
    )
    matches["rank"] = matches["severity"].map(SEVERITY_RANK)
    return matches


def assess_tech_debt(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Stamp end-of-support date and severity on each asset; summarise per engagement and application."""
    table = lifecycle_table()
    today = dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()
    texts = lifecycle_texts(session=session, master_flow_id=ctx.assets_run_id)
    matches = lifecycle_matches(texts, table, today)
    written = apply_lifecycle(
        session=session,
        master_flow_id=ctx.assets_run_id,
        matches=matches,
        as_of=today,
        table_as_of=table.as_of,
    )
    summary = summarise(
        tech_debt_assets(session=session, master_flow_id=ctx.assets_run_id), top=TOP_APPLICATIONS
    )
    os_texts = texts[texts["kind"] == "os"].merge(matches[matches["kind"] == "os"], on=["kind", "text"])
    unresolved = os_texts[os_texts["end_of_support"].isna()].sort_values("assets", ascending=False)
    engagement = summary["engagement"]
    return {
        **written,
        "as_of": today.isoformat(),
        "lifecycle_table_as_of": table.as_of.isoformat(),
        "end_of_support_past": engagement["assets_by_severity"]["critical"],
        "end_of_support_within_a_year": engagement["assets_by_severity"]["high"]
        + engagement["assets_by_severity"]["medium"],
        "assets_by_severity": engagement["assets_by_severity"],
        "applications_by_worst_severity": engagement["applications_by_worst_severity"],
        "releases": engagement["releases"],
        "os_strings_without_date": len(unresolved),
        "assets_with_os_without_date": int(unresolved["assets"].sum()),
        "os_without_date": as_records(
            unresolved[["text", "product", "release", "assets"]].head(UNRESOLVED_SHOWN)
        ),
        "top_applications": as_records(summary["top_applications"]),
    }


tech_debt = step_task(DISCOVERY, "tech_debt", assess_tech_debt)
