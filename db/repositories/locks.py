"""One run per engagement at a time, enforced with a PostgreSQL advisory lock.

Why refuse rather than queue: two runs of one engagement would plan waves from each
other's half-written inventory; refusing says so at once, and the lock dies with the
connection, so a crashed run never blocks the engagement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from db.engine import get_app_engine


@contextmanager
def engagement_lock(engagement_id: uuid.UUID) -> Iterator[bool]:
    """Yield True if this process now holds the engagement's run lock, False if another does."""
    with get_app_engine().connect() as conn:
        key = {"k": f"mfactory-run:{engagement_id}"}
        acquired = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"), key).scalar()
        )
        conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), key)
                conn.commit()
