"""Sessions as the application role, with tenant (and flow) context set per transaction.

``SET LOCAL`` (``set_config(..., true)``) scopes the context to the transaction, so a
pooled connection never carries one tenant's context into another's work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import get_app_engine


@dataclass(frozen=True)
class Tenant:
    """The (client account, engagement) pair every tenant row belongs to."""

    client_account_id: uuid.UUID
    engagement_id: uuid.UUID


_SET_CONTEXT = text(
    "SELECT set_config('app.client_account_id', :c, true),"
    " set_config('app.engagement_id', :e, true),"
    " set_config('app.flow_run_id', :f, true),"
    " set_config('app.step_name', :s, true)"
)


def set_context(
    session: Session,
    tenant: Tenant | None,
    flow_run_id: uuid.UUID | None = None,
    step_name: str | None = None,
) -> None:
    """Set (or clear, with ``None``) the tenant, flow and step context of the current transaction."""
    session.execute(
        _SET_CONTEXT,
        {
            "c": str(tenant.client_account_id) if tenant else "",
            "e": str(tenant.engagement_id) if tenant else "",
            "f": str(flow_run_id) if flow_run_id else "",
            "s": step_name or "",
        },
    )


@contextmanager
def tenant_session(
    tenant: Tenant | None, *, flow_run_id: uuid.UUID | None = None, step_name: str | None = None
) -> Iterator[Session]:
    """One transaction as the app role in ``tenant``'s context; commits on success.

    With ``flow_run_id`` every change to a captured table is recorded in ``change_log``
    under that flow, which is what makes the flow's work undoable.
    """
    with Session(get_app_engine(), expire_on_commit=False) as session, session.begin():
        set_context(session, tenant, flow_run_id, step_name)
        yield session
