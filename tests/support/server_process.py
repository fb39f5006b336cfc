"""A real server process on 127.0.0.1, for browser tests and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nuanxin(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a `nuanxin` command as a person would, to its end."""
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, env={**os.environ, **(env or {})}, timeout=300)


class ServerProcess:
    """`nuanxin serve` in a subprocess; `start`, `kill` (SIGKILL, no clean-up) and `stop`.

    With `demo` the database gets the tests' small demo world (`server.demo.seed`) before the
    start, not the living demo of `--demo`, whose weeks of history would be in every test's way.
    With `tls=(cert, key)` it serves HTTPS (`--tls-cert/--tls-key`)."""

    def __init__(self, database_url: str, log_path: Path, demo: bool = True, env: dict | None = None,
                 tls: tuple[Path, Path] | None = None, workers: int = 1) -> None:
        self.database_url = database_url
        self.workers = workers
        self.log_path = log_path
        self.demo = demo
        self.env = env or {}
        self.tls = tls
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "server", "serve", "--port", str(self.port),
                   "--database-url", self.database_url, "--workers", str(self.workers)]
        if self.tls:
            command += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        return command

    def start(self) -> ServerProcess:
        if self.demo:
            from server.demo import seed
            from tests.support.aio import run
            from tests.support.world import in_session

            run(in_session(self.database_url, seed, migrate=True))
        command = self.command()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                # verify=False: a test's own certificate; the browser test checks HTTPS for real.
                if httpx.get(f"{self.url}/api/schema/openapi.json", timeout=1, verify=False).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 30 s")

    def kill(self) -> None:
        """Die at once, as a crash or a pulled plug would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def issue_code(self, person: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "server", "issue-code", person, "--database-url", self.database_url],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
