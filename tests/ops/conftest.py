"""A real Prefect server on a loopback port, with the project deployed and a process worker.

This is how a team runs Migration Factory: ``prefect server start``, a process work pool,
``prefect deploy --all`` from the project folder, ``prefect worker start``. Flow runs execute
in worker subprocesses that reach this session's embedded PostgreSQL through MFACTORY_HOME.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect.client.base import PrefectHttpxSyncClient

from mfactory.serving import start_server
from mfactory.settings import PROJECT_ROOT
from tests.flows.test_master_discovery import new_engagement  # noqa: F401 - re-exported fixture

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class PrefectServer:
    api: str
    env: dict[str, str]
    logs: Path

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API call through Prefect's own HTTP client, with its retry policy.

        Under load the server's SQLite answers 503 or stalls past the read timeout (seen in CI: one
        30 s read timeout failed a run that completed); Prefect's client retries both with backoff,
        exactly as the worker and the flow runs themselves do, so the tests see what a user's
        client would see.
        """
        with PrefectHttpxSyncClient(base_url=self.api, timeout=30) as client:
            response = client.request(method, path, json=body)
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, body)

    def trigger(self, deployment: str, parameters: dict[str, Any]) -> str:
        """Create a flow run of ``migration-master/<deployment>`` over REST; return its id."""
        found = self.get(f"/deployments/name/migration-master/{deployment}")
        # The idempotency key makes a retried POST (after a read timeout) return the same run.
        body = {"parameters": parameters, "idempotency_key": uuid.uuid4().hex}
        return str(self.post(f"/deployments/{found['id']}/create_flow_run", body)["id"])

    def wait_for_state(self, flow_run_id: str, states: set[str], timeout: float = 420) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/flow_runs/{flow_run_id}")
            if run["state_type"] in states:
                return run
            time.sleep(1)
        raise AssertionError(f"flow run {flow_run_id} still {run['state_type']} after {timeout:.0f} s")

    def wait_for_paused_child(self, parent_id: str, flow_name: str, timeout: float = 300) -> dict[str, Any]:
        """The child flow run of ``parent_id`` named ``flow_name`` once it is paused for input."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = self.post(
                "/flow_runs/filter",
                {"flow_runs": {"parent_flow_run_id": {"any_": [parent_id]}, "name": {"any_": [flow_name]}}},
            )
            paused = [c for c in children if c["state_type"] == "PAUSED"]
            if paused:
                return paused[0]
            parent = self.get(f"/flow_runs/{parent_id}")
            if parent["state_type"] in TERMINAL:
                raise AssertionError(f"{parent_id} ended {parent['state']} before {flow_name} paused")
            time.sleep(1)
        raise AssertionError(f"{flow_name} under {parent_id} did not pause within {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prefect(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def deployed_server(database: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    logs = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(logs / "home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
        # Flag every mapped column, so a review run always has mappings to show (tests/ops/test_reviews.py).
        "MFACTORY_MAPPING_REVIEW_THRESHOLD": "1.0",
    }
    server = start_server("127.0.0.1", port, log=logs / "server.log", env=env)
    worker = None
    try:
        _prefect(env, "work-pool", "create", "migration-factory", "--type", "process")
        _prefect(env, "--no-prompt", "deploy", "--all")
        worker = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "migration-factory"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=(logs / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        yield PrefectServer(api=api, env=env, logs=logs)
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
