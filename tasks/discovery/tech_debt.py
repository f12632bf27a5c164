"""Step 6 — Tech Debt: end-of-support operating systems and databases, from reference data."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy.orm import Session

from db.repositories.assets import apply_end_of_support
from mfactory.settings import PACKAGE_DATA
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


@lru_cache(maxsize=1)
def lifecycle_rules() -> dict[str, list[dict[str, Any]]]:
    """The versioned OS/DB lifecycle table (mfactory/data/os_lifecycle.yaml)."""
    return yaml.safe_load((PACKAGE_DATA / "os_lifecycle.yaml").read_text(encoding="utf-8"))


def assess_tech_debt(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Stamp each asset's end-of-support date and count those past it or close to it."""
    rules = lifecycle_rules()
    today = dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()
    return apply_end_of_support(
        session=session,
        master_flow_id=ctx.assets_run_id,
        os_rules=rules["operating_systems"],
        db_rules=rules["databases"],
        today=today,
    )


tech_debt = step_task(DISCOVERY, "tech_debt", assess_tech_debt)
