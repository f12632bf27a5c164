"""6R decisions over an asset frame: facts, first matching rule, rationale, application roll-up.

Everything is vectorised over assets: each rule is one pandas mask, each fact of a rationale one
string column operation; the only Python loops are over rules and their facts. An asset is
decided by the enabled rule with the lowest priority that matches it, and its rationale lists
the facts that rule names with the asset's own values, so a reviewer sees why without the code.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

import numpy as np
import pandas as pd

from mfactory.errors import ImportFormatError
from tasks.assessment.questionnaire import join_answers
from tasks.assessment.six_r_rules import ordered_rules

UNKNOWN = "unknown"
USER_PRIORITY = float("-inf")  # a person's (locked) decision outranks every rule in a roll-up
DECISION_COLUMNS = ["six_r_strategy", "six_r_confidence", "six_r_rationale", "six_r_rule", "six_r_priority"]


def _custom(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The first of ``keys`` present in each asset's custom_attributes (NaN when none is)."""
    found = pd.Series(np.nan, index=frame.index, dtype=object)
    if "custom_attributes" not in frame:
        return found
    attributes = frame["custom_attributes"].astype(object)
    for key in keys:
        found = found.where(found.notna(), attributes.str.get(key))
    return found


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column] if column in frame else _custom(frame, [column])
    return values.astype(object).where(values.notna(), "").astype(str)


def derive_facts(assets: pd.DataFrame, rules: dict[str, Any], today: dt.date) -> pd.DataFrame:
    """``assets`` plus the derived facts the rules refer to (flags, days inactive, signals)."""
    params = rules.get("parameters", {})
    frame = assets.copy()
    for column in (
        "power_state",
        "environment",
        "asset_type",
        "os_family",
        "application_name",
        "end_of_support_date",
        "cpu_utilization_avg",
        "cpu_utilization_peak",
    ):
        if column not in frame:
            frame[column] = None
    eos = pd.to_datetime(frame["end_of_support_date"], errors="coerce")
    frame["eos_past"] = (eos < pd.Timestamp(today)).fillna(False).astype(bool)
    cpu_avg = pd.to_numeric(frame["cpu_utilization_avg"], errors="coerce")
    cpu_peak = pd.to_numeric(frame["cpu_utilization_peak"], errors="coerce")
    frame["idle"] = (
        cpu_avg.lt(float(params.get("idle_cpu_percent", 5)))
        & (cpu_peak.isna() | cpu_peak.lt(float(params.get("idle_peak_cpu_percent", 100))))
    ).astype(bool)
    frame["is_db"] = frame["asset_type"].eq("database").fillna(False).astype(bool)
    frame["is_app"] = frame["asset_type"].eq("application").fillna(False).astype(bool)
    since = pd.to_datetime(_custom(frame, list(params.get("inactive_since_fields", []))), errors="coerce")
    days_since = (pd.Timestamp(today) - since).dt.days
    days_given = pd.to_numeric(_custom(frame, list(params.get("inactive_days_fields", []))), errors="coerce")
    frame["days_inactive"] = pd.concat([days_since, days_given], axis=1).max(axis=1)
    for name, signal in (rules.get("signals") or {}).items():
        text = pd.Series("", index=frame.index, dtype=object)
        for column in signal["columns"]:
            text = text + " " + _text(frame, column)
        frame[name] = text.str.contains(signal["pattern"], case=False, regex=True).astype(bool)
    return frame


def _display(values: pd.Series) -> pd.Series:
    """Values as rationale text: numbers without a spurious .0, dates ISO, missing as 'unknown'."""
    missing = values.isna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        shown = values.round(1).astype(str).str.replace(r"\.0$", "", regex=True)
    elif pd.api.types.is_datetime64_any_dtype(values):
        shown = values.dt.strftime("%Y-%m-%d")
    else:
        shown = values.astype(object).astype(str).str.strip(",").str.replace(",", ", ", regex=False)
    return shown.where(~missing, UNKNOWN).astype(str)


def render(template: str, frame: pd.DataFrame) -> pd.Series:
    """``template`` with each ``{column}`` replaced by the row's value, for every row of ``frame``."""
    out = pd.Series("", index=frame.index, dtype=object)
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        out = out + literal
        if field:
            values = frame[field] if field in frame else pd.Series(None, index=frame.index, dtype=object)
            out = out + _display(values)
    return out


def _mask(frame: pd.DataFrame, rule: dict[str, Any], params: dict[str, Any]) -> pd.Series:
    """The rule's ``when`` as a boolean mask over the frame (missing values never match)."""
    try:
        result = frame.eval(rule["when"], engine="python", local_dict=params)
    except Exception as exc:
        raise ImportFormatError(
            f"rule {rule['id']!r}: cannot evaluate {rule['when']!r}: {exc}", file="six_r_rules", column="when"
        ) from exc
    if np.isscalar(result):
        return pd.Series(bool(result), index=frame.index)
    mask = pd.Series(np.asarray(result), index=frame.index)
    return mask.fillna(False).astype(bool)


def decide(
    assets: pd.DataFrame,
    rules: dict[str, Any],
    today: dt.date,
    answers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Strategy, confidence, rationale, rule and priority for every asset (locked ones keep theirs).

    ``answers`` is the questionnaire table (``questionnaire.answers``); without it every question
    column is empty, so rules that need an answer simply do not match.
    """
    questions = rules.get("questions") or {}
    table = answers if answers is not None else pd.DataFrame(columns=[f"q_{q}" for q in questions])
    frame = join_answers(derive_facts(assets, rules, today), table, questions, today)
    params = {k: v for k, v in (rules.get("parameters") or {}).items() if not isinstance(v, (list, dict))}
    facts = rules.get("facts") or {}
    locked = frame["six_r_locked"].fillna(False).astype(bool) if "six_r_locked" in frame else False
    undecided = pd.Series(True, index=frame.index) & ~pd.Series(locked, index=frame.index)
    out = pd.DataFrame(index=frame.index, columns=DECISION_COLUMNS, dtype=object)
    for rule in ordered_rules(rules):
        hit = _mask(frame, rule, params) & undecided
        if not hit.any():
            continue
        chosen = frame.loc[hit]
        cited = [render(facts[name], chosen) for name in rule.get("facts") or []]
        rationale = pd.Series(f"{rule['rationale']}", index=chosen.index, dtype=object)
        if cited:
            joined = cited[0]
            for more in cited[1:]:
                joined = joined + "; " + more
            rationale = rationale + ": " + joined
        rationale = rationale + f" [rule {rule['id']}, rules v{rules['version']}]"
        out.loc[hit, "six_r_strategy"] = rule["strategy"]
        out.loc[hit, "six_r_confidence"] = float(rule["confidence"])
        out.loc[hit, "six_r_rationale"] = rationale
        out.loc[hit, "six_r_rule"] = rule["id"]
        out.loc[hit, "six_r_priority"] = float(rule["priority"])
        undecided &= ~hit
    result = pd.concat([frame[["id"]], out], axis=1)
    result["six_r_locked"] = locked
    result["six_r_decided_by"] = "rules"
    if isinstance(locked, pd.Series) and locked.any():
        for column in ("six_r_strategy", "six_r_confidence", "six_r_rationale", "six_r_decided_by"):
            if column in frame:
                result.loc[locked, column] = frame.loc[locked, column]
        result.loc[locked, "six_r_rule"] = "locked"
        result.loc[locked, "six_r_priority"] = USER_PRIORITY
    result["application_name"] = frame["application_name"]
    return result


def application_rollup(decisions: pd.DataFrame) -> pd.DataFrame:
    """Per application: the strategy covering most of its assets; ties go to the higher-priority rule.

    Confidence is the share of the application's assets with that strategy. Assets without an
    application name are not rolled up.
    """
    named = decisions.dropna(subset=["application_name", "six_r_strategy"])
    columns = ["application_name", "six_r_strategy", "confidence", "assets", "strategy_assets"]
    if named.empty:
        return pd.DataFrame(columns=columns)
    counts = (
        named.assign(priority=pd.to_numeric(named["six_r_priority"], errors="coerce").fillna(np.inf))
        .groupby(["application_name", "six_r_strategy"], sort=False)
        .agg(strategy_assets=("id", "size"), best_priority=("priority", "min"))
        .reset_index()
    )
    counts["assets"] = counts.groupby("application_name")["strategy_assets"].transform("sum")
    top = (
        counts.sort_values(
            ["application_name", "strategy_assets", "best_priority", "six_r_strategy"],
            ascending=[True, False, True, True],
        )
        .drop_duplicates("application_name")
        .reset_index(drop=True)
    )
    top["confidence"] = top["strategy_assets"] / top["assets"]
    return top[columns]
