"""Stable artifact keys: one key per (phase, what, engagement), so the UI shows a history per key.

Prefect keeps every version of a keyed artifact and shows the latest; a key that is the same
for every run of an engagement is what turns "the summary" into one page with a history,
instead of a new, unfindable artifact per run.
"""

from __future__ import annotations

import re
import uuid

KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# What each phase publishes (the middle part of the key).
SUMMARY = "summary"
ASSETS = "assets"
MAPPINGS = "mappings"
DEPENDENCY_GRAPH = "dependency-graph"
DEPENDENCY_HUBS = "dependency-hubs"
DEPENDENCY_GROUPS = "dependency-groups"
UNRESOLVED_ENDPOINTS = "unresolved-endpoints"
TECH_DEBT = "tech-debt"
STRATEGIES = "strategies"
DECISIONS = "decisions"
APPLICATIONS = "applications"
WAVES = "waves"
ROADMAP = "roadmap"
TIMELINE = "timeline"
CANDIDATES = "candidates"
COSTS = "costs"
RESOURCE = "resource"


def artifact_key(phase: str, what: str, engagement_id: uuid.UUID) -> str:
    """``<phase>-<what>-<first 8 of the engagement id>``; refuses anything Prefect would refuse."""
    key = f"{phase}-{what}-{str(engagement_id)[:8]}".lower().replace("_", "-")
    if not KEY_PATTERN.match(key):
        raise ValueError(f"artifact key {key!r} must be lowercase letters, digits and single dashes")
    return key
