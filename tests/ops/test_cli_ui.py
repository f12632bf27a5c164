"""`mfactory ui`: one command gives a Prefect server with every deployment served, and says where."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mfactory.serving import deployment_specs
from mfactory.settings import PROJECT_ROOT
from tests.ops.conftest import free_port


def test_mfactory_ui_starts_a_server_serves_every_deployment_and_prints_the_address(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    ui = subprocess.Popen(
        [sys.executable, "-m", "mfactory.cli", "ui", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert ui.stdout is not None
        address = None
        deadline = time.monotonic() + 180
        while address is None and time.monotonic() < deadline:
            line = ui.stdout.readline()
            if not line and ui.poll() is not None:
                raise AssertionError(f"mfactory ui exited with {ui.returncode}")
            found = re.search(r"Prefect UI: (http://\S+)", line)
            address = found.group(1) if found else None
        assert address == f"http://127.0.0.1:{port}"
        expected = {spec["name"] for spec in deployment_specs()}
        served: set[str] = set()
        while served != expected and time.monotonic() < deadline:
            found = httpx.post(f"{address}/api/deployments/filter", json={}, timeout=10).json()
            served = {d["name"] for d in found}
            time.sleep(1)
        assert served == expected
        assert httpx.get(address, timeout=10).status_code == 200  # the UI itself
    finally:
        os.killpg(ui.pid, signal.SIGINT)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
