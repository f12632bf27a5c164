"""Bulk writes into RLS-protected tables: COPY into a temporary stage, then one INSERT … SELECT.

PostgreSQL refuses ``COPY FROM`` into a table with row-level security for a role bound by
it, so rows go first into a transaction-local temporary table (no RLS, no triggers) and
then into the real table in one set-based statement, where the policies' WITH CHECK and
the change-capture trigger apply once for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

#: From this many rows on, a load refreshes the table's planner statistics (see migration 0003).
STATISTICS_THRESHOLD = 1_000


def _staged(session: Session, table: str, stage: str, names: str, rows: Iterable[Sequence[Any]]) -> Any:
    """COPY ``rows`` into a transaction-local temp table shaped like ``names`` of ``migration.<table>``;
    returns the cursor, for the one set-based statement that follows."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM migration.{table} WITH NO DATA"
    )
    with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return cursor


def copy_into(*, session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` into ``migration.<table>`` (through a stage); returns the rows inserted."""
    stage = f"stage_{table}"
    names = ", ".join(columns)
    cursor = _staged(session, table, stage, names, rows)
    cursor.execute(f"INSERT INTO migration.{table} ({names}) SELECT {names} FROM {stage}")
    inserted = int(cursor.rowcount)
    if inserted >= STATISTICS_THRESHOLD:
        refresh_statistics(session=session, table=table)
    return inserted


def refresh_statistics(*, session: Session, table: str) -> None:
    """Re-ANALYZE ``migration.<table>`` after a bulk change so the next query plans for its real size."""
    session.execute(text("SELECT migration.refresh_statistics(:t)"), {"t": table})


def update_from_rows(
    *, session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Set ``columns`` (after ``id``) of ``migration.<table>`` from ``rows`` keyed by id, in one UPDATE."""
    stage = f"stage_update_{table}"
    names = ", ".join(["id", *columns])
    cursor = _staged(session, table, stage, names, rows)
    cursor.execute(f"ANALYZE {stage}")
    assignments = ", ".join(f"{c} = s.{c}" for c in columns)
    cursor.execute(f"UPDATE migration.{table} t SET {assignments} FROM {stage} s WHERE t.id = s.id")
    updated = int(cursor.rowcount)
    if updated >= STATISTICS_THRESHOLD:  # e.g. wave_id just set on 100k assets: joins on it must see that
        refresh_statistics(session=session, table=table)
    return updated
