"""The one typed settings object. Nothing else reads ``os.environ``.

Why one place: the embedding model and its dimension, the database roles and the
retry policy are each decided once here, so migrations, models and flows cannot
disagree about them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(__file__).resolve().parent / "data"

EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by environment variable."""

    model_config = SettingsConfigDict(env_prefix="MFACTORY_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "MFACTORY_DATABASE_URL"),
        description="Admin URL of an external PostgreSQL 16+ with pgvector; unset = embedded.",
    )
    home: Path = Field(default=PROJECT_ROOT / ".mfactory", description="Data folder (embedded DB).")
    owner_role: str = "mfactory_owner"
    app_role: str = "mfactory_app"
    app_password: str = "mfactory_app_local"
    step_retries: int = 2
    step_retry_delay_seconds: float = 1.0
    mapping_review_threshold: float = Field(
        default=0.8, ge=0.0, le=1.0, description="Mappings less confident than this are flagged for review."
    )
    mapping_sample_rows: int = Field(default=1000, ge=1, description="Rows whose values profile a column.")
    mapping_pattern_max_distance: float = Field(
        default=0.1, gt=0.0, lt=2.0, description="Largest cosine distance at which a learned pattern applies."
    )
    mapping_pattern_neighbours: int = Field(default=5, ge=1, description="Nearest learned patterns fetched.")
    mapping_shared_patterns: bool = Field(
        default=False, description="Also reuse mapping patterns other tenants chose to share (opt-in)."
    )
    mapping_hnsw_ef_search: int = Field(
        default=100, ge=10, le=1000, description="hnsw.ef_search of pattern look-ups."
    )
    review_poll_seconds: int = Field(default=2, description="How often a paused run checks for its answer.")
    task_runner: Literal["threads", "dask"] = Field(
        default="threads", description="Where concurrent work runs: a thread pool, or a Dask cluster."
    )
    task_runner_workers: int = Field(default=4, description="Threads of the thread-pool runner.")
    dask_address: str | None = Field(
        default=None,
        description="Scheduler of an existing Dask cluster (tcp://host:8786); unset = a local cluster.",
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        """Normalise any postgres URL to SQLAlchemy's psycopg 3 driver."""
        if value is None or value == "":
            return None
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        raise ValueError("DATABASE_URL must be a postgresql:// URL")

    @field_validator("app_role", "owner_role")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"role name {value!r} must be a plain SQL identifier")
        return value

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
