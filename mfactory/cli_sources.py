"""``mfactory sources``: register the exports an engagement's scheduled re-discovery reads."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

sources_app = typer.Typer(
    help="Register an engagement's inventory/dependency exports (paths or URLs) for scheduled runs.",
    no_args_is_help=True,
)

Client = Annotated[str, typer.Option(help="Client account name (created if new).")]
EngagementName = Annotated[str, typer.Option(help="Engagement name (created if new).")]


def _absolute(location: str) -> str:
    """URLs stay as given; paths are stored absolute so a worker in another folder finds them."""
    from pathlib import Path

    if "://" in location:
        return location
    path = Path(location).expanduser().resolve()
    if not path.is_file():
        typer.echo(f"error: {location}: no such file", err=True)
        raise typer.Exit(code=2)
    return str(path)


@sources_app.command("add")
def add(
    client: Client,
    engagement: EngagementName,
    inventory: Annotated[
        list[str] | None,
        typer.Option(help="Inventory export: path or URL; repeatable (imported together, de-duplicated)."),
    ] = None,
    dependencies: Annotated[
        list[str] | None, typer.Option(help="Dependency export: path or URL; repeatable.")
    ] = None,
    add: Annotated[
        bool, typer.Option("--add", help="Keep the current inventories and add these to them.")
    ] = False,
) -> None:
    """Register sources: the inventories given replace the engagement's current ones (unless --add)."""
    from db.migrate import upgrade
    from db.repositories.sources import register_source
    from db.repositories.tenants import ensure_tenant
    from db.session import tenant_session

    if not inventory and not dependencies:
        typer.echo("error: give --inventory and/or --dependencies", err=True)
        raise typer.Exit(code=2)
    listed = [("inventory", _absolute(i)) for i in inventory or []]
    listed += [("dependencies", _absolute(d)) for d in dependencies or []]
    upgrade()
    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client=client, engagement=engagement)
    with tenant_session(tenant) as session:
        for position, (kind, location) in enumerate(listed):
            register_source(
                session=session,
                tenant=tenant,
                kind=kind,
                location=location,
                registered_by=getpass.getuser(),
                replace_inventory=position == 0 and not add,  # the call's inventories replace, together
            )
    _print(tenant_client=client, engagement=engagement)


@sources_app.command("list")
def list_sources(client: Client, engagement: EngagementName) -> None:
    """Show the engagement's active sources."""
    from db.migrate import upgrade

    upgrade()
    _print(tenant_client=client, engagement=engagement)


def _print(*, tenant_client: str, engagement: str) -> None:
    from db.repositories.sources import active_sources
    from db.repositories.tenants import ensure_tenant
    from db.session import tenant_session

    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client=tenant_client, engagement=engagement, create=False)
    with tenant_session(tenant) as session:
        sources = active_sources(session=session)
    for kind, locations in sources.items():
        for location in locations:
            typer.echo(f"{kind:<13} {location}")
