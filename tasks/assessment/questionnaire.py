"""Konveyor-style questionnaire: per-application answers the 6R rules can use.

People know things an inventory does not (the licence ends next year, the team knows
containers, the app is being switched off). The questionnaire is a YAML file (or the same
shape inline) that answers the questions the rule set declares, per application::

    version: 1
    applications:
      payroll:
        business_value: low
        license_ends: 2026-06-30
        team_skills: [java, containers]

Answers are checked against the declared questions (unknown question, value not among the
choices, not a date...) with the file, application and question named, then become one row per
application; the treatment joins them onto assets by ``application_name`` (vectorised).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from mfactory.errors import ImportFormatError
from tasks.assessment.six_r_rules import read_yaml

PREFIX = "q_"


def load_questionnaire(source: str | Path | dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The raw questionnaire mapping and a label of where it came from."""
    if source is None or source == "" or source == {}:
        return {"applications": {}}, "no questionnaire"
    if isinstance(source, dict):
        return source, "questionnaire (inline)"
    return read_yaml(Path(source)), str(source)


def _answer(value: Any, question: dict[str, Any], where: dict[str, Any]) -> Any:
    """One answer, checked and normalised for its question type."""
    kind = question["type"]
    if value is None:
        return None
    if kind == "choice":
        if str(value) not in [str(v) for v in question.get("values", [])]:
            raise ImportFormatError(f"answer {value!r} is not one of {question.get('values')}", **where)
        return str(value)
    if kind == "date":
        try:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ImportFormatError(f"answer {value!r} is not a date (YYYY-MM-DD)", **where) from exc
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return "," + ",".join(str(i).strip().lower() for i in items) + ","
    if kind == "bool":
        if not isinstance(value, bool):
            raise ImportFormatError(f"answer {value!r} is not true/false", **where)
        return value
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ImportFormatError(f"answer {value!r} is not a number", **where) from exc
    return str(value)


def answers(source: str | Path | dict[str, Any] | None, questions: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per answered application (index ``application_name``), one ``q_`` column per question."""
    data, label = load_questionnaire(source)
    applications = data.get("applications") or {}
    if not isinstance(applications, dict):
        raise ImportFormatError("`applications` must map application names to answers", file=label)
    records: dict[str, dict[str, Any]] = {}
    for position, (app, given) in enumerate(applications.items(), start=1):
        if not isinstance(given, dict):
            raise ImportFormatError(
                f"application {app!r}: answers must be a mapping", file=label, row=position
            )
        unknown = set(given) - set(questions)
        if unknown:
            raise ImportFormatError(
                f"application {app!r}: unknown question(s) {sorted(unknown)}; the rule set asks "
                f"{sorted(questions)}",
                file=label,
                row=position,
                column=sorted(unknown)[0],
            )
        records[str(app)] = {
            PREFIX + name: _answer(value, questions[name], {"file": label, "row": position, "column": name})
            for name, value in given.items()
        }
    columns = [PREFIX + name for name in questions]
    frame = pd.DataFrame.from_dict(records, orient="index").reindex(columns=columns)
    frame.index.name = "application_name"
    return frame


def join_answers(
    assets: pd.DataFrame,
    table: pd.DataFrame,
    questions: dict[str, dict[str, Any]],
    today: dt.date,
) -> pd.DataFrame:
    """``assets`` with every question's column (missing answers NA), matched on application_name.

    Dates also give ``q_<name>_days`` (days from ``today``; negative when already past) so that
    rules compare against a horizon parameter instead of a fixed date.
    """
    frame = assets.copy()
    keys = frame["application_name"] if "application_name" in frame else pd.Series(None, index=frame.index)
    joined = table.reindex(keys.astype(object).where(keys.notna(), None).to_numpy())
    for name, question in questions.items():
        column = PREFIX + name
        values = joined[column].to_numpy() if column in joined else [None] * len(frame)
        series = pd.Series(values, index=frame.index, dtype=object)
        if question["type"] == "date":
            stamps = pd.to_datetime(series, errors="coerce")
            frame[column] = stamps.dt.date.astype(object).where(stamps.notna(), None)
            frame[column + "_days"] = (stamps - pd.Timestamp(today)).dt.days
        elif question["type"] == "number":
            frame[column] = pd.to_numeric(series, errors="coerce")
        elif question["type"] == "bool":
            frame[column] = series.eq(True)
        else:
            frame[column] = series
    return frame
