"""A probe at a remote location (`signalpost probe --server URL --token T --location NAME`): the same
engine, with its monitors fetched over the management API and its results sent back in batches.

- The monitors are fetched every RELOAD_SECONDS with If-None-Match (an unchanged listing is a 304) and
  kept in a file beside the buffer: while the server is unreachable, and after a restart meanwhile, the
  probe checks the monitors it last had.
- Every batch the engine hands over is written to the buffer first (a SQLite file, synchronous writes),
  then sent, oldest first, by a thread of its own. A batch leaves the buffer only once the server
  acknowledged it; a batch sent again after a lost acknowledgement is recorded once (its id). A probe
  stopped or killed loses nothing already in the buffer.
- The buffer holds at most `buffer_max` results; beyond that the oldest batches are dropped, and the log
  says how many.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.client import HTTPException
from pathlib import Path

import jsonpath

from .engine import RELOAD_SECONDS, Check, Engine, user_agent
from .store import Outcome

log = logging.getLogger("signalpost.probe")

BUFFER_MAX = 500_000  # results
REQUEST_TIMEOUT = 10.0
RETRY_MAX_SECONDS = 5.0
DRAIN_SECONDS = 5.0  # on stopping, how long the buffer is sent for before the probe exits
REPORT_SECONDS = 30.0


class BufferInUse(Exception):
    pass


class Buffer:
    """Batches waiting to be sent, oldest first, in a SQLite file. Used from two threads."""

    def __init__(self, directory: Path, limit: int = BUFFER_MAX):
        directory.mkdir(parents=True, exist_ok=True)
        self.limit = limit
        self.dropped = 0
        self._lock_file = open(directory / "buffer.lock", "w")  # noqa: SIM115 - held while the probe runs
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BufferInUse(f"another probe uses the buffer in {directory}") from None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(directory / "buffer.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS batch (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "results INTEGER NOT NULL, body TEXT NOT NULL)")

    def add(self, body: dict) -> None:
        with self._lock:
            self._db.execute("INSERT INTO batch (results, body) VALUES (?, ?)",
                             (len(body["results"]), json.dumps(body, separators=(",", ":"))))
            held = self._held()
            while held > self.limit:
                seq, count = self._db.execute("SELECT seq, results FROM batch ORDER BY seq LIMIT 1").fetchone()
                self._db.execute("DELETE FROM batch WHERE seq = ?", (seq,))
                held -= count
                self.dropped += count
                log.warning("the buffer is full (%d results): dropped the oldest %d", self.limit, count)

    def _held(self) -> int:
        return self._db.execute("SELECT COALESCE(SUM(results), 0) FROM batch").fetchone()[0]

    def held(self) -> int:
        with self._lock:
            return self._held()

    def oldest(self) -> tuple[int, int, bytes] | None:
        with self._lock:
            row = self._db.execute("SELECT seq, results, body FROM batch ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1], row[2].encode())

    def remove(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM batch WHERE seq = ?", (seq,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._lock_file.close()


class Server:
    """The management API of the server the probe reports to."""

    def __init__(self, url: str, token: str, agent: str):
        self.url, self.token, self.agent = url.rstrip("/"), token, agent

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        """(status, headers, body); raises OSError or HTTPException when the server cannot be reached."""
        request = urllib.request.Request(self.url + "/api/v1" + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "User-Agent": self.agent, "Accept": "application/json",
            **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()


def _detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail", ""))[:300]
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")


def _unreachable(status: int) -> bool:
    """Answers that mean "try again later", as a refused connection does."""
    return status >= 500 or status in (408, 429)


class RemoteProbe:
    def __init__(self, server: str, token: str, location: str, buffer_dir: Path, buffer_max: int = BUFFER_MAX):
        self.location = location
        self.agent = user_agent(location)
        self.server = Server(server, token, self.agent)
        self.buffer = Buffer(buffer_dir, buffer_max)
        self.monitors_file = buffer_dir / "monitors.json"
        self.etag: str | None = None
        self.listing: list[dict] | None = None
        self.numbers: dict[str, int] = {}  # a monitor's id -> the number the engine knows it by
        self.ids: dict[int, str] = {}
        self.made = self.sent = self.refused = 0
        self.reachable: bool | None = None
        self._stop_sending = threading.Event()
        self._wake = threading.Event()

    # --- the monitors ---------------------------------------------------------------------------------

    def _number(self, public_id: str) -> int:
        if public_id not in self.numbers:
            self.numbers[public_id] = len(self.numbers) + 1
            self.ids[self.numbers[public_id]] = public_id
        return self.numbers[public_id]

    def checks(self) -> list[Check]:
        """The monitors to check, as the server lists them now, or as it last did."""
        try:
            status, headers, body = self.server.request(
                "GET", "/probe/monitors", headers={"If-None-Match": self.etag} if self.etag else None)
        except (OSError, HTTPException) as error:
            self._set_reachable(False, str(getattr(error, "reason", None) or error))
            status, headers, body = 0, {}, b""
        if status == 200:
            self._set_reachable(True)
            self.listing = json.loads(body)["monitors"]
            self.etag = headers.get("ETag")
            self._keep_listing()
        elif status == 304:
            self._set_reachable(True)
        elif status:
            if _unreachable(status):
                self._set_reachable(False, f"HTTP {status}")
            else:
                log.error("the server refused the monitors' listing: HTTP %d %s", status, _detail(body))
        if self.listing is None:
            self.listing = self._kept_listing()
        return [check for m in self.listing if (check := self._check(m)) is not None]

    def _check(self, m: dict) -> Check | None:
        path = m.get("json_path") or ""
        try:
            compiled = jsonpath.compile(path) if path else None  # once per listing, not per check
        except jsonpath.JSONPathError:
            log.error("monitor %s: the server listed a JSON path that does not compile: %r", m["id"], path)
            return None
        return Check(
            id=self._number(m["id"]), public_id=m["id"], kind=m["kind"], target=m["target"],
            interval=float(m["interval"]), timeout=float(m["timeout"]), method=m["method"],
            headers=tuple(m["headers"].items()), body=m["body"], expected=tuple(m["expected_status"]),
            keyword=m["keyword"], keyword_absent=m["keyword_absent"], degraded_above_ms=m["degraded_above_ms"],
            follow_redirects=m["follow_redirects"], verify_tls=m["verify_tls"], tls_expiry_days=m["tls_expiry_days"],
            json_path=compiled, json_path_text=path, json_expected=m.get("json_expected") or "",
            record_type=m.get("record_type") or "A", dns_expected=tuple(m.get("expected") or ()),
            resolver=m.get("resolver") or "")

    def _keep_listing(self) -> None:
        temporary = self.monitors_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"etag": self.etag, "monitors": self.listing}))
        temporary.replace(self.monitors_file)

    def _kept_listing(self) -> list[dict]:
        try:
            kept = json.loads(self.monitors_file.read_text())
        except (OSError, ValueError):
            return []
        log.info("checking the %d monitors the server last listed", len(kept["monitors"]))
        return kept["monitors"]

    # --- the results ----------------------------------------------------------------------------------

    def keep(self, outcomes: list[Outcome]) -> None:
        """The engine's sink: a batch into the buffer, to be sent by the sending thread."""
        self.buffer.add({"location": self.location, "batch": str(uuid.uuid4()), "results": [
            {"monitor": self.ids[o.monitor_id], "at": o.at.isoformat(), "verdict": o.verdict,
             "latency_ms": o.latency_ms, "status_code": o.status_code, "reason": o.reason} for o in outcomes]})
        self.made += len(outcomes)
        self._wake.set()

    def send_one(self) -> bool | None:
        """Send the oldest batch: True when it left the buffer, False when the server could not take it
        now, None when the buffer is empty."""
        item = self.buffer.oldest()
        if item is None:
            return None
        seq, count, body = item
        try:
            status, _headers, answer = self.server.request("POST", "/probe/results", body)
        except (OSError, HTTPException) as error:
            self._set_reachable(False, str(getattr(error, "reason", None) or error))
            return False
        if status == 200:
            self._set_reachable(True)
            self.buffer.remove(seq)
            self.sent += count
            return True
        if _unreachable(status):
            self._set_reachable(False, f"HTTP {status}")
            return False
        if status in (401, 403):  # the token: kept until an admin mends it
            log.error("the server refused the results: HTTP %d %s; they stay in the buffer", status, _detail(answer))
            return False
        # Refused for what it contains: sending it again would be refused again, and hold back the rest.
        log.error("the server refused a batch of %d results: HTTP %d %s; it is dropped", count, status,
                  _detail(answer))
        self.buffer.remove(seq)
        self.refused += count
        return True

    def _set_reachable(self, reachable: bool, why: str = "") -> None:
        if reachable and self.reachable is False:
            log.info("the server is reachable again: sending the %d results in the buffer", self.buffer.held())
        elif not reachable and self.reachable is not False:
            log.warning("the server is unreachable (%s): checking goes on, results are kept in the buffer", why)
        self.reachable = reachable

    def _send_loop(self) -> None:
        pause = 0.5
        while not self._stop_sending.is_set():
            outcome = self.send_one()
            if outcome:
                pause = 0.5
                continue
            if outcome is False:
                self._stop_sending.wait(pause)
                pause = min(RETRY_MAX_SECONDS, pause * 2)
            else:
                self._wake.wait(1.0)
                self._wake.clear()

    def report(self) -> str:
        dropped = f", {self.buffer.dropped} dropped (buffer full)" if self.buffer.dropped else ""
        refused = f", {self.refused} refused by the server" if self.refused else ""
        return (f"{self.made} checks made, {self.sent} results sent, {self.buffer.held()} in the buffer"
                f"{refused}{dropped}")

    # --- running --------------------------------------------------------------------------------------

    def run(self, stopping: threading.Event) -> None:
        sender = threading.Thread(target=self._send_loop, name="probe-send", daemon=True)
        sender.start()
        engine = Engine(self.checks, self.keep, agent=self.agent)
        loop = asyncio.new_event_loop()
        log.info("probing at %s for %s", self.location, self.server.url)
        reported = time.monotonic()
        try:
            while not stopping.is_set():
                ends = time.monotonic() + 1.0
                loop.run_until_complete(engine.run(lambda: stopping.is_set() or time.monotonic() >= ends))
                if time.monotonic() - reported >= REPORT_SECONDS:
                    reported = time.monotonic()
                    log.info("%d monitors at %s: %s", len(engine.checks), self.location, self.report())
            loop.run_until_complete(engine.close())  # the checks in flight finish, into the buffer
        finally:
            loop.close()
            self._stop_sending.set()
            self._wake.set()
            sender.join()
        # What is left goes now if the server takes it; the rest waits in the buffer for the next start.
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and self.send_one():
            pass
        log.info("stopped at %s: %s", self.location, self.report())
        self.buffer.close()
