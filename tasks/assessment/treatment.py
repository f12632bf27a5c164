"""Assessment step 2 — Treatment (6R): the first matching rule of a versioned rule set decides.

Run parameters: ``six_r_rules`` (path to an override rule file, or the overrides inline, merged
over mfactory/data/six_r_rules.yaml; ``rules_path`` is still read as the same thing) and
``questionnaire`` (path or inline per-application answers). Assets a person locked keep their
decision; the engagement's stored overrides (``tasks.assessment.editing``) are applied
after the rules. The step's metrics carry the per-application roll-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from tasks.assessment.editing import apply_six_r, prepare_treatment
from tasks.assessment.questionnaire import answers
from tasks.assessment.six_r_decide import application_rollup, decide
from tasks.assessment.six_r_rules import RULES_FILE, rule_set
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

__all__ = ["RULES_FILE", "treat", "treatment"]

COLUMNS = [
    "asset_name",
    "asset_type",
    "application_name",
    "os_family",
    "os_name",
    "power_state",
    "environment",
    "description",
    "virtualization_platform",
    "database_engine",
    "database_version",
    "cpu_utilization_avg",
    "cpu_utilization_peak",
    "end_of_support_date",
    "custom_attributes",
    "six_r_strategy",
    "six_r_confidence",
    "six_r_rationale",
    "six_r_decided_by",
    "six_r_locked",
]
WRITTEN = ["six_r_strategy", "six_r_confidence", "six_r_rationale", "six_r_decided_by", "assessment_flow_id"]


def treat(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Assign a 6R strategy with a fact-listing rationale to every unlocked asset of the run."""
    rules = rule_set(ctx.params.get("six_r_rules") or ctx.params.get("rules_path"))
    table = answers(ctx.params.get("questionnaire"), rules.get("questions") or {})
    today = dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()
    overrides = prepare_treatment(session, ctx)  # store this run's answers, free revoked locks
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    decisions = decide(assets, rules, today, table)
    unlocked = decisions.loc[~decisions["six_r_locked"]].copy()
    unlocked["assessment_flow_id"] = ctx.phase_flow_id
    update_assets(session=session, frame=unlocked, columns=WRITTEN)
    overrides |= apply_six_r(session, ctx)  # the engagement's stored 6R overrides and locks, audited
    rollup = application_rollup(decisions)
    return {
        "decided": len(unlocked),
        "locked_kept": int(len(decisions) - len(unlocked)),
        "by_strategy": unlocked["six_r_strategy"].value_counts().to_dict(),
        "by_rule": unlocked["six_r_rule"].value_counts().to_dict(),
        "rules_version": str(rules["version"]),
        "questionnaire_applications": len(table),
        "overrides": overrides,
        "applications": rollup.set_index("application_name")[["six_r_strategy", "confidence", "assets"]]
        .rename(columns={"six_r_strategy": "strategy"})
        .astype({"confidence": float, "assets": int})
        .to_dict("index"),
    }


treatment = step_task(ASSESSMENT, "treatment", treat)
