"""What a phase report consists of, before anything is sent to Prefect.

Builders return these plain values, so what a report says is testable without a Prefect API,
and sending them is one small loop (``publish.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MarkdownArtifact:
    what: str
    markdown: str
    description: str


@dataclass(frozen=True)
class TableArtifact:
    what: str
    rows: list[dict[str, Any]]
    description: str


Artifact = MarkdownArtifact | TableArtifact


@dataclass
class Report:
    """The summary's three lists plus the phase's other artifacts."""

    title: str
    done: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs_human: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
