"""The embedded server stops when its last live user exits, even if another user was killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ATTACH = """
import sys, time
from pathlib import Path
from db.embedded import embedded_admin_uri
print(embedded_admin_uri(Path(sys.argv[1])), flush=True)
time.sleep(float(sys.argv[2]))
"""


def _attach(pgdata: Path, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", ATTACH, str(pgdata), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().startswith("postgresql://")
    return process


def _postmaster(pgdata: Path) -> psutil.Process | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return psutil.Process(pid) if psutil.pid_exists(pid) else None


def test_a_killed_user_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    first = _attach(pgdata, 3)
    killed = _attach(pgdata, 600)
    postmaster = _postmaster(pgdata)
    assert postmaster is not None and postmaster.is_running()
    killed.send_signal(signal.SIGKILL)  # no atexit: it never takes itself off pgserver's list
    killed.wait()
    assert first.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while postmaster.is_running() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not postmaster.is_running(), "the embedded server outlived every live user"
