"""Real Signalpost server processes for tests: `signalpost web` (Granian + the snapshot front) on a free
loopback port, against the test database."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


class ServerProcess:
    def __init__(self, data_dir: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update({
            "DATABASE_URL": test_database_url(),
            "SIGNALPOST_DATA_DIR": str(data_dir),
            "SECRET_KEY": settings.SECRET_KEY,
            "SIGNALPOST_URL": self.url,
            "SIGNALPOST_SNAPSHOT_POLL": "0.1",
            **(extra_env or {}),
        })
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20, ready: str | None = "/api/v2/status.json") -> "ServerProcess":
        """Started once `ready` answers 200 (ready=None: once the port takes connections)."""
        log = open(self.data_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "signalpost", "web", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            try:
                if ready is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                else:
                    urllib.request.urlopen(self.url + ready, timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer in time")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                chunked: bool = False) -> tuple[int, dict, bytes]:
        """One request over a fresh connection; `chunked` sends the body with Transfer-Encoding: chunked
        and no Content-Length, in pieces of 1,000 bytes."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if chunked:
                pieces = [body[i:i + 1000] for i in range(0, len(body or b""), 1000)]
                connection.request(method, path, body=iter(pieces), headers=headers or {}, encode_chunked=True)
            else:
                connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class WorkerProcess:
    """`signalpost worker` (all its jobs, or `only` some) on the test database."""

    def __init__(self, data_dir: Path, only: list[str], extra_env: dict | None = None):
        self.data_dir = data_dir
        self.only = only
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update({
            "DATABASE_URL": test_database_url(),
            "SIGNALPOST_DATA_DIR": str(data_dir),
            "SECRET_KEY": settings.SECRET_KEY,
            **(extra_env or {}),
        })
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        return (self.data_dir / "worker.log").read_text()

    def start(self) -> "WorkerProcess":
        log = open(self.data_dir / "worker.log", "ab")
        command = [sys.executable, "-m", "signalpost", "worker"]
        for name in self.only:
            command += ["--only", name]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def stop(self, timeout: float = 15) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None
