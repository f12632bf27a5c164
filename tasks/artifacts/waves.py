"""Wave table and wave Gantt, shared by assessment (roadmap) and planning (timeline)."""

from __future__ import annotations

import pandas as pd

from tasks.artifacts.charts import MAX_BARS, gantt_bars, png_bytes, wave_gantt_figure
from tasks.artifacts.markdown import image_markdown
from tasks.artifacts.model import MarkdownArtifact, TableArtifact
from tasks.artifacts.tables import capped_rows

ASSESSMENT_COLUMNS = ["number", "name", "status", "planned_start", "planned_end", "assets", "strategies"]
PLANNING_COLUMNS = [*ASSESSMENT_COLUMNS, "effort_hours", "hours_per_week", "monthly_cost_usd"]


def wave_table(what: str, waves: pd.DataFrame, columns: list[str], description: str) -> TableArtifact:
    rows = capped_rows(waves[columns])
    return TableArtifact(what, rows.rows, f"{description} ({rows.note('waves', 'in wave order')})")


def milestone_frame(waves: pd.DataFrame) -> pd.DataFrame:
    """``number, milestone, start, end`` from each wave's stored timeline (planning)."""
    listed = waves[["number", "timeline"]].dropna().explode("timeline").dropna()
    if listed.empty:
        return pd.DataFrame(columns=["number", "milestone", "start", "end"])
    parts = pd.DataFrame(list(listed["timeline"]), index=listed.index)
    return pd.concat([listed[["number"]], parts[["milestone", "start", "end"]]], axis=1)


def gantt_artifact(what: str, waves: pd.DataFrame, title: str, with_milestones: bool) -> MarkdownArtifact:
    """The Gantt as an embedded PNG, with a line saying how bars relate to waves."""
    bars = gantt_bars(waves)
    milestones = milestone_frame(waves) if with_milestones else None
    png = png_bytes(wave_gantt_figure(bars, title, milestones))
    dated = int(waves["planned_start"].notna().sum())
    if len(bars) == dated:
        scope = f"One bar per wave ({dated:,} dated waves)."
    else:
        scope = (
            f"{dated:,} dated waves are more than {MAX_BARS} bars can show: "
            f"each bar covers {int(bars['waves'].max()):,} consecutive waves."
        )
    if len(waves) > dated:
        scope += f" {len(waves) - dated:,} waves have no dates yet and are not drawn."
    if with_milestones and len(bars) == dated and dated:
        scope += " Colours are the milestones: replicate, test, cutover, hypercare."
    markdown = "\n".join([f"# {title}", scope, "", image_markdown(title, png)])
    return MarkdownArtifact(what, markdown, title)
