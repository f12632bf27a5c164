"""The master flow: one engagement run, its phases as subflows in order, gated by handoffs."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run
from prefect.states import Failed, State

from db.repositories.locks import engagement_lock
from db.repositories.runs import create_master_flow, latest_accepted_handoff, update_master_flow
from db.repositories.sources import active_sources
from db.repositories.tenants import ensure_tenant
from db.session import Tenant, tenant_session
from flows.registry import PHASE_FLOWS
from mfactory.errors import TenantContextError
from mfactory.locations import local_copy
from tasks.artifacts.keys import artifact_key
from tasks.phase_runner import ROLLED_BACK
from tasks.phases import PHASES
from tasks.planning.catalogue import offer


@flow(name="migration-master")
def master_flow(
    client: str,
    engagement: str,
    inventory: str | list[str] | None = None,
    dependencies: list[str] | None = None,
    phases: list[str] | None = None,
    max_wave_size: int = 25,
    start_date: str | None = None,
    as_of: str | None = None,
    inject_failures: dict[str, int] | None = None,
    review: bool = False,
    review_timeout_seconds: int = 24 * 3600,
    mapping_overrides: dict[str, str] | None = None,
    six_r_overrides: dict[str, str] | None = None,
    user: str | None = None,
    max_wave_ram_gb: float | None = None,
    max_wave_storage_gb: float | None = None,
    pilot_size: int | None = None,
    blackouts: list[dict[str, str]] | None = None,
    wave_pins: dict[str, int] | None = None,
    six_r_rules: str | dict[str, Any] | None = None,
    questionnaire: str | dict[str, Any] | None = None,
    max_parallel_waves: int = 3,
    provider: str = "aws",
    region: str | None = None,
    headroom: float | None = None,
    team_capacity: dict[str, float] | None = None,
) -> dict[str, Any] | State[Any]:
    """Run the chosen phases (default: all five) for one engagement, each as a subflow.

    The flow-run id is the ``master_flows`` primary key. Without ``inventory``, discovery reads
    the engagement's registered sources (``mfactory sources add``). A phase starts only with an
    accepted handoff from the one before it (or, when the run starts later than discovery,
    the engagement's latest accepted handoff into that phase). A second run of the same
    engagement while one is active is refused.

    With ``review`` the run pauses for a human (Prefect UI form or API) on low-confidence column
    mappings, on the 6R editor and before cutover; without it, answers given here up front
    (``mapping_overrides``, ``six_r_overrides``, ``user``) are applied and the run goes straight through.
    Planning: ``provider``/``region``/``headroom`` choose the right-sizing target (catalogue defaults when
    unset), ``team_capacity`` ({role: hours a week}) the team; ``max_parallel_waves`` run at once.
    """
    chosen = [p for p in PHASES if p in (phases or PHASES)]
    unknown = set(phases or []) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phase(s) {sorted(unknown)}; phases are {list(PHASES)}")
    offer(provider, region)  # an unknown target provider/region fails here, before any phase runs
    master_flow_id = uuid.UUID(str(flow_run.id))
    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client=client, engagement=engagement)
    if "discovery" in chosen and not inventory:
        inventory, dependencies = _registered_sources(tenant, client, engagement)
    params = {
        "inventory": inventory,
        "dependencies": dependencies or [],
        "max_wave_size": max_wave_size,
        "start_date": start_date,
        "as_of": as_of,
        "inject_failures": inject_failures or {},
        "review": review,
        "review_timeout_seconds": review_timeout_seconds,
        "mapping_overrides": mapping_overrides or {},
        "overrides": six_r_overrides or {},
        "user": user,
        "max_wave_ram_gb": max_wave_ram_gb,
        "max_wave_storage_gb": max_wave_storage_gb,
        "pilot_size": pilot_size,
        "blackouts": blackouts or [],
        "wave_pins": wave_pins or {},
        "six_r_rules": six_r_rules,
        "questionnaire": questionnaire,
        "max_parallel_waves": max_parallel_waves,
        "provider": provider,
        "region": region,
        "headroom": headroom,
        "team_capacity": team_capacity or {},
    }
    with engagement_lock(tenant.engagement_id) as acquired:
        if not acquired:
            raise TenantContextError(f"{client} / {engagement} already has a master run in progress")
        with tenant_session(tenant) as session:
            create_master_flow(
                session=session,
                tenant=tenant,
                master_flow_id=master_flow_id,
                parameters={"client": client, "engagement": engagement, "phases": chosen, **params},
            )
            handoff = None
            if chosen[0] != "discovery":
                previous = latest_accepted_handoff(session=session, target_phase=chosen[0])
                if previous is None:
                    raise ValueError(f"no accepted handoff into {chosen[0]} for this engagement yet")
                handoff = previous.id
        results = []
        for phase in chosen:
            state = PHASE_FLOWS[phase](
                client_account_id=tenant.client_account_id,
                engagement_id=tenant.engagement_id,
                master_flow_id=master_flow_id,
                input_handoff_id=handoff,
                params=params,
                return_state=True,
            )
            if not state.is_completed():
                rolled_back = state.name == ROLLED_BACK
                with tenant_session(tenant) as session:
                    update_master_flow(
                        session=session,
                        master_flow_id=master_flow_id,
                        status="rolled_back" if rolled_back else "failed",
                        status_reason=state.message,
                        current_phase=phase,
                    )
                return Failed(message=f"{phase}: {state.message}")
            result = state.result()
            results.append(result)
            handoff = uuid.UUID(result["handoff_id"])
        summary = {"phases": [{"phase": r["phase"], "phase_flow_id": r["phase_flow_id"]} for r in results]}
        with tenant_session(tenant) as session:
            update_master_flow(
                session=session,
                master_flow_id=master_flow_id,
                status="completed",
                progress=1.0,
                summary=summary,
            )
    create_markdown_artifact(
        key=artifact_key("master", "summary", tenant.engagement_id),
        markdown=_summary_markdown(client, engagement, master_flow_id, results),
        description=f"{client} / {engagement}: master run summary",
    )
    return {"master_flow_id": str(master_flow_id), "status": "completed", **summary}


def _registered_sources(tenant: Tenant, client: str, engagement: str) -> tuple[list[str], list[str]]:
    """Local copies of the engagement's registered inventory and dependency sources (all of them:
    several inventories are imported together and de-duplicated)."""
    with tenant_session(tenant) as session:
        sources = active_sources(session=session)
    if not sources["inventory"]:
        raise ValueError(
            f"discovery needs an inventory: pass one, or register it with "
            f"`mfactory sources add --client {client!r} --engagement {engagement!r} --inventory PATH`"
        )
    inventories = [str(local_copy(i)) for i in sources["inventory"]]
    return inventories, [str(local_copy(d)) for d in sources["dependencies"]]


def _summary_markdown(
    client: str, engagement: str, master_flow_id: uuid.UUID, results: list[dict[str, Any]]
) -> str:
    lines = [f"# {client} / {engagement}", f"Master run `{master_flow_id}`: completed", ""]
    for result in results:
        lines.append(f"## {result['phase']}")
        for step, metrics in result["steps"].items():
            shown = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
            lines.append(f"- **{step}**: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    return "\n".join(lines)
