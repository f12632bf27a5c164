"""Markdown for the Prefect UI: the phase summary, small inline tables, embedded pictures.

Pictures are PNGs embedded as ``data:image/png;base64`` URIs. Both Prefect UIs shipped with
Prefect 3.8 render them inside markdown artifacts: the React UI (default) whitelists
``data:image/`` for ``img`` sources in its markdown component, and the Vue UI renders image
tokens as plain ``<img src>``. So a picture needs no file server and lives as long as the artifact.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_markdown(alt: str, png: bytes) -> str:
    """``![alt](data:image/png;base64,...)`` for a PNG (checked, so a broken picture fails here)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG image")
    clean_alt = alt.replace("[", "(").replace("]", ")").replace("\n", " ")
    return f"![{clean_alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """A small pipe table (for a few lines inside a summary; big tables are table artifacts)."""
    if frame.empty:
        return "_none_"
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join(" --- " for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.astype(object).to_numpy()]
    return "\n".join([header, rule, *body])


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def step_lines(metrics: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per step: its scalar metrics and small count mappings (``by_type``...)."""
    lines = []
    for step, values in metrics.items():
        parts = []
        for name, value in values.items():
            label = name.replace("_", " ")
            if _scalar(value):
                parts.append(f"{label} {_cell(value) if value is not None else '-'}")
            elif isinstance(value, Mapping) and value and all(_scalar(v) for v in value.values()):
                parts.append(f"{label} (" + ", ".join(f"{k}: {_cell(v)}" for k, v in value.items()) + ")")
            elif isinstance(value, list) and value and all(_scalar(v) for v in value):
                parts.append(f"{label} " + ", ".join(_cell(v) for v in value))
        lines.append(f"**{step.split('.')[-1]}**: " + ("; ".join(parts) or "done"))
    return lines


def _bullets(items: Iterable[str], empty: str) -> list[str]:
    listed = [f"- {i}" for i in items]
    return listed or [f"- {empty}"]


def summary_markdown(
    *,
    title: str,
    subtitle: str,
    done: list[str],
    warnings: list[str],
    needs_human: list[str],
    steps: list[str],
    see_also: Mapping[str, str],
) -> str:
    """The phase's front page: what was done, warnings, what needs a human, where to look next."""
    lines = [f"# {title}", subtitle, "", "## What was done", *_bullets(done, "nothing")]
    lines += ["", "## Warnings", *_bullets(warnings, "none")]
    lines += ["", "## Needs a human", *_bullets(needs_human, "nothing: no open decisions")]
    if steps:
        lines += ["", "## Step metrics", *_bullets(steps, "")]
    if see_also:
        lines += ["", "## More in this run's artifacts"]
        lines += [f"- `{key}`: {what}" for key, what in see_also.items()]
    return "\n".join(lines) + "\n"
