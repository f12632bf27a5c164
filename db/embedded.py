"""Embedded PostgreSQL 16 + pgvector for a zero-configuration first run.

``pgserver`` ships a PostgreSQL build with pgvector. The data folder lives under
``MFACTORY_HOME`` and is reused across runs; pgserver's ``stop`` clean-up mode shuts
the server down when the last process that uses it exits.
"""

from __future__ import annotations

import atexit
import json
import logging
from pathlib import Path

import psutil

from mfactory.errors import DatabaseSetupError

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}
HANDLES_FILE = ".handle_pids.json"  # pgserver's list of the processes using a data folder


def _forget_dead_handles(pgdata: Path) -> None:
    """Remove processes that died without saying so from pgserver's list of the server's users.

    pgserver stops the server when the last process on its list exits, but a process killed by a
    signal (a terminated worker, a flow-run subprocess) never takes itself off; the server would
    then outlive everyone. Only pids that no longer exist are dropped.
    """
    handles = pgdata / HANDLES_FILE
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


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
        _forget_dead_handles(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        # atexit runs last-registered first: drop dead users just before pgserver decides to stop.
        atexit.register(_forget_dead_handles, pgdata)
        _servers[pgdata] = server
    return str(server.get_uri())  # type: ignore[attr-defined]
