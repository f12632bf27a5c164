"""Test fixtures: a fresh embedded PostgreSQL + pgvector and an isolated Prefect per session.

The environment is fixed here, before Prefect, CrewAI or the settings are imported:
temporary homes (CrewAI writes under HOME), telemetry off (it hangs with no network).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="mf-tests-"))
os.environ["HOME"] = str(_TMP / "home")
os.environ["MFACTORY_HOME"] = str(_TMP / "mfactory")
os.environ["PREFECT_HOME"] = str(_TMP / "prefect")
os.environ.pop("DATABASE_URL", None)
os.environ.update(
    {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "CREWAI_DISABLE_TELEMETRY": "true",
        "OTEL_SDK_DISABLED": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
    }
)
(_TMP / "home").mkdir()

import pytest  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from db import migrate  # noqa: E402
from db.engine import dispose_engines, get_admin_engine, get_app_engine  # noqa: E402
from db.repositories.tenants import ensure_tenant  # noqa: E402
from db.session import Tenant, tenant_session  # noqa: E402
from mfactory.settings import get_settings  # noqa: E402


@pytest.fixture(scope="session")
def database() -> Iterator[None]:
    """Schema ``migration`` at head on the session's embedded server."""
    get_settings.cache_clear()
    migrate.upgrade()
    yield
    dispose_engines()


@pytest.fixture(scope="session")
def admin_engine(database: None) -> Engine:
    return get_admin_engine()


@pytest.fixture(scope="session")
def app_engine(database: None) -> Engine:
    return get_app_engine()


@pytest.fixture
def make_tenant(database: None) -> Callable[..., Tenant]:
    """Create a fresh (client account, engagement) with unique names."""

    def _make(client: str | None = None, engagement: str = "DC exit") -> Tenant:
        with tenant_session(None) as session:
            return ensure_tenant(
                session=session, client=client or f"client-{uuid.uuid4().hex[:8]}", engagement=engagement
            )

    return _make


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """An isolated Prefect API (SQLite) for the whole session, heartbeats off."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=180),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield
