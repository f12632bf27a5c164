"""Apply or revert the Alembic migrations programmatically (CLI, tests, first run)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from mfactory.settings import PROJECT_ROOT


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def upgrade(revision: str = "head") -> None:
    """Bring schema ``migration`` to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str = "base") -> None:
    command.downgrade(alembic_config(), revision)


def check() -> None:
    """Raise if the models and the migrations disagree (autogenerate diff)."""
    command.check(alembic_config())
