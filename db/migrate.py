"""Apply or revert the Alembic migrations programmatically (CLI, tests, first run)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from alembic.config import Config

from alembic import command
from mfactory.settings import PROJECT_ROOT, Settings


def alembic_config(settings: Settings | None = None) -> Config:
    """Alembic's config; ``settings`` (default: the global ones) choose the database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["settings"] = settings
    return config


def revision_module(name: str) -> ModuleType:
    """The migration file ``alembic/versions/<name>.py`` as a module.

    A migration that redefines a SQL function derives its text from the revision that wrote it
    before (and restores that text on downgrade), rather than carrying a copy of it.
    """
    path = PROJECT_ROOT / "alembic" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade(revision: str = "head", *, settings: Settings | None = None) -> None:
    """Bring schema ``migration`` to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(revision: str = "base", *, settings: Settings | None = None) -> None:
    command.downgrade(alembic_config(settings), revision)


def check(*, settings: Settings | None = None) -> None:
    """Raise if the models and the migrations disagree (autogenerate diff)."""
    command.check(alembic_config(settings))
