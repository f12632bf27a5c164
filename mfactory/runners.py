"""The Prefect task runner chosen by settings (``MFACTORY_TASK_RUNNER``): threads here, Dask for a team.

What runs concurrently is independent work, never the steps of a phase (each needs the one before
it): today, the engagements of a scheduled re-discovery. With ``dask`` and ``MFACTORY_DASK_ADDRESS``
that work spreads over a Dask cluster whose workers reach the same PostgreSQL and Prefect API.
"""

from __future__ import annotations

from typing import Any

from mfactory.settings import Settings, get_settings


def task_runner(settings: Settings | None = None) -> Any:
    settings = settings or get_settings()
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": 1, "processes": False})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=settings.task_runner_workers)
