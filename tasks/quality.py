"""Great Expectations quality gates: suites are JSON files in ``expectations/``.

A suite file is ``{"name": ..., "expectations": [{"type": "expect_...", "kwargs": {...}}]}``;
each expectation type maps to its GX 1.x class. One ephemeral context per process.

A phase's output may be more than one frame: an expectation with ``"frame": "<name>"`` is checked
against that frame (e.g. assessment's per-wave aggregates, ``"waves"``); without it, against the
phase's main frame (``MAIN_FRAME``, one row per asset). Each frame is one GX batch, so a rule about
waves is a plain column rule over wave rows instead of a per-asset rule repeated on every member.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from db.repositories.outputs import MAIN_GATE_FRAME
from mfactory.settings import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
MAIN_FRAME = MAIN_GATE_FRAME


class QualityGateFailed(RuntimeError):
    """A phase's output did not pass its suite; carries the validation summary."""

    def __init__(self, suite: str, summary: dict[str, Any]):
        failed = [
            f"{r.get('frame', MAIN_FRAME)}:{r['expectation']}({r.get('column') or ''})"
            for r in summary["results"]
            if not r["success"]
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


def _spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return spec


def suite_frames(name: str) -> list[str]:
    """The frames suite ``name`` checks, the main frame first."""
    frames = {item.get("frame", MAIN_FRAME) for item in _spec(name)["expectations"]}
    return sorted(frames, key=lambda f: (f != MAIN_FRAME, f))


def load_suite(name: str, frame: str = MAIN_FRAME) -> Any:
    """Build the GX suite stored in ``expectations/<name>.json`` (the expectations on ``frame``)."""
    import great_expectations as gx

    spec = _spec(name)
    expectations = []
    for item in spec["expectations"]:
        if item.get("frame", MAIN_FRAME) != frame:
            continue
        class_name = "".join(part.title() for part in item["type"].split("_"))
        expectation_class = getattr(gx.expectations, class_name, None)
        if expectation_class is None:
            raise ValueError(f"expectations/{name}.json: unknown expectation type {item['type']!r}")
        expectations.append(expectation_class(**item["kwargs"]))
    suffix = "" if frame == MAIN_FRAME else f".{frame}"
    return gx.ExpectationSuite(name=spec["name"] + suffix, expectations=expectations)


def _columns(kwargs: Mapping[str, Any]) -> str | None:
    """The column(s) an expectation is about, as shown in the gate's table."""
    if kwargs.get("column"):
        return str(kwargs["column"])
    pair = [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k)]
    return ", ".join(pair) or None


def validate_frame(suite_name: str, frame: pd.DataFrame, frame_name: str = MAIN_FRAME) -> dict[str, Any]:
    """Validate ``frame`` against a suite's expectations on ``frame_name``; a compact, JSON-safe summary."""
    suite = load_suite(suite_name, frame_name)
    result = _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    raw = result.to_json_dict()
    return {
        "suite": suite_name,
        "success": bool(raw["success"]),
        "statistics": raw["statistics"],
        "results": [
            {
                "frame": frame_name,
                "expectation": r["expectation_config"]["type"],
                "column": _columns(r["expectation_config"]["kwargs"]),
                "success": r["success"],
                "unexpected_count": (r.get("result") or {}).get("unexpected_count"),
                "observed_value": (r.get("result") or {}).get("observed_value"),
            }
            for r in raw["results"]
        ],
    }


def validate_frames(suite_name: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Validate every frame the suite checks; one summary, failed if any frame failed.

    A frame the suite names but the phase did not produce is an error in the gate's wiring,
    not a pass: it raises instead of silently skipping the rules on it.
    """
    wanted = suite_frames(suite_name)
    missing = [f for f in wanted if f not in frames]
    if missing:
        raise ValueError(
            f"expectations/{suite_name}.json checks frames the phase does not produce: {missing}"
        )
    parts = [validate_frame(suite_name, frames[f], f) for f in wanted]
    statistics = {
        key: sum(int(p["statistics"].get(key) or 0) for p in parts)
        for key in ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations")
    }
    evaluated = statistics["evaluated_expectations"]
    statistics["success_percent"] = (
        100.0 * statistics["successful_expectations"] / evaluated if evaluated else 100.0
    )
    return {
        "suite": suite_name,
        "success": all(p["success"] for p in parts),
        "statistics": statistics,
        "results": [r for p in parts for r in p["results"]],
    }
