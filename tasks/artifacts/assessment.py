"""Assessment's report: 6R decisions (counts and the least certain first), waves and roadmap."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.reports import (
    asset_attention,
    cross_wave_links,
    six_r_decisions,
    strategy_counts,
    wave_summary,
)
from tasks.artifacts import keys
from tasks.artifacts.markdown import markdown_table
from tasks.artifacts.model import Report, TableArtifact
from tasks.artifacts.review import plural, report_date, six_r_threshold
from tasks.artifacts.tables import MAX_TABLE_ROWS, Rows, json_rows
from tasks.artifacts.waves import ASSESSMENT_COLUMNS, gantt_artifact, wave_table
from tasks.phases import PhaseContext


def build(session: Session, ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    run = ctx.assets_run_id
    below = six_r_threshold(ctx)
    report = Report(title="Assessment")
    step = {name.split(".")[-1]: values for name, values in metrics.items()}
    attention = asset_attention(
        session=session, master_flow_id=run, low_confidence=below, today=report_date(ctx)
    )

    strategies = strategy_counts(session=session, master_flow_id=run)
    mix = strategies.groupby("strategy")["assets"].sum().sort_values(ascending=False)
    treatment = step.get("treatment", {})
    report.done.append(
        f"6R strategy for {plural(attention['assets'] - attention['without_strategy'], 'asset')} "
        f"(rules v{treatment.get('rules_version', '?')}; {attention['locked']:,} locked by people): "
        + ", ".join(f"{s} {int(n):,}" for s, n in mix.items())
    )
    overrides = int(step.get("editor", {}).get("overrides_applied", 0))
    if overrides:
        report.done.append(f"{plural(overrides, 'override')} from the editor applied and locked")

    waves = wave_summary(session=session, master_flow_id=run)
    planning = step.get("wave_planning", {})
    report.done.append(
        f"{plural(len(waves), 'wave')} of at most {planning.get('max_wave_size', '?')} assets hold "
        f"{plural(int(waves['assets'].sum()), 'moving asset')}; "
        f"{plural(attention['assets'] - attention['moving'] - attention['without_strategy'], 'asset')} "
        "retire or stay (retain)"
    )
    if waves["planned_start"].notna().any():
        report.done.append(
            f"Roadmap from {waves['planned_start'].min().isoformat()} "
            f"to {waves['planned_end'].max().isoformat()}"
        )

    if attention["without_strategy"]:
        report.needs_human.append(f"{plural(attention['without_strategy'], 'asset')} have no 6R strategy")
    if attention["low_confidence"]:
        report.needs_human.append(
            f"{plural(attention['low_confidence'], '6R decision')} below confidence {below:g} "
            "and not locked: "
            f"review them in `{keys.artifact_key(ctx.phase, keys.DECISIONS, ctx.engagement_id)}` "
            "(least certain first) and override in the editor"
        )
    if attention["moving_without_wave"]:
        report.warnings.append(f"{plural(attention['moving_without_wave'], 'moving asset')} are in no wave")
    crossing = cross_wave_links(session=session, master_flow_id=run)
    if len(crossing):
        report.needs_human.append(
            f"{plural(int(crossing['dependencies'].sum()), 'dependency', 'dependencies')} cross waves "
            f"({plural(len(crossing), 'wave pair')}): plan how each wave reaches what is not moved yet.\n\n"
            + markdown_table(crossing.head(10))
        )

    total = attention["assets"]
    decisions = Rows(
        json_rows(six_r_decisions(session=session, master_flow_id=run, limit=MAX_TABLE_ROWS)), total
    )
    by_application = sorted(
        ({"application_name": name, **values} for name, values in treatment.get("applications", {}).items()),
        key=lambda row: (row["confidence"], row["application_name"]),
    )
    applications = Rows(by_application[:MAX_TABLE_ROWS], len(by_application))
    report.artifacts += [
        TableArtifact(
            keys.APPLICATIONS,
            applications.rows,
            "6R per application: the strategy most of its assets got in treatment, confidence = their "
            f"share ({applications.note('applications', 'least clear-cut first')})",
        ),
        TableArtifact(keys.STRATEGIES, json_rows(strategies), "Assets per 6R strategy and decider"),
        TableArtifact(
            keys.DECISIONS,
            decisions.rows,
            f"6R decision per asset ({decisions.note('assets', 'least confident first')})",
        ),
        wave_table(keys.WAVES, waves, ASSESSMENT_COLUMNS, "Waves with their strategy mix"),
        gantt_artifact(keys.ROADMAP, waves, "Wave roadmap", with_milestones=False),
    ]
    return report
