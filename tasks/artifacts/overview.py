"""Assessment overview for people: the per-application table and a picture with the engagement figures.

Built from the already-aggregated overview frames (``tasks/assessment/overview_figures.py``): at most
a few hundred table rows and ``TOP_APPLICATIONS`` bars, whatever the asset count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tasks.artifacts.charts import BAR_COLOUR, new_figure, png_bytes
from tasks.artifacts.markdown import image_markdown, markdown_table
from tasks.artifacts.model import MarkdownArtifact, TableArtifact
from tasks.artifacts.tables import capped_rows
from tasks.assessment.overview_figures import NO_APPLICATION

OVERVIEW = "overview"
OVERVIEW_CHART = "overview-chart"
TOP_APPLICATIONS = 15
TOP_VALUES = 8
DEBT_COLOURS = {"end_of_support": "#c44e52", "nearing_end_of_support": "#dd8452", "other": "#8da0cb"}
ENGAGEMENT_LABELS = {
    "assets": "assets",
    "applications": "applications",
    "assets_without_application": "assets without an application",
    "completeness_avg": "mean data completeness (0-1)",
    "end_of_support": "assets past end of support (OS or DB)",
    "nearing_end_of_support": "assets reaching end of support within 12 months",
    "lifecycle_unknown": "assets whose OS/DB release has no known end-of-support date",
    "dependency_groups": "dependency groups (connected components, isolated assets included)",
    "isolated_assets": "isolated assets (no dependency)",
    "largest_group": "largest dependency group (assets)",
    "multi_application_groups": "dependency groups spanning more than one application",
    "cross_app_dependencies": "dependencies between different applications",
}


def _top(frame: pd.DataFrame, label: str, limit: int = TOP_VALUES) -> pd.DataFrame:
    """At most ``limit`` bars: the largest values, the rest folded into "other"."""
    named = frame.assign(**{label: frame[label].fillna("unknown").astype(str)})
    if len(named) <= limit:
        return named
    head, rest = named.head(limit - 1), named.iloc[limit - 1 :]
    other = pd.DataFrame({label: [f"other ({len(rest)})"], "assets": [int(rest["assets"].sum())]})
    return pd.concat([head, other], ignore_index=True)


def _bars(ax: Any, frame: pd.DataFrame, label: str, title: str) -> None:
    y = np.arange(len(frame))[::-1]
    ax.barh(y, frame["assets"], color=BAR_COLOUR, height=0.6)
    ax.set_yticks(y, frame[label], fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    for row, n in zip(y, frame["assets"], strict=True):
        ax.text(n, row, f" {int(n):,}", va="center", fontsize=7)


def overview_figure(
    by_type: pd.DataFrame, by_environment: pd.DataFrame, applications: pd.DataFrame, title: str
) -> Figure:
    """Assets by type and by environment; the applications with most assets, split by tech debt."""
    figure = new_figure(14, 6.5)
    figure.suptitle(title, fontsize=12)
    grid = figure.add_gridspec(2, 2, width_ratios=[1, 1.6])
    _bars(figure.add_subplot(grid[0, 0]), _top(by_type, "asset_type"), "asset_type", "assets by type")
    _bars(
        figure.add_subplot(grid[1, 0]), _top(by_environment, "environment"), "environment", "by environment"
    )
    ax = figure.add_subplot(grid[:, 1])
    top = applications.head(TOP_APPLICATIONS)
    if top.empty:
        ax.text(0.5, 0.5, "no assets", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return figure
    y = np.arange(len(top))[::-1]
    parts = {
        "end_of_support": top["end_of_support"].to_numpy(dtype=float),
        "nearing_end_of_support": top["nearing_end_of_support"].to_numpy(dtype=float),
    }
    parts["other"] = (
        top["assets"].to_numpy(dtype=float) - parts["end_of_support"] - parts["nearing_end_of_support"]
    )
    left = np.zeros(len(top))
    for name, values in parts.items():
        ax.barh(y, values, left=left, height=0.6, color=DEBT_COLOURS[name], label=name.replace("_", " "))
        left += values
    for row, total, cross in zip(y, top["assets"], top["cross_app_dependencies"], strict=True):
        ax.text(total, row, f" {int(total):,} ({int(cross):,} cross-app deps)", va="center", fontsize=7)
    names = top["application_name"].fillna(NO_APPLICATION).astype(str)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_title(f"{len(top)} largest applications: tech-debt exposure", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return figure


def overview_artifacts(
    engagement: dict[str, Any],
    applications: pd.DataFrame,
    by_type: pd.DataFrame,
    by_environment: pd.DataFrame,
) -> list[MarkdownArtifact | TableArtifact]:
    """The per-application table (largest first, capped) and the engagement figures with the picture."""
    rows = capped_rows(
        applications.assign(application_name=applications["application_name"].fillna(NO_APPLICATION))
    )
    figures = pd.DataFrame(
        {
            "figure": [ENGAGEMENT_LABELS[k] for k in ENGAGEMENT_LABELS],
            "value": [engagement[k] for k in ENGAGEMENT_LABELS],
        }
    )
    png = png_bytes(overview_figure(by_type, by_environment, applications, "Assessment overview"))
    markdown = "\n\n".join(
        [
            "### Assessment overview",
            markdown_table(figures),
            image_markdown("assets by type and environment; applications by tech-debt exposure", png),
            "Queryable rows: views `migration.asset_overview` and "
            "`migration.application_dependency_overview`.",
        ]
    )
    return [
        TableArtifact(
            what=OVERVIEW,
            rows=rows.rows,
            description=f"Per application ({rows.note('applications', 'largest first')}): assets, "
            "completeness, tech debt, dependency groups, cross-application dependencies",
        ),
        MarkdownArtifact(
            what=OVERVIEW_CHART, markdown=markdown, description="Engagement overview with picture"
        ),
    ]
