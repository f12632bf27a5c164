"""Embedded PostgreSQL 16 + pgvector for a zero-configuration first run.

``pgserver`` ships a PostgreSQL build with pgvector. The data folder lives under
``MFACTORY_HOME`` and is reused across runs; pgserver's ``stop`` clean-up mode shuts
the server down when the last process that uses it exits.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mfactory.errors import DatabaseSetupError

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}


def embedded_admin_uri(pgdata: Path) -> str:
    """Start (or attach to) the embedded server and return its superuser URI."""
    pgdata = pgdata.resolve()
    server = _servers.get(pgdata)
    if server is None:
        try:
            import pgserver
        except ImportError as exc:  # pragma: no cover - dependency is locked
            raise DatabaseSetupError("pgserver is not installed; set DATABASE_URL") from exc
        pgdata.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return str(server.get_uri())  # type: ignore[attr-defined]
