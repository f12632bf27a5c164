"""Engines for the two roles: the admin/owner path (migrations) and the application role.

The application role is neither superuser, nor owner, nor BYPASSRLS, so row-level
security applies to every query the product makes at run time.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.embedded import embedded_admin_uri
from mfactory.settings import Settings, get_settings

APP_DATABASE = "mfactory"


def admin_url(settings: Settings | None = None) -> str:
    """URL of a role allowed to create roles, schemas and extensions."""
    settings = settings or get_settings()
    if settings.database_url is not None:
        return settings.database_url
    raw = make_url(embedded_admin_uri(settings.pgdata))
    return raw.set(drivername="postgresql+psycopg", database=APP_DATABASE).render_as_string(
        hide_password=False
    )


def app_url(settings: Settings | None = None) -> str:
    """URL of the non-owner application role on the same database."""
    settings = settings or get_settings()
    url = make_url(admin_url(settings)).set(username=settings.app_role, password=settings.app_password)
    return url.render_as_string(hide_password=False)


def ensure_database(settings: Settings | None = None) -> None:
    """Create the embedded server's application database if it is missing."""
    settings = settings or get_settings()
    if settings.database_url is not None:
        return
    server_url = make_url(admin_url(settings)).set(database="postgres")
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": APP_DATABASE})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{APP_DATABASE}"'))
    finally:
        engine.dispose()


_engines: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        _engines[url] = engine
    return engine


def get_admin_engine() -> Engine:
    ensure_database()
    return _engine(admin_url())


def get_app_engine() -> Engine:
    ensure_database()
    return _engine(app_url())


def dispose_engines() -> None:
    """Close pooled connections (tests switch databases between sessions)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
