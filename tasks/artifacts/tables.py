"""DataFrames -> JSON-safe table rows, capped so an artifact never carries 100k rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

MAX_TABLE_ROWS = 500


@dataclass(frozen=True)
class Rows:
    rows: list[dict[str, Any]]
    total: int

    @property
    def capped(self) -> bool:
        return len(self.rows) < self.total

    def note(self, noun: str, order: str = "") -> str:
        """Says how many rows the table shows of how many, so a capped table never looks complete."""
        if not self.capped:
            return f"all {self.total:,} {noun}"
        return f"first {len(self.rows):,} of {self.total:,} {noun}" + (f", {order}" if order else "")


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of plain JSON values (NaN -> null, dates -> ISO text, numpy -> Python)."""
    if frame.empty:
        return []
    clean = frame.copy()
    for column in clean.columns:
        if clean[column].dtype == object:
            clean[column] = clean[column].map(_plain)
    return json.loads(clean.to_json(orient="records", date_format="iso", force_ascii=False))


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return value


def capped_rows(frame: pd.DataFrame, total: int | None = None, cap: int = MAX_TABLE_ROWS) -> Rows:
    """At most ``cap`` rows of ``frame``; ``total`` is the full count when the frame was already limited."""
    return Rows(rows=json_rows(frame.head(cap)), total=len(frame) if total is None else total)
