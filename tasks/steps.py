"""How a named step runs: bookkeeping in ``phase_steps``, its work in one captured transaction.

Each step's data work runs in one transaction with ``app.flow_run_id`` = the phase flow
and ``app.step_name`` = the step, so every row it writes is in ``change_log``. A retried
attempt first undoes whatever an earlier attempt of the same step left committed; that is
what makes every step idempotent, whatever point the earlier attempt failed at.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from prefect import Task, task
from prefect.runtime import task_run
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.repositories.changes import undid_raw_records, undo_flow_changes
from db.repositories.imports import drop_emptied_raw_partitions
from db.repositories.runs import finish_step, start_step, update_phase_flow
from db.session import tenant_session
from mfactory.settings import get_settings
from tasks.phases import STEPS, PhaseContext

StepWork = Callable[[Session, PhaseContext], dict[str, Any]]
#: What a step runs first in its transaction (table locks), given the session.
StepLocks = Callable[[Session], None]


class InjectedFault(RuntimeError):
    """A failure asked for with the ``inject_failures`` parameter (drills and tests)."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, InjectedFault)


def _is_transient(task_obj: Task[Any, Any], run: Any, state: Any) -> bool:
    """Retry only what can succeed on a second try; bad input fails at once."""
    try:
        state.result()
    except TRANSIENT_ERRORS:
        return True
    except Exception:
        return False
    return False


def _describe(exc: BaseException) -> dict[str, Any]:
    where = {k: getattr(exc, k) for k in ("file", "row", "column") if getattr(exc, k, None) is not None}
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        **where,
        "traceback": traceback.format_exception(exc)[-3:],
    }


def _inject_fault(ctx: PhaseContext, name: str, attempt: int) -> None:
    """Fail the first N attempts of a step *after* its work committed (worst case for retries)."""
    times = int(ctx.params.get("inject_failures", {}).get(f"{ctx.phase}.{name}", 0))
    if attempt <= times:
        raise InjectedFault(f"injected failure of {ctx.phase}.{name}, attempt {attempt} of {times} failing")


def run_step(ctx: PhaseContext, name: str, work: StepWork, before: StepLocks | None = None) -> dict[str, Any]:
    """Run one step's work with its bookkeeping; returns the step's metrics.

    ``before`` runs first in the step's transaction, ahead of the undo of an earlier attempt:
    where the step takes table locks, so that it takes them before it writes anything.
    """
    steps = STEPS[ctx.phase]
    attempt = max(int(task_run.run_count or 1), 1)
    task_run_id = task_run.id
    with tenant_session(ctx.tenant) as session:
        start_step(
            session=session,
            tenant=ctx.tenant,
            phase_flow_id=ctx.phase_flow_id,
            name=name,
            position=steps.index(name) + 1,
            task_run_id=task_run_id,
            retry_count=attempt - 1,
        )
    try:
        with tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name=name) as session:
            if before is not None:
                before(session)
            earlier: dict[str, Any] = {"rows_undone": 0}
            if attempt > 1:
                earlier = undo_flow_changes(
                    session=session,
                    flow_run_id=ctx.phase_flow_id,
                    undone_by=ctx.phase_flow_id,
                    step_name=name,
                )
            metrics = work(session, ctx)
            if earlier["rows_undone"]:
                metrics["rows_undone_from_earlier_attempt"] = earlier["rows_undone"]
        if undid_raw_records(earlier):
            drop_emptied_raw_partitions(ctx.tenant)
        _inject_fault(ctx, name, attempt)
        with tenant_session(ctx.tenant) as session:
            finish_step(
                session=session,
                phase_flow_id=ctx.phase_flow_id,
                name=name,
                status="completed",
                metrics=metrics,
                error=None,
            )
            progress = (steps.index(name) + 1) / len(steps)
            update_phase_flow(session=session, phase_flow_id=ctx.phase_flow_id, progress=progress)
    except BaseException as exc:
        with tenant_session(ctx.tenant) as session:
            finish_step(
                session=session,
                phase_flow_id=ctx.phase_flow_id,
                name=name,
                status="failed",
                metrics=None,
                error=_describe(exc),
            )
        raise
    return metrics


def step_task(
    phase: str, name: str, work: StepWork, before: StepLocks | None = None
) -> Task[[PhaseContext], dict[str, Any]]:
    """The Prefect task of one named step (retries on transient errors, with backoff)."""
    if name not in STEPS[phase]:
        raise ValueError(f"{phase} has no step {name!r}")
    settings = get_settings()
    delay = settings.step_retry_delay_seconds

    @task(
        name=f"{phase}.{name}",
        task_run_name=f"{phase}.{name}",
        retries=settings.step_retries,
        retry_delay_seconds=[delay * 2**i for i in range(settings.step_retries)],
        retry_condition_fn=_is_transient,
        persist_result=False,
    )
    def _step(ctx: PhaseContext) -> dict[str, Any]:
        return run_step(ctx, name, work, before)

    _step.__doc__ = work.__doc__
    return _step


__all__ = ["TRANSIENT_ERRORS", "InjectedFault", "StepWork", "run_step", "step_task"]
