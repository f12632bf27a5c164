"""Assessment step 2 — Treatment (6R): first matching rule of a versioned rule set decides."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from mfactory.settings import PACKAGE_DATA
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

RULES_FILE = PACKAGE_DATA / "six_r_rules.yaml"
COLUMNS = [
    "asset_name",
    "asset_type",
    "os_family",
    "os_name",
    "power_state",
    "environment",
    "description",
    "cpu_utilization_avg",
    "end_of_support_date",
    "six_r_strategy",
    "six_r_locked",
]


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def derive_flags(assets: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Add the derived flags the rules refer to."""
    frame = assets.copy()
    eos = pd.to_datetime(frame["end_of_support_date"], errors="coerce")
    frame["eos_past"] = (eos < pd.Timestamp(today)).fillna(False)
    frame["idle"] = pd.to_numeric(frame["cpu_utilization_avg"], errors="coerce").lt(5).fillna(False)
    frame["is_db"] = frame["asset_type"].eq("database")
    frame["is_app"] = frame["asset_type"].eq("application")
    frame["commercial_db"] = (
        frame["description"].fillna("").str.contains(r"oracle|sql server|db2", case=False, regex=True)
    )
    return frame


def decide(assets: pd.DataFrame, rules: dict[str, Any], today: dt.date) -> pd.DataFrame:
    """One strategy, confidence and rationale per unlocked asset (locked ones keep theirs)."""
    frame = derive_flags(assets, today)
    decided = pd.Series(False, index=frame.index)
    out = pd.DataFrame(index=frame.index, columns=["six_r_strategy", "six_r_confidence", "six_r_rationale"])
    for rule in rules["rules"]:
        hit = frame.eval(rule["when"]).astype(bool) & ~decided
        out.loc[hit, "six_r_strategy"] = rule["strategy"]
        out.loc[hit, "six_r_confidence"] = rule["confidence"]
        out.loc[hit, "six_r_rationale"] = (
            f"{rule['rationale']} (rule {rule['id']}, rules v{rules['version']})"
        )
        decided |= hit
    unlocked = ~frame["six_r_locked"].astype(bool)
    result = pd.concat([frame[["id"]], out], axis=1).loc[unlocked]
    result["six_r_decided_by"] = "rules"
    result["assessment_flow_id"] = None
    return result


def treat(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Assign a 6R strategy with a rationale to every unlocked asset of the run."""
    rules = load_rules(Path(ctx.params["rules_path"])) if ctx.params.get("rules_path") else load_rules()
    today = dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    decisions = decide(assets, rules, today)
    decisions["assessment_flow_id"] = ctx.phase_flow_id
    update_assets(
        session=session,
        frame=decisions,
        columns=[
            "six_r_strategy",
            "six_r_confidence",
            "six_r_rationale",
            "six_r_decided_by",
            "assessment_flow_id",
        ],
    )
    return {
        "decided": len(decisions),
        "locked_kept": int(len(assets) - len(decisions)),
        "by_strategy": decisions["six_r_strategy"].value_counts().to_dict(),
        "rules_version": rules["version"],
    }


treatment = step_task(ASSESSMENT, "treatment", treat)
