"""Run Migration Factory's deployments: from ``prefect.yaml`` in one process, and a local server.

``prefect.yaml`` is the one list of deployments: ``prefect deploy --all`` reads it for work pools,
and :func:`project_deployments` reads the same file for ``flow.serve``-style single-process use,
so the two ways of running can never offer different deployments or schedules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from mfactory.settings import PROJECT_ROOT

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"


def deployment_specs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The ``deployments`` entries of ``prefect.yaml``."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"])


def project_deployments(path: Path = PREFECT_YAML) -> list[Any]:
    """``RunnerDeployment`` objects for every entry of ``prefect.yaml`` (for ``prefect.serve``)."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    deployments = []
    for spec in deployment_specs(path):
        flow = load_flow_from_entrypoint(str(path.parent / spec["entrypoint"]))
        schedules = [
            Cron(s["cron"], timezone=s.get("timezone"), active=s.get("active", True))
            for s in spec.get("schedules") or []
        ]
        deployments.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                parameters=spec.get("parameters") or {},
                tags=spec.get("tags") or [],
                schedules=schedules or None,
            )
        )
    return deployments


def serve_project(path: Path = PREFECT_YAML) -> None:
    """Serve every deployment in this process until interrupted (runs execute as subprocesses)."""
    from prefect import serve

    serve(*project_deployments(path))


def start_server(
    host: str, port: int, *, log: Path, env: dict[str, str] | None = None, timeout: float = 90.0
) -> subprocess.Popen[bytes]:
    """Start ``prefect server start`` (its default SQLite) and wait until its API answers."""
    # The UI is told its API address explicitly: left alone it assumes the default port 4200.
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"http://{host}:{port}/api",
        **(env or {}),
    }
    env.pop("PREFECT_API_URL", None)
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    api = f"http://{host}:{port}/api"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"prefect server did not answer on {api} within {timeout:.0f} s; see {log}")
