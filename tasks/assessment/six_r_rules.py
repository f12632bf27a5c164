"""The 6R rule set: the shipped YAML, merged with an engagement's overrides, checked once.

Rules are data so that an engagement can change them without code: a run parameter points to
an override file (or carries the same shape inline) and it is merged over the shipped set, so
the engagement only writes what differs. Checking happens here, before any asset is looked at,
so a typo in a rule fails the step at once with the file and rule named.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from db.models.assets import SIX_R
from mfactory.errors import ImportFormatError
from mfactory.settings import PACKAGE_DATA

RULES_FILE = PACKAGE_DATA / "six_r_rules.yaml"
RULE_FIELDS = frozenset({"id", "priority", "strategy", "confidence", "when", "rationale", "facts", "enabled"})
REQUIRED_RULE_FIELDS = ("id", "priority", "strategy", "confidence", "when", "rationale")
QUESTION_TYPES = frozenset({"choice", "date", "list", "bool", "number", "text"})
MERGED_SECTIONS = ("parameters", "signals", "questions", "facts")


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; anything else is a clear error naming the file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ImportFormatError(f"not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise ImportFormatError("expected a mapping at the top level", file=str(path))
    return data


def merge_rules(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged over ``base`` (neither is changed).

    Sections are merged key by key; a rule whose id exists is updated field by field, a new id is
    added; ``disable`` lists rule ids to switch off. The version becomes ``base+override``.
    """
    merged = copy.deepcopy(base)
    for section in MERGED_SECTIONS:
        merged[section] = {**merged.get(section, {}), **copy.deepcopy(override.get(section) or {})}
    by_id = {rule["id"]: rule for rule in merged.get("rules", [])}
    for rule in override.get("rules") or []:
        if rule.get("id") in by_id:
            by_id[rule["id"]].update(copy.deepcopy(rule))
        else:
            merged.setdefault("rules", []).append(copy.deepcopy(rule))
            by_id[rule.get("id")] = merged["rules"][-1]
    for rule_id in override.get("disable") or []:
        if rule_id not in by_id:
            raise ValueError(f"cannot disable unknown 6R rule {rule_id!r}")
        by_id[rule_id]["enabled"] = False
    merged["version"] = f"{base.get('version', '?')}+{override.get('version', 'engagement')}"
    return merged


def validate_rules(rules: dict[str, Any], source: str) -> dict[str, Any]:
    """Check the rule set's shape; raise ImportFormatError naming ``source`` and the rule."""
    if "version" not in rules:
        raise ImportFormatError("rule set has no version", file=source)
    ids: set[str] = set()
    for position, rule in enumerate(rules.get("rules") or [], start=1):
        where = f"rule {rule.get('id', position)!r}"
        missing = [f for f in REQUIRED_RULE_FIELDS if f not in rule]
        if missing:
            raise ImportFormatError(f"{where} lacks {missing}", file=source, row=position)
        unknown = set(rule) - RULE_FIELDS
        if unknown:
            raise ImportFormatError(
                f"{where} has unknown fields {sorted(unknown)}", file=source, row=position
            )
        if rule["id"] in ids:
            raise ImportFormatError(f"{where} is defined twice", file=source, row=position)
        ids.add(rule["id"])
        if rule["strategy"] not in SIX_R:
            raise ImportFormatError(
                f"{where}: strategy {rule['strategy']!r} is not one of {list(SIX_R)}",
                file=source,
                row=position,
                column="strategy",
            )
        if not 0 <= float(rule["confidence"]) <= 1:
            raise ImportFormatError(f"{where}: confidence must be 0..1", file=source, row=position)
        unknown_facts = set(rule.get("facts") or []) - set(rules.get("facts") or {})
        if unknown_facts:
            raise ImportFormatError(
                f"{where} cites undefined facts {sorted(unknown_facts)}", file=source, row=position
            )
    if not ids:
        raise ImportFormatError("rule set has no rules", file=source)
    for name, question in (rules.get("questions") or {}).items():
        if question.get("type") not in QUESTION_TYPES:
            raise ImportFormatError(
                f"question {name!r}: type must be one of {sorted(QUESTION_TYPES)}", file=source
            )
    return rules


def rule_set(override: str | Path | dict[str, Any] | None = None) -> dict[str, Any]:
    """The shipped rule set, with an engagement's override (a file path or inline mapping) merged in."""
    base = validate_rules(read_yaml(RULES_FILE), str(RULES_FILE))
    if override is None or override == {} or override == "":
        return base
    if isinstance(override, dict):
        source, data = "six_r_rules (inline)", override
    else:
        source, data = str(override), read_yaml(Path(override))
    try:
        merged = merge_rules(base, data)
    except ValueError as exc:
        raise ImportFormatError(str(exc), file=source) from exc
    return validate_rules(merged, source)


def ordered_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Enabled rules, lowest priority first (stable: file order breaks ties)."""
    enabled = [r for r in rules["rules"] if r.get("enabled", True)]
    return sorted(enabled, key=lambda r: float(r["priority"]))
