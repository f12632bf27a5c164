"""Great Expectations quality gates: suites are JSON files in ``expectations/``.

A suite file is ``{"name": ..., "expectations": [{"type": "expect_...", "kwargs": {...}}]}``;
each expectation type maps to its GX 1.x class. One ephemeral context per process.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pandas as pd

from mfactory.settings import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


class QualityGateFailed(RuntimeError):
    """A phase's output did not pass its suite; carries the validation summary."""

    def __init__(self, suite: str, summary: dict[str, Any]):
        failed = [
            f"{r['expectation']}({r.get('column') or ''})" for r in summary["results"] if not r["success"]
        ]
        super().__init__(f"quality gate {suite!r} failed: {', '.join(failed)}")
        self.suite, self.summary = suite, summary


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("migration_factory")
    return source.add_dataframe_asset("phase_output").add_batch_definition_whole_dataframe("all")


def load_suite(name: str) -> Any:
    """Build the GX suite stored in ``expectations/<name>.json``."""
    import great_expectations as gx

    spec = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    expectations = []
    for item in spec["expectations"]:
        class_name = "".join(part.title() for part in item["type"].split("_"))
        expectation_class = getattr(gx.expectations, class_name, None)
        if expectation_class is None:
            raise ValueError(f"expectations/{name}.json: unknown expectation type {item['type']!r}")
        expectations.append(expectation_class(**item["kwargs"]))
    return gx.ExpectationSuite(name=spec["name"], expectations=expectations)


def validate_frame(suite_name: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Validate ``frame`` against a suite; a compact, JSON-safe summary of the result."""
    result = (
        _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(load_suite(suite_name))
    )
    raw = result.to_json_dict()
    return {
        "suite": suite_name,
        "success": bool(raw["success"]),
        "statistics": raw["statistics"],
        "results": [
            {
                "expectation": r["expectation_config"]["type"],
                "column": r["expectation_config"]["kwargs"].get("column"),
                "success": r["success"],
                "unexpected_count": (r.get("result") or {}).get("unexpected_count"),
                "observed_value": (r.get("result") or {}).get("observed_value"),
            }
            for r in raw["results"]
        ],
    }
