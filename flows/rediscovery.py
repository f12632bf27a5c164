"""Scheduled re-discovery: re-import each engagement's registered sources and report what changed."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from db.repositories.assets import load_assets
from db.repositories.runs import latest_accepted_handoff, update_master_flow
from db.repositories.sources import engagements_with_sources
from db.repositories.tenants import ensure_tenant
from db.session import Tenant, tenant_session
from flows.master import master_flow
from mfactory.runners import task_runner
from tasks.artifacts.keys import artifact_key
from tasks.rediscovery.inventory_diff import COMPARED, diff_inventories, summarise

REPORT_ROWS = 500  # rows shown in the table artifact; the counts always cover everything


@task(name="rediscover-engagement", task_run_name="rediscover {client} / {engagement}")
def rediscover_engagement(client: str, engagement: str) -> dict[str, Any]:
    """One engagement: a discovery-only master run (a subflow of this task) and its change report."""
    return _rediscover(client, engagement)


@flow(name="rediscovery", task_runner=task_runner())
def rediscovery_flow(client: str | None = None, engagement: str | None = None) -> dict[str, Any]:
    """Re-discover one engagement, or (no parameters: the nightly schedule) every engagement with
    registered sources; each gets a discovery-only master run and a change report against the
    previous accepted discovery. Engagements run concurrently on the configured task runner (one
    task per engagement, never per asset); one failing does not stop the others."""
    if (client is None) != (engagement is None):
        raise ValueError("give both client and engagement, or neither (all engagements with sources)")
    if client is not None and engagement is not None:
        targets = [(client, engagement)]
    else:
        with tenant_session(None) as session:
            targets = engagements_with_sources(session=session)
    futures = rediscover_engagement.map([c for c, _ in targets], [e for _, e in targets])
    reports: dict[str, Any] = {}
    for (c, e), future in zip(targets, futures, strict=True):
        future.wait()
        state = future.state
        reports[f"{c} / {e}"] = (
            state.result() if state.is_completed() else {"status": "failed", "message": state.message}
        )
    return {"engagements": reports}


def _previous_assets_run(tenant: Tenant) -> uuid.UUID | None:
    with tenant_session(tenant) as session:
        handoff = latest_accepted_handoff(session=session, target_phase="assessment")
    return uuid.UUID(handoff.package["assets_run_id"]) if handoff else None


def _assets(tenant: Tenant, run: uuid.UUID | None) -> pd.DataFrame:
    columns = ["asset_name", *COMPARED]
    if run is None:
        return pd.DataFrame(columns=["id", *columns])
    with tenant_session(tenant) as session:
        return load_assets(session=session, master_flow_id=run, columns=columns)


def _rediscover(client: str, engagement: str) -> dict[str, Any]:
    logger = get_run_logger()
    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client=client, engagement=engagement, create=False)
    previous = _previous_assets_run(tenant)
    state = master_flow(client=client, engagement=engagement, phases=["discovery"], return_state=True)
    if not state.is_completed():
        logger.error("re-discovery of %s / %s ended %s: %s", client, engagement, state.name, state.message)
        return {"status": "failed", "message": state.message}
    current = uuid.UUID(str(state.state_details.flow_run_id))
    report = diff_inventories(_assets(tenant, previous), _assets(tenant, current))
    counts = summarise(report)
    summary = {"previous_run": str(previous) if previous else None, "changes": counts}
    with tenant_session(tenant) as session:
        update_master_flow(session=session, master_flow_id=current, summary={"rediscovery": summary})
    key = artifact_key("rediscovery", "report", tenant.engagement_id)
    create_markdown_artifact(
        key=key,
        markdown=_markdown(client, engagement, previous, current, counts, len(report)),
        description=f"{client} / {engagement}: inventory changes since the last discovery",
    )
    if len(report):
        create_table_artifact(
            key=artifact_key("rediscovery", "changes", tenant.engagement_id),
            table=report.head(REPORT_ROWS).to_dict("records"),
            description=f"first {min(len(report), REPORT_ROWS)} of {len(report)} changed assets",
        )
    return {"status": "completed", "master_flow_id": str(current), **summary}


def _markdown(
    client: str,
    engagement: str,
    previous: uuid.UUID | None,
    current: uuid.UUID,
    counts: dict[str, int],
    total: int,
) -> str:
    since = f"run `{previous}`" if previous else "nothing (first discovery of this engagement)"
    lines = [
        f"# Re-discovery: {client} / {engagement}",
        f"New discovery run `{current}` compared with {since}.",
        "",
        "| new | changed | disappeared |",
        "|---|---|---|",
        f"| {counts['new']} | {counts['changed']} | {counts['disappeared']} |",
    ]
    if total == 0:
        lines.append("\nNo asset changed.")
    elif total > REPORT_ROWS:
        lines.append(f"\nThe changes table shows the first {REPORT_ROWS} of {total} rows.")
    return "\n".join(lines)
