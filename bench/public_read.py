"""The public read-path benchmark: Signalpost as run in production against nginx serving the same bytes.

Starts a fresh PostgreSQL database and data directory, loads a page with 2,000 past incidents, runs
`signalpost web` and `signalpost worker`, then drives both Signalpost and nginx with wrk in
alternation and prints requests/s, latency and the ratio Signalpost/nginx. It also measures a URL that
falls through to Django (WSGI thread pool and Django's ASGI handler) and how long an update posted
through the management API takes to become visible in /api/v2/summary.json.

    .venv/bin/python bench/public_read.py [--duration 10] [--write-docs]

Everything runs on loopback; every process and the database are removed at the end, even on Ctrl-C.
"""

import argparse
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
import threading
import time
import urllib.request
import uuid
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_data  # noqa: E402  (bench/ is not a package)

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
READ_PATHS = ["/", "/api/v2/summary.json"]
# URLs the front hands to Django; neither touches the database.
FALLTHROUGH = {  # path: (what it is, the status it answers)
    "/console/login": ("the console's login page (a template, a new CSRF token, every middleware)", 200),
    "/api/v1/status": ("the management API refusing a request without a token (the request cycle alone)", 401),
}
BUDGET_SECONDS = 170  # the whole run at defaults stays under ~3 minutes
AIM_RATIO, AIM_P99_MS, AIM_VISIBLE_MS = 0.5, 50.0, 1000.0


# --- processes --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.started = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="signalpost-bench-"))
        self.data_dir = self.tmp / "data"
        self.database = f"signalpost_bench_{os.getpid()}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.sp_port = free_port()
        self.nginx_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "signalpost.settings",
            "DATABASE_URL": f"{PG_SERVER}/{self.database}",
            "SIGNALPOST_DATA_DIR": str(self.data_dir),
            "SIGNALPOST_URL": f"http://127.0.0.1:{self.sp_port}",
            "SIGNALPOST_DEMO": "0",
            "LOG_LEVEL": "WARNING",
        })
        self.results: dict = {"runs": [], "fallthrough": {}, "updates": {}}

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():5.0f}s] {message}", flush=True)

    # database --------------------------------------------------------------------------------------

    def _admin_sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self) -> None:
        self._admin_sql(f'CREATE DATABASE "{self.database}"')
        self.database_created = True

    def drop_database(self) -> None:
        if getattr(self, "database_created", False):
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database_created = False

    # Signalpost ------------------------------------------------------------------------------------

    def signalpost(self, *argv: str, env: dict | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "signalpost", *argv], env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=300, check=False)
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
                process.wait(timeout=10)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue

    def start_web(self, interface: str) -> None:
        self.stop("web")
        self.start("web", [sys.executable, "-m", "signalpost", "web", "--port", str(self.sp_port)],
                   env={"SIGNALPOST_DJANGO_INTERFACE": interface, "LOG_LEVEL": "INFO"})  # INFO: publication times
        self.wait_for(self.sp_port, "/api/v2/status.json", "web")

    def wait_for(self, port: int, path: str, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{(self.tmp / f'{name}.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer {path} within {timeout:.0f} s")

    def start_nginx(self) -> None:
        site = self.data_dir / "snapshot" / "site"
        conf = self.tmp / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/nginx-error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; application/json json; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/html application/json;
    sendfile on;
    tcp_nopush on;
    access_log off;
    gzip_static on;
    client_body_temp_path {self.tmp}/nginx-body;
    proxy_temp_path {self.tmp}/nginx-proxy;
    fastcgi_temp_path {self.tmp}/nginx-fastcgi;
    uwsgi_temp_path {self.tmp}/nginx-uwsgi;
    scgi_temp_path {self.tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{self.nginx_port};
        root {site};
        location / {{ try_files $uri $uri.html $uri/index.html =404; }}
        location ~ \\.json$ {{ default_type application/json; try_files $uri =404; }}
    }}
}}
""")
        self.start("nginx", ["nginx", "-c", str(conf), "-p", str(self.tmp)])
        self.wait_for(self.nginx_port, "/api/v2/summary.json", "nginx")

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

    # setup -----------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.create_database()
        self.log(f"database {self.database} created; migrating")
        self.signalpost("migrate")
        self.log(f"loading 50 components and {self.args.incidents} past incidents")
        argv = [sys.executable, __file__, "--load-data", str(self.args.incidents)]
        result = subprocess.run(argv + (["--full-publish"] if self.args.full_publish else []), env=self.env,
                                capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"loading data failed:\n{result.stderr[-3000:]}")
        self.results["setup"] = json.loads(result.stdout.strip().splitlines()[-1])
        t = self.results["setup"]
        self.log(f"loaded in {t['load_seconds']:.0f} s, published "
                 f"{'every page' if self.args.full_publish else 'the core pages'} in {t['publish_seconds']:.1f} s")
        self.start_web("wsgi")
        self.start("worker", [sys.executable, "-m", "signalpost", "worker"])
        site = self.data_dir / "snapshot" / "site"
        deadline = time.monotonic() + 30
        while not all((site / n).exists() for n in ("index.html", "api/v2/summary.json")):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not write the snapshot to {site}")
            time.sleep(0.1)
        self.start_nginx()
        self.check_same_bytes()

    def check_same_bytes(self) -> None:
        sizes = {}
        for path in READ_PATHS:
            bodies = [urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
                      for port in (self.sp_port, self.nginx_port)]
            if bodies[0] != bodies[1]:
                raise RuntimeError(f"Signalpost and nginx serve different bytes for {path}")
            sizes[path] = len(bodies[0])
        self.results["sizes"] = sizes
        self.log("same bytes from both servers: " + ", ".join(f"{p} {s / 1024:.1f} KiB" for p, s in sizes.items()))

    # wrk -------------------------------------------------------------------------------------------

    def wrk(self, server: str, path: str, duration: float) -> dict:
        port = self.nginx_port if server == "nginx" else self.sp_port
        argv = ["wrk", "-t", str(self.args.threads), "-c", str(self.args.connections),
                "-d", f"{duration:g}s", "--latency", "--timeout", "5s"]
        if self.args.gzip:
            argv += ["-H", "Accept-Encoding: gzip"]
        group = self.processes["nginx" if server == "nginx" else "web"].pid
        cpu_before = group_cpu_seconds(group)
        out = subprocess.run(argv + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                             timeout=duration + 30, check=False).stdout
        figures = parse_wrk(out)
        # CPU time per request barely depends on what else runs on the machine; requests/s does.
        figures["cpu_us"] = (group_cpu_seconds(group) - cpu_before) / max(figures["requests"], 1) * 1e6
        figures["load"] = os.getloadavg()[0]  # other work skews a run: keep the load next to its figures
        return figures

    def round_of_reads(self, number: int) -> None:
        for path in READ_PATHS:
            for server in ("nginx", "signalpost"):
                figures = self.wrk(server, path, self.args.duration)
                self.results["runs"].append({"round": number, "path": path, "server": server, **figures})
                self.log(f"round {number} {server:10} {path:22} {fmt_run(figures)}")

    def fallthrough(self) -> None:
        for interface in ("wsgi", "asgi"):
            if interface == "asgi":
                self.start_web("asgi")
            for path, (_, expected) in FALLTHROUGH.items():
                status, _ = request(self.sp_port, "GET", path, {})
                if status != expected:
                    raise RuntimeError(f"{path} answered {status}, not {expected}")
                self.wrk("signalpost", path, 1)  # warm-up: imports, templates
                figures = self.wrk("signalpost", path, self.args.fallthrough_duration)
                if expected != 200:
                    figures["non2xx"] = 0  # that answer is what is measured
                self.results["fallthrough"].setdefault(path, {})[interface] = figures
                self.log(f"fall-through {interface} {path:16} {fmt_run(figures)}")

    # update latency --------------------------------------------------------------------------------

    def update_latency(self) -> None:
        token = self.signalpost("token", "create", "--scope", "write", "--name", "bench").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, body = request(self.sp_port, "POST", "/api/v1/incidents", headers,
                               {"name": "Benchmark incident", "impact": "minor", "body": "Measuring update latency."})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/incidents answered {status}: {body[:500]!r}")
        incident_id = json.loads(body)["id"]
        run_id = uuid.uuid4().hex[:8]
        visible, posted, failures = [], [], 0
        reader = http.client.HTTPConnection("127.0.0.1", self.sp_port, timeout=5)
        web_log = self.tmp / "web.log"
        log_offset = web_log.stat().st_size
        began = time.perf_counter()
        for n in range(self.args.updates):
            if time.perf_counter() - began > self.args.updates_max_seconds:
                break  # bounded: a slow publisher must not stretch the run
            marker = f"marker{run_id}n{n:04d}"
            post_result: dict = {}
            update = {"status": ["identified", "monitoring"][n % 2], "body": f"Update {n}: {marker}."}
            sent = time.perf_counter()
            # Posted from a thread so that polling starts with the POST, not after its answer.
            poster = threading.Thread(target=self._post_update, args=(incident_id, headers, update, post_result))
            poster.start()
            seen = None
            while time.perf_counter() - sent < 10:
                reader.request("GET", "/api/v2/summary.json")
                summary = json.loads(reader.getresponse().read())
                latest = [i["incident_updates"][0]["body"] for i in summary.get("incidents", []) if i["id"] == incident_id]
                if latest and marker in latest[0]:
                    seen = time.perf_counter() - sent
                    break
                time.sleep(0.01)
            poster.join(15)
            if post_result.get("status") != 201:
                raise RuntimeError(f"posting an update answered {post_result.get('status')}: {post_result.get('body', b'')[:500]!r}")
            posted.append(post_result["seconds"])
            if seen is None:
                failures += 1
            else:
                visible.append(seen)
        reader.close()
        # The POST republishes inside the request; the web process logs how long each publication took.
        with open(web_log, "rb") as log:
            log.seek(log_offset)
            published = [(int(rendered), int(ms)) for rendered, ms in re.findall(
                rb"published version \d+: \d+ of (\d+) pages changed in (\d+) ms", log.read())]
        self.results["updates"] = {
            "publish_ms": percentiles([ms for _, ms in published]),
            "pages_per_publish": statistics.median([pages for pages, _ in published]) if published else 0,
            "count": len(posted), "asked": self.args.updates, "not_visible_in_10s": failures,
            "visible_ms": {k: v * 1000 for k, v in percentiles(visible).items()},
            "post_ms": {k: v * 1000 for k, v in percentiles(posted).items()},
        }
        u = self.results["updates"]
        self.log(f"{u['count']} updates: visible p50 {u['visible_ms']['p50']:.0f} ms, p99 {u['visible_ms']['p99']:.0f} ms, "
                 f"max {u['visible_ms']['max']:.0f} ms; POST alone p50 {u['post_ms']['p50']:.0f} ms, its publication "
                 f"p50 {u['publish_ms']['p50']:.0f} ms ({u['pages_per_publish']:.0f} pages)")

    def _post_update(self, incident_id: str, headers: dict, update: dict, result: dict) -> None:
        began = time.perf_counter()
        result["status"], result["body"] = request(self.sp_port, "POST", f"/api/v1/incidents/{incident_id}/updates",
                                                   headers, update)
        result["seconds"] = time.perf_counter() - began

    # the run ---------------------------------------------------------------------------------------

    def run(self) -> None:
        self.results["machine"] = machine_facts()
        self.results["load_before"] = os.getloadavg()[0]
        self.results["date"] = date.today().isoformat()
        self.results["settings"] = {k: getattr(self.args, k) for k in
                                    ("duration", "fallthrough_duration", "connections", "threads", "incidents", "updates",
                                     "updates_max_seconds", "gzip", "full_publish")}
        self.setup()
        for server in ("nginx", "signalpost"):  # warm-up, not counted
            for path in READ_PATHS:
                self.wrk(server, path, 1)
        round_seconds = 2 * len(READ_PATHS) * (self.args.duration + 0.5)
        rounds = self.args.rounds
        number = 0
        while True:
            number += 1
            self.round_of_reads(number)
            # What is left afterwards: the update test, then the fall-through runs and a restart.
            reserve = (2 * len(FALLTHROUGH) * (self.args.fallthrough_duration + 1.5) + 8
                       + min(self.args.updates_max_seconds, self.args.updates * 1.0))
            if rounds is not None and number >= rounds:
                break
            if rounds is None and (number >= 2 or self.elapsed() + round_seconds + reserve > BUDGET_SECONDS):
                break
        self.results["rounds"] = number
        self.update_latency()
        self.fallthrough()
        self.results["total_seconds"] = self.elapsed()


# --- figures ---------------------------------------------------------------------------------------

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
        "p50_ms": to_ms(latency["50"]), "p99_ms": to_ms(latency["99"]),
        "errors": sum(map(int, errors.groups())) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def fmt_run(f: dict) -> str:
    trouble = f", {f['errors']} socket errors" if f["errors"] else ""
    trouble += f", {f['non2xx']} non-2xx" if f["non2xx"] else ""
    load = f"  (load {f['load']:.1f})" if "load" in f else ""
    return (f"{f['rps']:9,.0f} req/s  p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms  "
            f"{f['cpu_us']:5.0f} µs CPU/request{trouble}{load}")


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
            "max": ordered[-1]}


def request(port: int, method: str, path: str, headers: dict, payload: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=json.dumps(payload) if payload is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


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
    }


def summarize(results: dict) -> dict:
    """Per URL: mean requests/s of each server over the rounds, worst p99, median p50, the ratio."""
    table = {}
    for path in READ_PATHS:
        row = {}
        for server in ("nginx", "signalpost"):
            runs = [r for r in results["runs"] if r["path"] == path and r["server"] == server]
            row[server] = {
                "rps_runs": [r["rps"] for r in runs], "rps": statistics.mean(r["rps"] for r in runs),
                "p50_ms": statistics.median(r["p50_ms"] for r in runs), "p99_ms": max(r["p99_ms"] for r in runs),
                "errors": sum(r["errors"] + r["non2xx"] for r in runs),
                "cpu_us": statistics.mean(r["cpu_us"] for r in runs),
            }
        row["ratio"] = row["signalpost"]["rps"] / row["nginx"]["rps"]
        row["cpu_ratio"] = row["nginx"]["cpu_us"] / row["signalpost"]["cpu_us"]
        row["ratio_runs"] = [s / n for s, n in zip(row["signalpost"]["rps_runs"], row["nginx"]["rps_runs"])]
        table[path] = row
    return table


def load_note(results: dict) -> str:
    loads = [r["load"] for r in results["runs"]]
    note = (f"load average (1 min) {results['load_before']:.1f} before the run, {min(loads):.1f}–{max(loads):.1f} "
            "during the read runs (wrk and the server under test count too)")
    if results["load_before"] > results["machine"]["nproc"] / 2:
        note += (f"; other work was competing for the {results['machine']['nproc']} cores, so every figure, "
                 "nginx's included, is lower than on a quiet machine")
    return note


def aims(results: dict, table: dict) -> list[tuple[str, str, bool]]:
    worst_ratio = min(row["ratio"] for row in table.values())
    worst_p99 = max(row["signalpost"]["p99_ms"] for row in table.values())
    visible = results["updates"]["visible_ms"]
    return [
        (f"Signalpost ≥ {AIM_RATIO} × nginx requests/s", f"{worst_ratio:.3f} × (the lower of the URLs)", worst_ratio >= AIM_RATIO),
        (f"p99 latency < {AIM_P99_MS:.0f} ms at {results['settings']['connections']} connections",
         f"{worst_p99:.1f} ms (worst run)", worst_p99 < AIM_P99_MS),
        (f"an update is visible in summary.json < {AIM_VISIBLE_MS / 1000:.0f} s",
         f"p99 {visible['p99']:.0f} ms, max {visible['max']:.0f} ms"
         + (f", {results['updates']['not_visible_in_10s']} never seen" if results["updates"]["not_visible_in_10s"] else ""),
         visible["max"] < AIM_VISIBLE_MS and not results["updates"]["not_visible_in_10s"]),
    ]


def figures(results: dict) -> str:
    """This run's figures as Markdown: printed at the end of every run, and the heart of docs/benchmarks.md."""
    table, m, st, u, ft = summarize(results), results["machine"], results["settings"], results["updates"], results["fallthrough"]
    rows = []
    for path, row in table.items():
        for server in ("nginx", "signalpost"):
            s = row[server]
            name = "nginx (sendfile, same files)" if server == "nginx" else "Signalpost (`signalpost web`)"
            rows.append(f"| `{path}` | {name} | {s['rps']:,.0f} | {' / '.join(f'{r:,.0f}' for r in s['rps_runs'])} "
                        f"| {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_us']:.0f} |"
                        + (f" {s['errors']} errors" if s["errors"] else ""))
        rows.append(f"| | **ratio Signalpost / nginx** | **{row['ratio']:.2f}** | "
                    f"{' / '.join(f'{r:.2f}' for r in row['ratio_runs'])} | | | **{row['cpu_ratio']:.2f}** |")
    ft_rows, verdicts = [], []
    for path, by in ft.items():
        for interface, label in (("wsgi", "WSGI app in a thread pool (a2wsgi, the default)"),
                                 ("asgi", "Django's ASGI handler (`SIGNALPOST_DJANGO_INTERFACE=asgi`)")):
            f = by[interface]
            ft_rows.append(f"| `{path}` | {label} | {f['rps']:,.0f} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} "
                           f"| {f['cpu_us'] / 1000:.2f} |")
        faster, slower = sorted(by, key=lambda k: by[k]["rps"], reverse=True)
        verdicts.append(f"- `{path}`, {FALLTHROUGH[path][0]}: Django {faster.upper()} served "
                        + (f"{by[faster]['rps'] / by[slower]['rps']:.1f} × as many requests/s as Django {slower.upper()}."
                           if by[slower]["rps"] else f"requests; Django {slower.upper()} completed none within 5 s."))
    default_wins = all(by["wsgi"]["rps"] >= by["asgi"]["rps"] for by in ft.values())
    setup = results["setup"]
    published = "every page (incident pages included)" if st["full_publish"] else "the core pages"
    return f"""## Machine
{m['nproc']} cores ({m['cpu']}), {m['memory']}, Linux {m['kernel']}; Python {m['python']}, Granian {m['granian']},
Django {m['django']}, a2wsgi {m['a2wsgi']}, nginx {m['nginx']}, wrk {m['wrk']}, PostgreSQL {m['postgresql']}.
wrk, nginx, Granian and PostgreSQL share these cores;
{load_note(results)}.
Loading the data through the services took {setup['load_seconds']:.0f} s; publishing {published} {setup['publish_seconds']:.1f} s.

## Reads: Signalpost against nginx ({results['date']}, {st['connections']} connections{", gzip" if st['gzip'] else ""})
| URL | server | requests/s (mean) | runs | p50 ms | p99 ms (worst run) | server CPU µs per request |
|---|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

## Aims
| aim | measured | |
|---|---|---|
{chr(10).join(f"| {aim} | {measured} | {'met' if met else '**missed**'} |" for aim, measured, met in aims(results, table))}

## Fall-through to Django ({st['connections']} connections, {st['fallthrough_duration']:g} s each)
| URL | Django behind the front | requests/s | p50 ms | p99 ms | server CPU ms per request |
|---|---|---:|---:|---:|---:|
{chr(10).join(ft_rows)}

{chr(10).join(verdicts)}

{"The default, Django's WSGI app in a thread pool, is the faster one." if default_wins else
 "Django's ASGI handler was faster for at least one URL in this run: look again before keeping the default."}

## Update latency ({u['count']} updates through `/api/v1`{"" if u['count'] == u['asked'] else f"; {u['asked']} asked, the test stops after {st['updates_max_seconds']:g} s"})
| | p50 | p99 | max |
|---|---:|---:|---:|
| POST sent → visible in `/api/v2/summary.json` | {u['visible_ms']['p50']:.0f} ms | {u['visible_ms']['p99']:.0f} ms | {u['visible_ms']['max']:.0f} ms |
| the POST alone (it commits and republishes) | {u['post_ms']['p50']:.0f} ms | {u['post_ms']['p99']:.0f} ms | {u['post_ms']['max']:.0f} ms |
| within it, the publication ({u['pages_per_publish']:.0f} pages rendered) | {u['publish_ms']['p50']:.0f} ms | {u['publish_ms']['p99']:.0f} ms | {u['publish_ms']['max']:.0f} ms |
"""


def markdown(results: dict) -> str:
    st = results["settings"]
    rounds = (f"Each measurement ran {results['rounds']} times, alternating nginx and Signalpost, because the load "
              "generator shares the machine's cores." if results["rounds"] > 1 else
              "Each measurement ran once, nginx then Signalpost (a second alternation did not fit the time budget; "
              "`--rounds 2` forces it).")
    encoding = "with `Accept-Encoding: gzip` (the `.gz` twins)" if st["gzip"] else "without `Accept-Encoding` (identity bodies)"
    sizes = ", ".join(f"`{p}` {s / 1024:.1f} KiB" for p, s in results["sizes"].items())
    return f"""# Benchmarks: the public read path

Generated by `bench/public_read.py --write-docs` on {results['date']}. Figures drift 10–30% between runs on a
shared machine; read the ratios, measured side by side in the same run.

## What is measured
- **Reads.** A fresh PostgreSQL database holds a page with 50 components in 8 groups, {st['incidents']:,} past
  incidents over two years (2–4 updates each), 3 open incidents and 3 maintenance windows. `signalpost web`
  (Granian, one worker, the snapshot front) and `signalpost worker` run as in production. wrk
  ({st['threads']} threads, {st['connections']} connections, {st['duration']:g} s per run, `--latency`) requests `/` and
  `/api/v2/summary.json` from Signalpost and from nginx serving the very same bytes from the snapshot
  directory on disk ({sizes}; the script checks that both answers are identical),
  {encoding}. nginx: one worker process, `sendfile on`, `access_log off`,
  `try_files $uri $uri.html $uri/index.html =404`.
  {rounds}
- **Server CPU per request**: the CPU time of the server's processes during a run divided by the requests it
  served. Unlike requests/s it hardly depends on what else the machine is doing, so its ratio (nginx's CPU per
  request over Signalpost's) is the throughput ratio to expect when each server has a core to itself.
- **Fall-through to Django.** {" and ".join(f"`{p}`" for p in FALLTHROUGH)}, which the front hands to Django,
  with Django as a WSGI app in a thread pool behind the front (a2wsgi, the default) and with Django's own ASGI
  handler (`SIGNALPOST_DJANGO_INTERFACE=asgi`).
- **Update latency.** Updates posted through the management API (`POST /api/v1/incidents/{{id}}/updates`, bearer
  token); after each, `/api/v2/summary.json` is polled every 10 ms until the incident's latest update carries
  the update's marker: the time from sending the POST until readers see it. The publication time comes from
  the web process's log.

## How to run
```
make bench                                            # installs wrk and nginx-light with apt-get when missing
.venv/bin/python bench/public_read.py                 # about 3 minutes; --duration 3 for a quick look
.venv/bin/python bench/public_read.py --write-docs    # also rewrites this file
```
It needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and creates and drops its own database
`signalpost_bench_<pid>`. Options: `--duration`, `--rounds`, `--connections`, `--gzip`, `--incidents`,
`--updates`, `--updates-max-seconds`, `--full-publish` (publish every incident page after loading, and time it).

{figures(results)}
## Serving the snapshot with nginx or a CDN
Every web process writes the published snapshot to `$SIGNALPOST_DATA_DIR/snapshot/site/`: `index.html`,
`history.html`, `history/<yyyy-mm>.html`, `incidents/<id>.html`, `maintenance/<id>.html`, `api/v2/*.json`,
each with a `.gz` twin. An
nginx on the same machine as a web process can serve it, handing everything else to Signalpost:
```
root /var/lib/signalpost/snapshot/site;
gzip_static on;
location / {{ try_files $uri $uri.html $uri/index.html @signalpost; }}
location ~ \\.json$ {{ default_type application/json; try_files $uri @signalpost; }}
location @signalpost {{ proxy_pass http://127.0.0.1:8000; proxy_set_header Host $host; }}
```
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run on a public URL (default 10)")
    parser.add_argument("--fallthrough-duration", type=float, default=5, help="seconds per fall-through run (default 5)")
    parser.add_argument("--rounds", type=int, default=None, help="alternation rounds (default: 2 if time allows)")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--incidents", type=int, default=2000, help="past incidents to load (default 2000)")
    parser.add_argument("--updates", type=int, default=100, help="updates for the latency test (default 100)")
    parser.add_argument("--gzip", action="store_true", help="request with Accept-Encoding: gzip")
    parser.add_argument("--full-publish", action="store_true",
                        help="publish every page after loading, incident pages included (slow), and time it")
    parser.add_argument("--updates-max-seconds", type=float, default=45, help="stop the update test after this long (default 45)")
    parser.add_argument("--write-docs", action="store_true", help="write the figures to docs/benchmarks.md")
    parser.add_argument("--load-data", type=int, help=argparse.SUPPRESS)  # internal: the data-loading subprocess
    args = parser.parse_args()
    if args.load_data is not None:
        print(json.dumps(load_data(args.load_data, args.full_publish)))
        return 0
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y wrk nginx-light (or `make bench`)", file=sys.stderr)
            return 1
    bench = Bench(args)

    def interrupted(*_) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted)  # a kill cleans up like Ctrl-C
    try:
        bench.run()
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        bench.cleanup()
        signal.signal(signal.SIGTERM, previous)
    print("\n" + figures(bench.results))
    print(f"total {bench.results['total_seconds']:.0f} s")
    if args.write_docs:
        target = REPO / "docs" / "benchmarks.md"
        target.parent.mkdir(exist_ok=True)
        target.write_text(markdown(bench.results))
        print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
