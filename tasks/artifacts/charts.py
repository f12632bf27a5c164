"""Pictures for the UI, drawn with matplotlib's Agg canvas from already-aggregated frames.

Why the object API and not ``pyplot``: pyplot keeps global figure state, which is neither
thread-safe (Prefect runs tasks in threads) nor needed to render one PNG. Inputs are small
(tens of nodes, at most ``MAX_BARS`` bars): the aggregation happened in SQL before this.
"""

from __future__ import annotations

import io
import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from tasks.artifacts.graph import GroupGraph, spring_layout

MAX_BARS = 40
DPI = 100
MILESTONE_COLOURS = {
    "replicate": "#4c72b0",
    "test": "#dd8452",
    "cutover": "#c44e52",
    "hypercare": "#55a868",
}
BAR_COLOUR = "#4c72b0"


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


# --- dependency graph ------------------------------------------------------------------


def dependency_graph_figure(
    graph: GroupGraph, title: str, hub_groups: frozenset[str] = frozenset()
) -> Figure:
    """Groups as discs (area ~ assets), dependencies between them as lines (width ~ log count);
    groups that hold a critical hub get a red ring."""
    figure = new_figure(12, 9)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=12)
    nodes, edges = graph.nodes, graph.edges
    if nodes.empty:
        ax.text(0.5, 0.5, "no assets", ha="center", va="center", transform=ax.transAxes)
        return figure
    index = {g: i for i, g in enumerate(nodes["group"])}
    pairs = np.array([[index[a], index[b]] for a, b in zip(edges["a"], edges["b"], strict=True)], dtype=int)
    pairs = pairs.reshape(-1, 2)
    weights = edges["dependencies"].to_numpy(dtype=float)
    pos = spring_layout(len(nodes), pairs, weights)
    folded = nodes["group"].eq(graph.other_label).to_numpy() & (graph.folded_groups > 0)
    if len(pairs):
        widths = 0.6 + 3.0 * np.log1p(weights) / max(np.log1p(weights).max(), 1.0)
        # Links into the folded node are drawn faint and dashed so links between named groups stand out.
        to_other = folded[pairs].any(axis=1)
        for mask, colour, style in ((to_other, "#cccccc", "--"), (~to_other, "#6f6f6f", "-")):
            ax.add_collection(
                LineCollection(
                    pos[pairs[mask]],
                    linewidths=widths[mask],
                    colors=colour,
                    linestyles=style,
                    alpha=0.7,
                    zorder=1,
                )
            )
        if len(pairs) <= 25:
            for (i, j), n in zip(pairs, weights, strict=True):
                middle = (pos[i] + pos[j]) / 2
                ax.text(*middle, f"{int(n):,}", fontsize=7, color="#555555", ha="center", zorder=2)
    assets = nodes["assets"].to_numpy(dtype=float)
    # The folded node is drawn at a fixed size: its asset count would dwarf every named group.
    shown = np.where(folded, 0.0, assets)
    sizes = np.where(folded, 900.0, 80 + 1400 * np.sqrt(shown / max(shown.max(), 1.0)))
    colours = np.where(folded, "#bbbbbb", np.where(nodes["links"].to_numpy() > 0, "#4c72b0", "#a1c4e8"))
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colours, edgecolors="white", linewidths=1.5, zorder=3)
    ringed = nodes["group"].isin(hub_groups).to_numpy()
    if ringed.any():
        ax.scatter(
            pos[ringed, 0],
            pos[ringed, 1],
            s=sizes[ringed] * 1.25,
            facecolors="none",
            edgecolors="#c44e52",
            linewidths=2.5,
            zorder=3,
            label="holds a critical hub",
        )
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    for (x, y), group, n in zip(pos, nodes["group"], nodes["assets"], strict=True):
        ax.text(x, y - 0.07, f"{group}\n{int(n):,} assets", fontsize=8, ha="center", va="top", zorder=4)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.3, 1.15)
    return figure


# --- wave Gantt --------------------------------------------------------------------------


def gantt_bars(waves: pd.DataFrame, max_bars: int = MAX_BARS) -> pd.DataFrame:
    """One bar per wave (``number, label, start, end, assets, waves``); beyond ``max_bars``
    consecutive waves share a bar (``waves`` says how many).

    ``waves`` has ``number, name, planned_start, planned_end, assets`` and is in wave order.
    """
    dated = waves.dropna(subset=["planned_start", "planned_end"])
    frame = pd.DataFrame(
        {
            "number": dated["number"].astype(int).to_numpy(),
            "label": dated["name"].to_numpy(),
            "start": pd.to_datetime(dated["planned_start"]).to_numpy(),
            "end": pd.to_datetime(dated["planned_end"]).to_numpy(),
            "assets": dated["assets"].astype(int).to_numpy(),
            "waves": 1,
        }
    )
    if len(frame) <= max_bars:
        return frame
    per_bar = math.ceil(len(frame) / max_bars)
    band = np.arange(len(frame)) // per_bar
    grouped = frame.groupby(band).agg(
        first=("number", "min"),
        last=("number", "max"),
        start=("start", "min"),
        end=("end", "max"),
        assets=("assets", "sum"),
        waves=("waves", "sum"),
    )
    grouped["label"] = "Waves " + grouped["first"].astype(str) + "-" + grouped["last"].astype(str)
    grouped["number"] = grouped["first"]
    return grouped[["number", "label", "start", "end", "assets", "waves"]].reset_index(drop=True)


def wave_gantt_figure(bars: pd.DataFrame, title: str, milestones: pd.DataFrame | None = None) -> Figure:
    """Horizontal bars from planned start to end (inclusive), first wave on top.

    With ``milestones`` (``number, milestone, start, end``) each wave's bar is split into its
    coloured milestones instead of one plain bar (only when every bar is a single wave).
    """
    height = min(2.0 + 0.32 * len(bars), 16.0)
    figure = new_figure(12, height)
    ax = figure.add_subplot()
    ax.set_title(title, fontsize=12)
    if bars.empty:
        ax.text(0.5, 0.5, "no dated waves", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return figure
    y = np.arange(len(bars))[::-1]
    row_of = dict(zip(bars["number"], y, strict=True))
    if milestones is not None and not milestones.empty and bars["waves"].eq(1).all():
        for name, part in milestones.groupby("milestone", sort=False):
            start = mdates.date2num(pd.to_datetime(part["start"]))
            end = mdates.date2num(pd.to_datetime(part["end"])) + 1
            ax.barh(
                part["number"].map(row_of),
                end - start,
                left=start,
                height=0.6,
                color=MILESTONE_COLOURS.get(str(name), "#937860"),
                label=str(name),
            )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="milestone")
    else:
        start = mdates.date2num(bars["start"])
        end = mdates.date2num(bars["end"]) + 1
        ax.barh(y, end - start, left=start, height=0.6, color=BAR_COLOUR)
    ends = mdates.date2num(bars["end"]) + 1
    for row, end, n in zip(y, ends, bars["assets"], strict=True):
        ax.text(end + 0.5, row, f"{int(n):,}", va="center", fontsize=7, color="#444444")
    ax.set_yticks(y, bars["label"], fontsize=8)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("planned dates (numbers: assets per bar)", fontsize=8)
    return figure
