"""``mfactory edit``: override the plan of an engagement (6R, wave, wave dates, locks), audited.

Overrides are stored for the engagement, not for one run: every later ``mfactory run`` (or an
assessment re-run, ``--phases assessment``) applies them until they are revoked. An override is
checked against the engagement's current plan when it is given, so a misspelt asset fails here.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from db.session import Tenant
    from tasks.assessment.overrides import OverrideRequest

edit_app = typer.Typer(
    help="Override an engagement's plan: an asset's 6R or wave, a wave's dates, locks. Kept across runs.",
    no_args_is_help=True,
)

Client = Annotated[str, typer.Option(help="Client account name.")]
EngagementName = Annotated[str, typer.Option(help="Engagement name.")]
User = Annotated[str | None, typer.Option(help="Who makes the change (audit trail); default: you.")]
Reason = Annotated[str | None, typer.Option(help="Why (kept with the override and in the audit trail).")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _tenant(client: str, engagement: str) -> Tenant:
    from db.migrate import upgrade
    from db.repositories.tenants import ensure_tenant
    from db.session import tenant_session
    from mfactory.errors import TenantContextError

    upgrade()
    try:
        with tenant_session(None) as session:
            return ensure_tenant(session=session, client=client, engagement=engagement, create=False)
    except TenantContextError as exc:
        raise _fail(str(exc)) from exc


def _give(client: str, engagement: str, user: str | None, make: Any, *args: Any) -> None:
    """Build a request with ``make(*args)``, store it against the current plan and say what happened."""
    from db.session import tenant_session
    from tasks.assessment.editing import current_run, record

    try:
        request: OverrideRequest = make(*args)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    tenant = _tenant(client, engagement)
    try:
        with tenant_session(tenant) as session:
            stored = record(
                session=session,
                tenant=tenant,
                run_id=current_run(session=session),
                requests=[request],
                actor=user or getpass.getuser(),
                source="cli",
            )[0]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    state = "recorded" if stored["changed"] else "unchanged (already in force)"
    typer.echo(f"override {stored['id']}: {request.kind} {request.subject} {state}")
    typer.echo("it applies from the next run: mfactory run ... (or --phases assessment to re-plan)")


@edit_app.command("six-r")
def six_r(
    asset: Annotated[str, typer.Argument(help="Asset name.")],
    strategy: Annotated[str, typer.Argument(help="rehost, replatform, refactor, ..., retire, retain.")],
    client: Client,
    engagement: EngagementName,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Set ASSET's 6R strategy (decided_by=user, locked against the rules)."""
    from tasks.assessment.overrides import six_r_request

    _give(client, engagement, user, six_r_request, asset, strategy, reason)


@edit_app.command("wave")
def wave(
    asset: Annotated[str, typer.Argument(help="Asset name.")],
    number: Annotated[str, typer.Argument(help="Wave number (from 1).")],
    client: Client,
    engagement: EngagementName,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Pin ASSET into wave NUMBER (its dependants follow it while the wave has room)."""
    from tasks.assessment.overrides import wave_request

    _give(client, engagement, user, wave_request, asset, number, reason)


@edit_app.command("dates")
def dates(
    number: Annotated[str, typer.Argument(help="Wave number.")],
    start: Annotated[str, typer.Argument(help="Start date YYYY-MM-DD.")],
    client: Client,
    engagement: EngagementName,
    end: Annotated[str | None, typer.Argument(help="End date (default: the wave's planned length).")] = None,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Fix wave NUMBER's dates; the waves after it follow it (a gap after its end, blackouts kept)."""
    from tasks.assessment.overrides import dates_request

    _give(client, engagement, user, dates_request, number, start, end, reason)


@edit_app.command("lock")
def lock(
    asset: Annotated[str, typer.Argument(help="Asset name.")],
    client: Client,
    engagement: EngagementName,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Keep ASSET's current 6R strategy and wave in every re-plan."""
    from tasks.assessment.overrides import lock_request

    _give(client, engagement, user, lock_request, asset, reason)


@edit_app.command("unlock")
def unlock(
    asset: Annotated[str, typer.Argument(help="Asset name.")],
    client: Client,
    engagement: EngagementName,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Revoke ASSET's lock (its explicit 6R or wave overrides, if any, stay)."""
    from db.repositories.overrides import find_active
    from db.session import tenant_session

    tenant = _tenant(client, engagement)
    with tenant_session(tenant) as session:
        found = find_active(session=session, kind="lock", subject=asset)
    if found is None:
        raise _fail(f"{asset!r} is not locked (see `mfactory edit list`)")
    _revoke(tenant, str(found.id), user, reason)


@edit_app.command("revoke")
def revoke(
    override_id: Annotated[str, typer.Argument(help="Override id (from `mfactory edit list`).")],
    client: Client,
    engagement: EngagementName,
    user: User = None,
    reason: Reason = None,
) -> None:
    """Revoke an override: the next run decides and plans that subject freely again."""
    _revoke(_tenant(client, engagement), override_id, user, reason)


def _revoke(tenant: Tenant, override_id: str, user: str | None, reason: str | None) -> None:
    from db.repositories.overrides import revoke_override
    from db.session import tenant_session
    from tasks.assessment.overrides import override_id as parse_id

    try:
        with tenant_session(tenant) as session:
            found = revoke_override(
                session=session,
                tenant=tenant,
                override_id=parse_id(override_id),
                actor=user or getpass.getuser(),
                reason=reason,
            )
            typer.echo(f"override {found.id}: {found.kind} {found.subject} revoked")
    except (ValueError, LookupError) as exc:
        raise _fail(str(exc)) from exc


@edit_app.command("list")
def list_overrides(
    client: Client,
    engagement: EngagementName,
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked overrides.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the engagement's overrides (active ones unless --all)."""
    from db.repositories.overrides import list_overrides as listed
    from db.session import tenant_session

    tenant = _tenant(client, engagement)
    with tenant_session(tenant) as session:
        found = [
            {
                "id": str(o.id),
                "kind": o.kind,
                "subject": o.subject,
                "value": o.value,
                "reason": o.reason,
                "source": o.source,
                "created_by": o.created_by,
                "created_at": o.created_at.isoformat(),
                "revoked_at": o.revoked_at.isoformat() if o.revoked_at else None,
                "revoked_by": o.revoked_by,
            }
            for o in listed(session=session, include_revoked=include_revoked)
        ]
    if as_json:
        typer.echo(json.dumps({"overrides": found}, indent=2))
        return
    for o in found:
        state = f"revoked by {o['revoked_by']}" if o["revoked_at"] else "active"
        value = json.dumps(o["value"], sort_keys=True)
        typer.echo(f"{o['id']}  {o['kind']:<10} {o['subject']:<24} {value}  by {o['created_by']} ({state})")
