"""Pieces the command modules share."""

from __future__ import annotations

import uuid
from typing import Any

import typer


def locate_or_exit(master_flow_id: uuid.UUID | None) -> tuple[uuid.UUID, Any]:
    """(master run id, its tenant) for the given run or the latest one; exit 1 when there is none."""
    from db.repositories.tenants import locate_master_flow
    from db.session import tenant_session

    with tenant_session(None) as session:
        located = locate_master_flow(session=session, master_flow_id=master_flow_id)
    if located is None:
        typer.echo("error: no master run found", err=True)
        raise typer.Exit(code=1)
    return located
