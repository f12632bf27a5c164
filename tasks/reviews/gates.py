"""Where a phase waits for a human, what it shows them, and how the answer becomes step input.

A review runs in the phase flow (not in a task: only a flow run can pause) just before the step
that uses its answer, and only when the master run was started with ``review=True``. The answer
is merged into the step's parameters, so the same steps also accept answers given up front
(e.g. ``mapping_overrides`` on the command line) and a run without review goes straight through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pandas as pd
from prefect import pause_flow_run
from prefect.input import RunInput

from db.repositories.assets import load_assets
from db.session import tenant_session
from mfactory.errors import ReviewRefusedError
from mfactory.settings import get_settings
from tasks.assessment.overrides import dates_request, lock_request, six_r_request, wave_request
from tasks.discovery.mapping_review import flagged_mappings
from tasks.phases import ASSESSMENT, DISCOVERY, EXECUTION, PhaseContext
from tasks.reviews.forms import CutoverApproval, EditorReview, MappingReview

DEFAULT_TIMEOUT_SECONDS = 24 * 3600
Review = Callable[[PhaseContext], dict[str, Any]]


def _ask(ctx: PhaseContext, form: type[RunInput], key: str, description: str, **initial: Any) -> Any:
    """Pause this phase flow until a human submits ``form`` (UI or API); return their answer."""
    return pause_flow_run(
        wait_for_input=form.with_initial_data(description=description, **initial),
        timeout=int(ctx.params.get("review_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
        poll_interval=get_settings().review_poll_seconds,
        key=key,
    )


def _table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False))
    return f"{header}\n{body}"


def review_mappings(ctx: PhaseContext) -> dict[str, Any]:
    """Before cleansing: confirm or override the column mappings below the confidence threshold."""
    threshold = get_settings().mapping_review_threshold
    with tenant_session(ctx.tenant) as session:
        flagged = flagged_mappings(session=session, ctx=ctx, threshold=threshold)
    if flagged.empty:
        return {}
    description = (
        f"## {len(flagged)} column mapping(s) below confidence {threshold:.2f}\n\n"
        "Resume to confirm them as proposed, or give overrides (source column -> canonical field, "
        'or "unmapped").\n\n' + _table(flagged)
    )
    answer = _ask(ctx, MappingReview, "mapping-review", description)
    return {
        "mapping_overrides": {**(ctx.params.get("mapping_overrides") or {}), **answer.overrides},
        "mapping_confirmed": sorted(flagged["source_column"].unique()),
        "user": answer.reviewer or "reviewer",
    }


def review_six_r(ctx: PhaseContext) -> dict[str, Any]:
    """Before the editor step: show the 6R decisions and take overrides (the editor stores them)."""
    with tenant_session(ctx.tenant) as session:
        assets = load_assets(
            session=session, master_flow_id=ctx.assets_run_id, columns=["six_r_strategy", "wave"]
        )
    counts = assets.groupby(["six_r_strategy"], dropna=False).size().rename("assets").reset_index()
    description = (
        f"## 6R decisions for {len(assets)} asset(s)\n\n{_table(counts)}\n\n"
        "Override any asset's strategy or wave by name, a wave's dates by number, or lock assets "
        "as they are; overrides are stored for this engagement, audited, and kept by later re-runs."
    )
    answer = _ask(ctx, EditorReview, "editor-review", description)
    return {"editor_overrides": editor_requests(answer), "user": answer.reviewer or "reviewer"}


def editor_requests(answer: EditorReview) -> list[dict[str, Any]]:
    """The reviewer's answers as override requests (plain dicts: they travel in step parameters)."""
    reason = answer.reason or None
    requests = [
        *(six_r_request(a, s, reason) for a, s in answer.six_r_overrides.items()),
        *(wave_request(a, w, reason) for a, w in answer.wave_overrides.items()),
        *(dates_request(n, d.start, d.end, reason) for n, d in answer.wave_dates.items()),
        *(lock_request(a, reason) for a in answer.locks),
    ]
    return [asdict(r) for r in requests]


def approve_cutover(ctx: PhaseContext) -> dict[str, Any]:
    """Before cutover: a named person must approve, or the execution phase is rolled back."""
    answer = _ask(
        ctx,
        CutoverApproval,
        "cutover-approval",
        "## Cutover approval\n\nThe rehost and replatform runbooks are ready. Approve to run the cutover.",
    )
    if not answer.approved:
        raise ReviewRefusedError(f"cutover not approved by {answer.approver or 'reviewer'}: {answer.note}")
    return {"cutover_approval": {"approver": answer.approver or "reviewer", "note": answer.note}}


#: (phase, step) -> the review that runs just before that step when review is on.
REVIEWS: dict[tuple[str, str], Review] = {
    (DISCOVERY, "data_cleansing"): review_mappings,
    (ASSESSMENT, "editor"): review_six_r,
    (EXECUTION, "cutover"): approve_cutover,
}
