"""What the benchmarks share: a PostgreSQL database and a data directory of their own, Signalpost's
processes started as in production and always stopped, wrk's output read, figures summarised, the
machine described, and their sections of docs/benchmarks.md rewritten.

Everything talks to loopback only. A benchmark is run through `run_cleanly()`, which removes every
process, the database and the directory at the end, also on Ctrl-C or SIGTERM.
"""

import http.client
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DOCS = REPO / "docs" / "benchmarks.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Harness:
    """A temporary directory, a database `signalpost_bench_<pid>`, and the processes started in them."""

    def __init__(self):
        self.started = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="signalpost-bench-"))
        self.data_dir = self.tmp / "data"
        self.database = f"signalpost_bench_{os.getpid()}"
        self.database_created = False
        self.processes: dict[str, subprocess.Popen] = {}
        self.sp_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "signalpost.settings",
            "DATABASE_URL": f"{PG_SERVER}/{self.database}",
            "SIGNALPOST_DATA_DIR": str(self.data_dir),
            "SIGNALPOST_URL": f"http://127.0.0.1:{self.sp_port}",
            "SIGNALPOST_DEMO": "0",
            "LOG_LEVEL": "WARNING",
        })

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():5.0f}s] {message}", flush=True)

    # database --------------------------------------------------------------------------------------

    def _admin_sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def create_database(self) -> None:
        self._admin_sql(f'CREATE DATABASE "{self.database}"')
        self.database_created = True

    def drop_database(self) -> None:
        if self.database_created:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database_created = False

    def sql(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        """A statement in the benchmark's database, outside Signalpost (reading what the worker did)."""
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/{self.database}", autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    # Signalpost ------------------------------------------------------------------------------------

    def signalpost(self, *argv: str, env: dict | None = None, timeout: float = 300, log: str | None = None) -> str:
        """Run a `signalpost` command to its end; returns its output. `log` names a file in the temporary
        directory that keeps what it logged (standard error)."""
        result = subprocess.run([sys.executable, "-m", "signalpost", *argv], env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=timeout, check=False)
        if log is not None:
            self.log_path(log).write_text(result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"signalpost {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        # A session of its own: Ctrl-C reaches only this script, which then stops the whole group.
        with open(self.tmp / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the group: Granian's worker processes too
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=15)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue

    def log_path(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def log_size(self, name: str) -> int:
        path = self.log_path(name)
        return path.stat().st_size if path.exists() else 0

    def log_text(self, name: str, offset: int = 0) -> str:
        with open(self.log_path(name), "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def wait_for(self, port: int, path: str, name: str, timeout: float = 30, statuses: tuple = (200,)) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_text(name)[-3000:]}")
            try:
                if request(port, "GET", path, {}, timeout=2)[0] in statuses:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer {path} within {timeout:.0f} s")

    def healthz(self) -> dict:
        status, body = request(self.sp_port, "GET", "/healthz", {}, timeout=5)
        return json.loads(body) if status in (200, 503) else {}

    def wait_published(self, timeout: float, what: str = "the publisher", since: float | None = None) -> float:
        """Until /healthz says the publisher has nothing pending (and the front has a snapshot).
        /healthz's figures are refreshed every 2 s: a `pending` of 0 counts only when read after `since`
        (a monotonic time) plus that delay. Returns the seconds waited."""
        began = time.monotonic()
        settle = (since or began) + 2.5
        while time.monotonic() - began < timeout:
            for name in ("web", "worker"):
                if name in self.processes and self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log_text(name)[-3000:]}")
            try:
                health = self.healthz()
            except OSError:
                health = {}
            publisher = health.get("publisher") or {}
            if (time.monotonic() >= settle and health.get("status") in ("ok", "degraded")
                    and publisher.get("pending") == 0):
                return time.monotonic() - began
            time.sleep(0.5)
        raise RuntimeError(f"{what} did not catch up within {timeout:.0f} s")

    def cleanup(self) -> None:
        for name in list(self.processes):
            try:
                self.stop(name)
            except Exception as error:  # noqa: BLE001 - keep going: the database must still be dropped
                print(f"stopping {name}: {error}", file=sys.stderr)
        try:
            self.drop_database()
        except Exception as error:  # noqa: BLE001 - say so and still remove the directory
            print(f"dropping database {self.database}: {error}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_cleanly(harness: Harness, body: Callable[[], None]) -> int:
    """Run `body`; whatever happens (an error, Ctrl-C, SIGTERM), clean up. 0, 130 on interruption."""

    def interrupted(*_) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted)  # a kill cleans up like Ctrl-C
    try:
        body()
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        harness.cleanup()
        signal.signal(signal.SIGTERM, previous)
    return 0


# --- HTTP ------------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, headers: dict, payload: dict | None = None,
            timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=json.dumps(payload) if payload is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- wrk -------------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * UNITS[unit]


def parse_wrk(out: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    if not rps:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.MULTILINE))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(rps.group(1)), "requests": int(requests.group(1)) if requests else 0,
        "p50_ms": to_ms(latency["50"]) if "50" in latency else float("nan"),
        "p99_ms": to_ms(latency["99"]) if "99" in latency else float("nan"),
        "errors": sum(map(int, errors.groups())) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def wrk_argv(port: int, path: str, duration: float, connections: int, threads: int,
             headers: list[str] = ()) -> list[str]:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", "--latency", "--timeout", "5s"]
    for header in headers:
        argv += ["-H", header]
    return argv + [f"http://127.0.0.1:{port}{path}"]


# --- figures ---------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
            "max": ordered[-1], "n": len(ordered)}


def group_cpu_seconds(group: int) -> float:
    """User + system CPU time of every live process in a process group (a server and its workers)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
            if int(fields[2]) == group:
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def command_version(argv: list[str], pattern: str) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    found = re.search(pattern, result.stdout + result.stderr)
    return found.group(1) if found else "unknown"


def git_commit() -> str:
    """The commit measured, and whether the working tree differed from it (another engineer's edits)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "signalpost"],
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' with uncommitted changes in signalpost/' if dirty else ''}"


def machine_facts() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = "unknown"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "memory": memory,
        "python": platform.python_version(), "kernel": platform.release(),
        "granian": importlib.metadata.version("granian"), "django": importlib.metadata.version("django"),
        "a2wsgi": importlib.metadata.version("a2wsgi"),
        "nginx": command_version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": command_version(["wrk", "-v"], r"wrk (\S+)"),
        "postgresql": command_version(["psql", "--version"], r"(\d+\.\d+)"),
        "commit": git_commit(),
    }


def load_average() -> float:
    return os.getloadavg()[0]


# --- docs/benchmarks.md ----------------------------------------------------------------------------

DOC_TITLE = """# Benchmarks

Generated by the scripts in `bench/` (`--write-docs`); each rewrites only its own section below. Figures
drift 10–30% between runs on a shared machine; read the ratios, measured side by side in the same run.
"""


def write_doc_section(name: str, text: str) -> Path:
    """Replace the section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` (appended when the
    file has none), so that each script keeps the other's figures."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{text.strip()}\n{end}\n"
    current = DOCS.read_text() if DOCS.exists() else ""
    if begin not in current or end not in current:
        current = current if "<!-- bench:" in current else DOC_TITLE  # the old single-script file is replaced
        updated = current.rstrip("\n") + "\n\n" + block
    else:
        head, rest = current.split(begin, 1)
        _, tail = rest.split(end, 1)
        updated = head + block + ("\n" + tail.lstrip("\n") if tail.strip() else "")
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(updated)
    return DOCS


# --- posting updates and watching them appear ---------------------------------------------------------

SUMMARY = "/api/v2/summary.json"


class UpdateWatcher:
    """Posts updates through the management API and polls summary.json (every `poll` s, for at most
    `bound` s per update) until the incident's latest update carries the update's marker."""

    def __init__(self, port: int, token: str, poll: float = 0.01, bound: float = 10.0):
        self.port, self.poll, self.bound = port, poll, bound
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.run_id = os.urandom(4).hex()
        self.count = 0
        self.reader: http.client.HTTPConnection | None = None

    def open_incident(self, name: str) -> str:
        status, body = request(self.port, "POST", "/api/v1/incidents", {**self.headers, "Idempotency-Key": os.urandom(8).hex()},
                               {"name": name, "impact": "minor", "body": "Measuring how fast updates reach readers."})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/incidents answered {status}: {body[:500]!r}")
        return json.loads(body)["id"]

    def _latest_body(self, incident_id: str) -> str | None:
        for attempt in range(2):
            try:
                if self.reader is None:
                    self.reader = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.reader.request("GET", SUMMARY)
                response = self.reader.getresponse()
                summary = json.loads(response.read())
                break
            except (OSError, http.client.HTTPException, ValueError):
                if self.reader is not None:
                    self.reader.close()
                self.reader = None
                if attempt:
                    return None
        for incident in summary.get("incidents", []):
            if incident["id"] == incident_id and incident["incident_updates"]:
                return incident["incident_updates"][0]["body"]
        return None

    def post(self, incident_id: str) -> dict:
        """One update: {'status', 'post_s', 'visible_s' (None: not seen within the bound), 'sent_at'
        (wall clock, to set against the database's times)}."""
        import threading

        n = self.count
        self.count += 1
        marker = f"marker{self.run_id}n{n:05d}"
        update = {"status": ["identified", "monitoring"][n % 2], "body": f"Update {n}: {marker}."}
        headers = {**self.headers, "Idempotency-Key": f"bench-{self.run_id}-{n}"}
        result: dict = {}

        def send() -> None:
            began = time.perf_counter()
            try:
                result["status"], result["body"] = request(self.port, "POST", f"/api/v1/incidents/{incident_id}/updates",
                                                            headers, update)
            except OSError as error:
                result["status"], result["body"] = None, str(error).encode()
            result["post_s"] = time.perf_counter() - began

        result["sent_at"] = time.time()
        sent = time.perf_counter()
        # Posted from a thread so that polling starts with the POST, not after its answer.
        poster = threading.Thread(target=send)
        poster.start()
        seen = None
        while time.perf_counter() - sent < self.bound:
            latest = self._latest_body(incident_id)
            if latest is not None and marker in latest:
                seen = time.perf_counter() - sent
                break
            time.sleep(self.poll)
        poster.join(30)
        if result.get("status") != 201:
            raise RuntimeError(f"posting an update answered {result.get('status')}: {result.get('body', b'')[:500]!r}")
        result["visible_s"] = seen
        return result

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def publisher_times(harness: Harness, after_event_id: int, kind_prefix: str = "incident.") -> list[dict]:
    """For each event after `after_event_id`: when it was recorded (inside the write's transaction) and
    when the publisher marked it done (after storing its pages), wall-clock seconds."""
    rows = harness.sql(
        "SELECT e.id, e.kind, extract(epoch FROM e.recorded_at), extract(epoch FROM h.done_at), h.state "
        "FROM events_event e JOIN events_handling h ON h.event_id = e.id AND h.consumer = 'publisher' "
        "WHERE e.id > %s AND e.kind LIKE %s ORDER BY e.id", (after_event_id, kind_prefix + "%"))
    return [{"id": r[0], "kind": r[1], "recorded_at": float(r[2]), "done_at": float(r[3]) if r[3] is not None else None,
             "state": r[4]} for r in rows]


def last_event_id(harness: Harness) -> int:
    return harness.sql("SELECT coalesce(max(id), 0) FROM events_event")[0][0]


PUBLISHED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO signalpost\.publish published version (\d+): "
                       r"(\d+) pages changed", re.MULTILINE)


def log_time(stamp: str) -> float:
    """A log line's asctime ("2026-11-25 10:00:00,123") as epoch seconds. Django sets its processes'
    time zone to TIME_ZONE (UTC unless the environment says otherwise), so that is the log's zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(os.environ.get("TIME_ZONE") or "UTC")
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=zone).timestamp()


def publications(text: str) -> list[tuple[float, int, int]]:
    """The worker log's `published version N: K pages changed` lines: (epoch seconds, N, K)."""
    return [(log_time(stamp), int(version), int(pages)) for stamp, version, pages in PUBLISHED.findall(text)]


def update_figures(posted: list[dict], events: list[dict], published: list[tuple[float, int, int]]) -> dict:
    """The update test's figures: the POST, visibility, and the publisher's part, matched by time."""
    visible = [p["visible_s"] for p in posted if p["visible_s"] is not None]
    # Each POST records one `incident.updated` event; they are in the order posted.
    updated = [e for e in events if e["kind"] == "incident.updated"]
    lag, to_visible, pages = [], [], []
    for post, event in zip(posted, updated):
        if event["done_at"] is not None:
            lag.append(event["done_at"] - event["recorded_at"])
            if post["visible_s"] is not None:
                to_visible.append(post["sent_at"] + post["visible_s"] - event["done_at"])
            after = [k for at, _, k in published if at >= event["recorded_at"]]
            if after:
                pages.append(after[0])
    return {
        "count": len(posted), "not_visible": len(posted) - len(visible),
        "post_ms": {k: v * 1000 if k != "n" else v for k, v in percentiles([p["post_s"] for p in posted]).items()},
        "visible_ms": {k: v * 1000 if k != "n" else v for k, v in percentiles(visible).items()},
        "publisher_ms": {k: v * 1000 if k != "n" else v for k, v in percentiles(lag).items()},
        "front_ms": {k: v * 1000 if k != "n" else v for k, v in percentiles(to_visible).items()},
        "pages_changed": statistics.median(pages) if pages else float("nan"),
        "publications": len(published),
    }
