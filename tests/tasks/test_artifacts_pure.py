"""The report builders without Prefect or a database: keys, markdown, tables, pictures."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer

from tasks.artifacts.charts import (
    MAX_BARS,
    dependency_graph_figure,
    gantt_bars,
    png_bytes,
    wave_gantt_figure,
)
from tasks.artifacts.discovery import mapping_review
from tasks.artifacts.graph import group_graph, spring_layout
from tasks.artifacts.keys import KEY_PATTERN, artifact_key
from tasks.artifacts.markdown import (
    PNG_SIGNATURE,
    image_markdown,
    markdown_table,
    step_lines,
    summary_markdown,
)
from tasks.artifacts.tables import capped_rows, json_rows
from tasks.artifacts.waves import gantt_artifact, milestone_frame

ENGAGEMENT = uuid.UUID("1234abcd-0000-4000-8000-000000000000")


def waves(n: int, start: dt.date = dt.date(2026, 1, 5), days: int = 10) -> pd.DataFrame:
    """``n`` back-to-back waves as ``wave_summary`` returns them."""
    starts = [start + dt.timedelta(days=i * (days + 2)) for i in range(n)]
    return pd.DataFrame(
        {
            "number": range(1, n + 1),
            "name": [f"Wave {i}" for i in range(1, n + 1)],
            "status": "scheduled",
            "planned_start": starts,
            "planned_end": [s + dt.timedelta(days=days - 1) for s in starts],
            "assets": [(i % 25) + 1 for i in range(n)],
            "timeline": [
                [
                    {"milestone": m, "start": s.isoformat(), "end": (s + dt.timedelta(days=2)).isoformat()}
                    for m in ("replicate", "test", "cutover", "hypercare")
                ]
                for s in starts
            ],
        }
    )


def bar_patches(figure: object) -> int:
    ax = figure.axes[0]  # type: ignore[attr-defined]
    return sum(len(c.patches) for c in ax.containers if isinstance(c, BarContainer))


# --- keys -------------------------------------------------------------------------------


def test_keys_are_stable_per_engagement_and_valid_for_prefect() -> None:
    key = artifact_key("discovery", "dependency-graph", ENGAGEMENT)
    assert key == "discovery-dependency-graph-1234abcd"
    assert key == artifact_key("discovery", "dependency-graph", ENGAGEMENT)
    assert artifact_key("assessment", "decisions", uuid.uuid4()) != artifact_key(
        "assessment", "decisions", uuid.uuid4()
    )
    assert KEY_PATTERN.match(artifact_key("planning", "six_r", ENGAGEMENT))
    with pytest.raises(ValueError, match="lowercase letters"):
        artifact_key("planning", "waves & dates", ENGAGEMENT)


# --- markdown ---------------------------------------------------------------------------


def test_image_markdown_embeds_the_exact_png_as_a_data_uri() -> None:
    png = png_bytes(wave_gantt_figure(gantt_bars(waves(3)), "t"))
    assert png.startswith(PNG_SIGNATURE)
    markdown = image_markdown("wave [roadmap]", png)
    assert markdown.startswith("![wave (roadmap)](data:image/png;base64,")
    assert base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")")) == png
    with pytest.raises(ValueError, match="not a PNG"):
        image_markdown("x", b"GIF89a...")


def test_summary_has_every_section_and_says_none_when_empty() -> None:
    text = summary_markdown(
        title="Discovery summary",
        subtitle="run x",
        done=["Imported 2 files"],
        warnings=[],
        needs_human=["3 columns unmapped"],
        steps=step_lines({"discovery.inventory": {"assets": 1200, "by_type": {"server": 3}, "files": []}}),
        see_also={"discovery-assets-1234abcd": "assets table"},
    )
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## What was done",
        "## Warnings",
        "## Needs a human",
        "## Step metrics",
        "## More in this run's artifacts",
    ]
    assert "- Imported 2 files" in text
    assert "## Warnings\n- none" in text
    assert "- 3 columns unmapped" in text
    assert "**inventory**: assets 1,200; by type (server: 3)" in text
    assert "- `discovery-assets-1234abcd`: assets table" in text


def test_markdown_table_escapes_pipes_and_formats_numbers() -> None:
    table = markdown_table(pd.DataFrame({"name": ["a|b"], "n": [12345], "x": [0.5]}))
    assert table.splitlines() == ["| name | n | x |", "| --- | --- | --- |", "| a\\|b | 12,345 | 0.5 |"]
    assert markdown_table(pd.DataFrame()) == "_none_"


# --- tables -----------------------------------------------------------------------------


def test_tables_are_capped_and_say_so() -> None:
    frame = pd.DataFrame({"asset_name": [f"a{i}" for i in range(1200)], "confidence": 0.5})
    rows = capped_rows(frame)
    assert len(rows.rows) == 500 and rows.total == 1200 and rows.capped
    assert rows.note("assets", "least confident first") == "first 500 of 1,200 assets, least confident first"
    whole = capped_rows(frame.head(20))
    assert not whole.capped and whole.note("assets") == "all 20 assets"
    limited = capped_rows(frame.head(500), total=100_000)
    assert limited.capped and limited.note("assets") == "first 500 of 100,000 assets"


def test_json_rows_are_plain_json() -> None:
    frame = pd.DataFrame(
        {
            "d": [dt.date(2026, 1, 5), None],
            "f": [1.5, np.nan],
            "i": np.array([1, 2], dtype=np.int64),
            "t": [[{"milestone": "test"}], None],
        }
    )
    rows = json_rows(frame)
    assert rows == [
        {"d": "2026-01-05", "f": 1.5, "i": 1, "t": '[{"milestone": "test"}]'},
        {"d": None, "f": None, "i": 2, "t": None},
    ]
    json.dumps(rows, allow_nan=False)


# --- mapping review ---------------------------------------------------------------------


def test_mapping_review_finds_unmapped_and_weak_inventory_columns_only() -> None:
    mappings = pd.DataFrame(
        {
            "kind": ["inventory", "inventory", "inventory", "inventory", "dependencies"],
            "source_column": ["VM", "Notes", "Mem", "CPUs", "src"],
            "target_field": ["asset_name", None, "memory_gb", "cpu_cores", None],
            "confidence": [1.0, 0.0, 0.6, 0.5, 0.0],
            "confirmed_by_user": [False, False, False, True, False],
        }
    )
    unmapped, weak = mapping_review(mappings, below=0.8)
    assert list(unmapped["source_column"]) == ["Notes"]
    assert list(weak["source_column"]) == ["Mem"]  # CPUs is confirmed by a user


# --- Gantt ------------------------------------------------------------------------------


def test_gantt_has_one_bar_per_wave() -> None:
    frame = waves(7)
    bars = gantt_bars(frame)
    assert list(bars["number"]) == list(range(1, 8)) and bars["waves"].eq(1).all()
    figure = wave_gantt_figure(bars, "roadmap")
    assert bar_patches(figure) == 7
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top_down = sorted(zip(ax.get_yticks(), labels, strict=True), reverse=True)
    assert [label for _, label in top_down] == [f"Wave {i}" for i in range(1, 8)], "first wave on top"
    assert png_bytes(figure).startswith(PNG_SIGNATURE)


def test_gantt_bars_span_each_wave_start_to_end_inclusive() -> None:
    frame = waves(2, days=10)
    figure = wave_gantt_figure(gantt_bars(frame), "roadmap")
    widths = sorted(p.get_width() for p in figure.axes[0].patches)
    assert widths == [10.0, 10.0]


def test_gantt_with_milestones_splits_each_bar() -> None:
    frame = waves(3)
    assert len(milestone_frame(frame)) == 12
    figure = wave_gantt_figure(gantt_bars(frame), "timeline", milestone_frame(frame))
    assert bar_patches(figure) == 12
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == [
        "replicate",
        "test",
        "cutover",
        "hypercare",
    ]


def test_many_waves_share_bars_and_nothing_is_lost() -> None:
    frame = waves(1000)
    bars = gantt_bars(frame)
    assert len(bars) <= MAX_BARS
    assert bars["waves"].sum() == 1000 and bars["assets"].sum() == frame["assets"].sum()
    assert bars["start"].min() == pd.Timestamp(frame["planned_start"].min())
    assert bars["end"].max() == pd.Timestamp(frame["planned_end"].max())
    assert bars["label"].iloc[0] == "Waves 1-25"
    artifact = gantt_artifact("roadmap", frame, "Wave roadmap", with_milestones=True)
    assert "each bar covers 25 consecutive waves" in artifact.markdown
    figure = wave_gantt_figure(bars, "roadmap", milestone_frame(frame))
    assert bar_patches(figure) == len(bars), "milestones are not drawn on bars that hold several waves"


def test_undated_waves_are_left_out_and_said_to_be() -> None:
    frame = waves(4)
    frame.loc[3, ["planned_start", "planned_end"]] = None
    assert len(gantt_bars(frame)) == 3
    artifact = gantt_artifact("roadmap", frame, "Wave roadmap", with_milestones=False)
    assert "One bar per wave (3 dated waves). 1 waves have no dates yet" in artifact.markdown


# --- dependency graph -------------------------------------------------------------------


def synthetic_groups(n_groups: int, n_edges: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    names = np.array([f"app-{i:05d}" for i in range(n_groups)])
    nodes = pd.DataFrame({"group": names, "assets": rng.integers(1, 50, n_groups)})
    edges = pd.DataFrame(
        {
            "source": names[rng.integers(0, n_groups, n_edges)],
            "target": names[rng.integers(0, n_groups, n_edges)],
            "dependencies": rng.integers(1, 20, n_edges),
        }
    )
    return nodes, edges.groupby(["source", "target"], as_index=False)["dependencies"].sum()


def test_group_graph_keeps_the_most_linked_groups_and_folds_the_rest() -> None:
    nodes, edges = synthetic_groups(500, 3000)
    graph = group_graph(nodes, edges, max_nodes=12)
    assert len(graph.nodes) == 12 and graph.total_groups == 500 and graph.folded_groups == 489
    assert graph.nodes["group"].iloc[-1] == "other 489 groups"
    assert graph.nodes["assets"].sum() == nodes["assets"].sum()
    between = edges[edges["source"] != edges["target"]]
    links = pd.concat(
        [between.groupby("source")["dependencies"].sum(), between.groupby("target")["dependencies"].sum()]
    )
    top = links.groupby(level=0).sum().sort_values(ascending=False)
    assert set(graph.nodes["group"].iloc[:-1]) == set(top.index[:11])
    kept = set(top.index[:11])
    visible = between[between["source"].isin(kept) | between["target"].isin(kept)]
    assert graph.edges["dependencies"].sum() == visible["dependencies"].sum()
    assert (graph.edges["a"] < graph.edges["b"]).all(), "edges are undirected, one row per pair"


def test_group_graph_under_the_limit_shows_every_group() -> None:
    nodes = pd.DataFrame({"group": ["a", "b", "c"], "assets": [3, 2, 1]})
    edges = pd.DataFrame({"source": ["a", "b", "a"], "target": ["b", "a", "a"], "dependencies": [2, 3, 7]})
    graph = group_graph(nodes, edges)
    assert graph.folded_groups == 0 and list(graph.nodes["group"]) == ["a", "b", "c"]
    assert graph.edges.to_dict("records") == [{"a": "a", "b": "b", "dependencies": 5}]
    assert graph.nodes.set_index("group").loc["a", "internal"] == 7


def test_dependency_picture_renders_for_big_empty_and_edgeless_graphs() -> None:
    for nodes, edges in (
        synthetic_groups(5000, 40_000),
        (
            pd.DataFrame({"group": ["only"], "assets": [4]}),
            pd.DataFrame(columns=["source", "target", "dependencies"]),
        ),
        (
            pd.DataFrame(columns=["group", "assets"]),
            pd.DataFrame(columns=["source", "target", "dependencies"]),
        ),
    ):
        graph = group_graph(nodes, edges)
        figure = dependency_graph_figure(graph, "deps")
        assert png_bytes(figure).startswith(PNG_SIGNATURE)
        drawn = figure.axes[0].collections
        assert sum(
            len(c.get_offsets()) for c in drawn if hasattr(c, "get_sizes") and len(c.get_sizes())
        ) == len(graph.nodes)


def test_spring_layout_is_deterministic_and_bounded() -> None:
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    first = spring_layout(5, edges, np.ones(3))
    assert np.array_equal(first, spring_layout(5, edges, np.ones(3)))
    assert np.abs(first).max() == pytest.approx(1.0)
    linked = np.linalg.norm(first[0] - first[1])
    assert linked < np.linalg.norm(first[0] - first[3]), "neighbours sit closer than the far end of a chain"
