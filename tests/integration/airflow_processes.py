"""Real Airflow components as child processes of a test, and a small REST client for them.

Each component runs in its own session (process group), so stopping it stops every process
it started (gunicorn/uvicorn workers, Celery pool children, task supervisors). Logs go to a
file the failing assertion quotes.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from sinergi.dagrun import stop_processes

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_path_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the venv's bin first on PATH (Airflow starts helpers named ``airflow``)."""
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}


def request(
    url: str, token: str | None = None, body: dict | None = None, method: str | None = None
) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextmanager
def component(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``airflow <args>`` running for the ``with`` block; its whole process tree stopped after."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [AIRFLOW, *args],
            env=venv_path_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_tree(process.pid)


def stop_tree(pid: int, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Send ``sig`` to ``pid`` and every descendant (whatever group they moved to); KILL the
    ones still alive after ``timeout``."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    stop_processes(tree, sig, timeout)


@dataclass
class Api:
    """An ``airflow api-server``'s base URL and an admin token."""

    base: str
    token: str

    def get(self, path: str) -> dict:
        status, text = request(f"{self.base}/api/v2{path}", self.token)
        assert status == 200, (path, status, text[:500])
        return json.loads(text)

    def send(self, path: str, body: dict, method: str = "POST") -> tuple[int, dict]:
        status, text = request(f"{self.base}/api/v2{path}", self.token, body, method=method)
        return status, json.loads(text) if text else {}

    def trigger(self, dag_id: str, conf: dict) -> tuple[int, dict]:
        return self.send(f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})

    def unpause(self, dag_id: str) -> None:
        status, answer = self.send(f"/dags/{dag_id}", {"is_paused": False}, method="PATCH")
        assert status == 200, answer


def wait_for_api(
    base: str, process: subprocess.Popen, log: Path, airflow_home: Path, timeout: float = 180
) -> Api:
    """Wait until the api-server answers, then log in as ``admin`` (the generated password)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request(f"{base}/api/v2/version")[0] == 200:
                break
        except OSError:
            pass
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "api-server did not start: " + log.read_text()[-3000:]
        time.sleep(1)
    passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
    password = json.loads(passwords.read_text())["admin"]  # the login the README gives
    status, text = request(f"{base}/auth/token", body={"username": "admin", "password": password})
    assert status in (200, 201), text
    return Api(base, json.loads(text)["access_token"])


@contextmanager
def api_server(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[Api]:
    """A real ``airflow api-server`` on ``port`` (default: a free one), logged in as admin."""
    port = port or free_port()
    args = ["api-server", "--port", str(port), "--host", "127.0.0.1"]
    with component(args, env, log) as process:
        yield wait_for_api(f"http://127.0.0.1:{port}", process, log, Path(env["AIRFLOW_HOME"]))


def wait_for_run(api: Api, dag_id: str, run_id: str, logs: list[Path], timeout: float) -> dict:
    """The DAG run once it ended (success or failed); fails quoting ``logs`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}")
        if run["state"] in ("success", "failed"):
            return run
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in logs)
            raise AssertionError(f"run {run_id} still {run['state']} after {timeout} s\n{tails}")
        time.sleep(2)
