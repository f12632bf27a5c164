"""Send a phase's report to Prefect under stable keys: the summary last, pointing at the rest.

Why the failures are caught: this runs after the phase's gate passed and its handoff was
written; a broken picture must not roll back a good phase. A failure is logged and written
into the summary's warnings instead, so it is seen where the report is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy.orm import Session

from db.session import tenant_session
from tasks.artifacts import assessment, discovery, execution, keys, modernization, planning
from tasks.artifacts.markdown import step_lines, summary_markdown
from tasks.artifacts.model import Artifact, MarkdownArtifact, Report
from tasks.phases import ASSESSMENT, DISCOVERY, EXECUTION, MODERNIZATION, PLANNING, PhaseContext

Builder = Callable[[Session, PhaseContext, dict[str, Any]], Report]
BUILDERS: dict[str, Builder] = {
    DISCOVERY: discovery.build,
    ASSESSMENT: assessment.build,
    PLANNING: planning.build,
    EXECUTION: execution.build,
    MODERNIZATION: modernization.build,
}
# Published by the gate and handoff (tasks/handoff.py) under the same key scheme.
GATE_ARTIFACTS = {"quality-gate": "quality gate results", "handoff": "what the next phase receives"}


def build_report(ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    """The phase's report, read under the engagement's tenant context."""
    with tenant_session(ctx.tenant) as session:
        return BUILDERS[ctx.phase](session, ctx, metrics)


def _send(artifact: Artifact, key: str) -> None:
    if isinstance(artifact, MarkdownArtifact):
        create_markdown_artifact(markdown=artifact.markdown, key=key, description=artifact.description)
    else:
        create_table_artifact(table=artifact.rows, key=key, description=artifact.description)


@task(name="publish_artifacts", persist_result=False)
def publish_phase_artifacts(ctx: PhaseContext, metrics: dict[str, Any]) -> dict[str, str]:
    """Publish the phase's summary, tables and pictures; returns ``{what: artifact key}``."""
    logger = get_run_logger()
    try:
        report = build_report(ctx, metrics)
    except Exception as exc:
        logger.exception("the %s report could not be built", ctx.phase)
        report = Report(title=ctx.phase.capitalize())
        report.warnings.append(f"The report could not be built: {type(exc).__name__}: {exc}")
    published: dict[str, str] = {}
    see_also: dict[str, str] = {}
    for artifact in report.artifacts:
        key = keys.artifact_key(ctx.phase, artifact.what, ctx.engagement_id)
        try:
            _send(artifact, key)
        except Exception as exc:
            logger.exception("artifact %s was not published", key)
            report.warnings.append(f"Artifact `{key}` was not published: {type(exc).__name__}: {exc}")
            continue
        published[artifact.what] = key
        see_also[key] = artifact.description
    for what, description in GATE_ARTIFACTS.items():
        see_also[keys.artifact_key(ctx.phase, what, ctx.engagement_id)] = description
    summary_key = keys.artifact_key(ctx.phase, keys.SUMMARY, ctx.engagement_id)
    markdown = summary_markdown(
        title=f"{report.title} summary",
        subtitle=(
            f"Engagement `{ctx.engagement_id}`, phase run `{ctx.phase_flow_id}`, "
            f"assets of master run `{ctx.assets_run_id}`"
        ),
        done=report.done,
        warnings=report.warnings,
        needs_human=report.needs_human,
        steps=step_lines(metrics),
        see_also=see_also,
    )
    try:
        create_markdown_artifact(
            key=summary_key,
            markdown=markdown,
            description=f"{report.title}: what was done, warnings, what needs a human",
        )
    except Exception:
        logger.exception("summary %s was not published", summary_key)
        return published
    published[keys.SUMMARY] = summary_key
    return published
