"""Executors carry out runbook steps. Only the dry-run one exists: it plans and records,
touching no cloud; a live executor (cloud APIs) would implement the same interface."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


class Executor(Protocol):
    def execute(self, step: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class DryRunExecutor:
    """Validates each step and records it as done, in order, without side effects."""

    executed: list[dict[str, Any]] = field(default_factory=list)

    def execute(self, step: dict[str, Any]) -> dict[str, Any]:
        missing = [k for k in ("wave", "stage", "strategy", "assets") if k not in step]
        status = "failed" if missing or step["assets"] <= 0 else "done"
        record = {
            **step,
            "status": status,
            "mode": "dry_run",
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self.executed.append(record)
        return record
