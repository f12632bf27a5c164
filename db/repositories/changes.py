"""Undo of everything one flow wrote, from its change_log before-images."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mfactory.errors import RollbackIntegrityError


def undo_flow_changes(
    *, session: Session, flow_run_id: uuid.UUID, undone_by: uuid.UUID, step_name: str | None = None
) -> dict[str, Any]:
    """Undo ``flow_run_id``'s changes (or one step's) newest batch first, in the caller's transaction.

    Raises ``RollbackIntegrityError`` if a touched row does not match its state before the
    flow afterwards; the caller's transaction then rolls the whole undo back.
    """
    report: dict[str, Any] = session.execute(
        text("SELECT migration.undo_flow_changes(:f, :b, :s)"),
        {"f": flow_run_id, "b": undone_by, "s": step_name},
    ).scalar_one()
    if not report["passed"]:
        raise RollbackIntegrityError(
            f"undo of flow {flow_run_id}: {report['mismatches']} row(s) differ from their "
            f"before-image: {report['tables']}"
        )
    return report


def undid_raw_records(report: dict[str, Any]) -> bool:
    """Whether an undo deleted raw import rows (their emptied partitions can then be dropped)."""
    return "raw_import_records" in report.get("tables", {})


def pending_change_count(*, session: Session, flow_run_id: uuid.UUID) -> int:
    """How many captured row changes of a flow are not undone yet.

    Counted per row, whatever the form: an INSERT entry holds all its ids in ``row_ids``.
    """
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(coalesce(cardinality(row_ids), 1)), 0) FROM migration.change_log"
                " WHERE flow_run_id = :f AND undone_at IS NULL"
            ),
            {"f": flow_run_id},
        ).scalar_one()
    )
