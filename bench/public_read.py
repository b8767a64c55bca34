"""The public read-path benchmark: Signalpost as run in production against nginx serving the same bytes.

Starts a fresh PostgreSQL database and data directory, loads a page with 2,000 past incidents, publishes
every page (`signalpost publish`), runs `signalpost web` and `signalpost worker`, then drives both
Signalpost and nginx with wrk in alternation and prints requests/s, latency and the ratio
Signalpost/nginx. It also measures a URL that falls through to Django (WSGI thread pool and Django's
ASGI handler) and how long an update posted through the management API takes to become visible in
/api/v2/summary.json (the POST commits; the worker's publisher renders the pages).

    .venv/bin/python bench/public_read.py [--duration 10] [--write-docs]

Everything runs on loopback; every process and the database are removed at the end, even on Ctrl-C.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

# bench/ is not a package: its modules are found through sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_data
from harness import (
    REPO,
    Harness,
    UpdateWatcher,
    free_port,
    group_cpu_seconds,
    last_event_id,
    load_average,
    machine_facts,
    parse_wrk,
    publications,
    publisher_times,
    request,
    run_cleanly,
    update_figures,
    write_doc_section,
    wrk_argv,
)

READ_PATHS = ["/", "/api/v2/summary.json"]
# URLs the front hands to Django; neither touches the database.
FALLTHROUGH = {  # path: (what it is, the status it answers)
    "/console/login": ("the console's login page (a template, a new CSRF token, every middleware)", 200),
    "/api/v1/status": ("the management API refusing a request without a token (the request cycle alone)", 401),
}
BUDGET_SECONDS = 200  # the whole run at defaults stays under ~3.5 minutes
AIM_RATIO, AIM_P99_MS, AIM_VISIBLE_MS = 0.5, 50.0, 1000.0


# --- processes --------------------------------------------------------------------------------------


class Bench(Harness):
    def __init__(self, args: argparse.Namespace):
        super().__init__()
        self.args = args
        self.nginx_port = free_port()
        self.results: dict = {"runs": [], "fallthrough": {}, "updates": {}}

    def start_web(self, interface: str) -> None:
        self.stop("web")
        self.start("web", [sys.executable, "-m", "signalpost", "web", "--port", str(self.sp_port)],
                   env={"SIGNALPOST_DJANGO_INTERFACE": interface})
        self.wait_for(self.sp_port, "/api/v2/status.json", "web")

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

    # setup -----------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.create_database()
        self.log(f"database {self.database} created; migrating")
        self.signalpost("migrate")
        self.log(f"loading 50 components and {self.args.incidents:,} past incidents")
        result = subprocess.run([sys.executable, __file__, "--load-data", str(self.args.incidents)], env=self.env,
                                capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"loading data failed:\n{result.stderr[-3000:]}")
        self.results["setup"] = json.loads(result.stdout.strip().splitlines()[-1])
        # The publisher renders every page (migrate recorded that they must be): `signalpost publish` works
        # on it in-process until done, as an operator would after a bulk import.
        began = time.monotonic()
        self.signalpost("publish", env={"LOG_LEVEL": "INFO"}, timeout=1800)
        self.results["setup"]["publish_seconds"] = time.monotonic() - began
        self.results["setup"]["pages"] = self.sql("SELECT count(*) FROM public_snapshotfile")[0][0]
        t = self.results["setup"]
        self.log(f"loaded in {t['load_seconds']:.1f} s; `signalpost publish` rendered every page "
                 f"({t['pages']:,} files) in {t['publish_seconds']:.1f} s")
        self.start_web("wsgi")
        self.start("worker", [sys.executable, "-m", "signalpost", "worker"], env={"LOG_LEVEL": "INFO"})
        site = self.data_dir / "snapshot" / "site"
        deadline = time.monotonic() + 60
        while not all((site / n).exists() for n in ("index.html", "api/v2/summary.json")):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not write the snapshot to {site}")
            time.sleep(0.1)
        self.wait_published(60)
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
        argv = wrk_argv(port, path, duration, self.args.connections, self.args.threads,
                        ["Accept-Encoding: gzip"] if self.args.gzip else [])
        group = self.processes["nginx" if server == "nginx" else "web"].pid
        cpu_before = group_cpu_seconds(group)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False).stdout
        figures = parse_wrk(out)
        # CPU time per request barely depends on what else runs on the machine; requests/s does.
        figures["cpu_us"] = (group_cpu_seconds(group) - cpu_before) / max(figures["requests"], 1) * 1e6
        figures["load"] = load_average()  # other work skews a run: keep the load next to its figures
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
        watcher = UpdateWatcher(self.sp_port, token)
        incident_id = watcher.open_incident("Benchmark incident")
        self.wait_published(30, since=time.monotonic())
        events_before, log_offset = last_event_id(self), self.log_size("worker")
        posted = []
        began = time.perf_counter()
        for _ in range(self.args.updates):
            if time.perf_counter() - began > self.args.updates_max_seconds:
                break  # bounded: a slow publisher must not stretch the run
            posted.append(watcher.post(incident_id))
        watcher.close()
        self.wait_published(30, since=time.monotonic())
        u = self.results["updates"] = update_figures(posted, publisher_times(self, events_before),
                                                     publications(self.log_text("worker", log_offset)))
        u["asked"] = self.args.updates
        self.log(f"{u['count']} updates: visible p50 {u['visible_ms']['p50']:.0f} ms, p99 {u['visible_ms']['p99']:.0f} ms, "
                 f"max {u['visible_ms']['max']:.0f} ms; the POST p50 {u['post_ms']['p50']:.0f} ms, "
                 f"p99 {u['post_ms']['p99']:.0f} ms; the publisher p50 {u['publisher_ms']['p50']:.0f} ms "
                 f"({u['pages_changed']:.0f} pages changed)")

    # the run ---------------------------------------------------------------------------------------

    def run(self) -> None:
        self.results["machine"] = machine_facts()
        self.results["load_before"] = load_average()
        self.results["date"] = date.today().isoformat()
        self.results["settings"] = {k: getattr(self.args, k) for k in
                                    ("duration", "fallthrough_duration", "connections", "threads", "incidents", "updates",
                                     "updates_max_seconds", "gzip")}
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

def fmt_run(f: dict) -> str:
    trouble = f", {f['errors']} socket errors" if f["errors"] else ""
    trouble += f", {f['non2xx']} non-2xx" if f["non2xx"] else ""
    load = f"  (load {f['load']:.1f})" if "load" in f else ""
    return (f"{f['rps']:9,.0f} req/s  p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms  "
            f"{f['cpu_us']:5.0f} µs CPU/request{trouble}{load}")


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
         + (f", {results['updates']['not_visible']} not seen within 10 s" if results["updates"]["not_visible"] else ""),
         visible["max"] < AIM_VISIBLE_MS and not results["updates"]["not_visible"]),
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
    return f"""### Machine
{m['nproc']} cores ({m['cpu']}), {m['memory']}, Linux {m['kernel']}; Python {m['python']}, Granian {m['granian']},
Django {m['django']}, a2wsgi {m['a2wsgi']}, nginx {m['nginx']}, wrk {m['wrk']}, PostgreSQL {m['postgresql']};
Signalpost at {m['commit']}.
wrk, nginx, Granian and PostgreSQL share these cores;
{load_note(results)}.
Loading the data took {setup['load_seconds']:.1f} s (past incidents in bulk, see `bench/dataset.py`);
`signalpost publish` then rendered every page ({setup['pages']:,} files) in {setup['publish_seconds']:.0f} s.

### Reads: Signalpost against nginx ({results['date']}, {st['connections']} connections{", gzip" if st['gzip'] else ""})
| URL | server | requests/s (mean) | runs | p50 ms | p99 ms (worst run) | server CPU µs per request |
|---|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

### Aims
| aim | measured | |
|---|---|---|
{chr(10).join(f"| {aim} | {measured} | {'met' if met else '**missed**'} |" for aim, measured, met in aims(results, table))}

### Fall-through to Django ({st['connections']} connections, {st['fallthrough_duration']:g} s each)
| URL | Django behind the front | requests/s | p50 ms | p99 ms | server CPU ms per request |
|---|---|---:|---:|---:|---:|
{chr(10).join(ft_rows)}

{chr(10).join(verdicts)}

{"The default, Django's WSGI app in a thread pool, is the faster one." if default_wins else
 "Django's ASGI handler was faster for at least one URL in this run: look again before keeping the default."}

### Update latency ({u['count']} updates through `/api/v1`{"" if u['count'] == u['asked'] else f"; {u['asked']} asked, the test stops after {st['updates_max_seconds']:g} s"})
| | p50 | p99 | max |
|---|---:|---:|---:|
| POST sent → visible in `/api/v2/summary.json` | {u['visible_ms']['p50']:.0f} ms | {u['visible_ms']['p99']:.0f} ms | {u['visible_ms']['max']:.0f} ms |
| the POST alone (it only commits) | {u['post_ms']['p50']:.0f} ms | {u['post_ms']['p99']:.0f} ms | {u['post_ms']['max']:.0f} ms |
| the publisher: event recorded → its pages stored ({u['pages_changed']:.0f} pages changed per publication) | {u['publisher_ms']['p50']:.0f} ms | {u['publisher_ms']['p99']:.0f} ms | {u['publisher_ms']['max']:.0f} ms |
| pages stored → the reader's next poll sees them (the web process loads the version) | {u['front_ms']['p50']:.0f} ms | {u['front_ms']['p99']:.0f} ms | {u['front_ms']['max']:.0f} ms |
"""


def markdown(results: dict) -> str:
    st = results["settings"]
    rounds = (f"Each measurement ran {results['rounds']} times, alternating nginx and Signalpost, because the load "
              "generator shares the machine's cores." if results["rounds"] > 1 else
              "Each measurement ran once, nginx then Signalpost (a second alternation did not fit the time budget; "
              "`--rounds 2` forces it).")
    encoding = "with `Accept-Encoding: gzip` (the `.gz` twins)" if st["gzip"] else "without `Accept-Encoding` (identity bodies)"
    sizes = ", ".join(f"`{p}` {s / 1024:.1f} KiB" for p, s in results["sizes"].items())
    return f"""## The public read path (`bench/public_read.py`, {results['date']})

### What is measured
- **Reads.** A fresh PostgreSQL database holds a page with 50 components in 8 groups, {st['incidents']:,} past
  incidents over two years (2–4 updates each), 3 open incidents and 3 maintenance windows; every page is
  published by `signalpost publish` before the measurements. `signalpost web`
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
  token, `Idempotency-Key`); the POST only commits (the update, its event and the publisher's handling row), and
  the worker's publisher renders the pages the event changes. While the POST is in flight,
  `/api/v2/summary.json` is polled every 10 ms until the incident's latest update carries the update's marker:
  the time from sending the POST until readers see it. The publisher's part is read from the database (the
  event's `recorded_at`, its handling's `done_at`), the pages per publication from the worker's log.

### How to run
```
make bench                                            # installs wrk and nginx-light with apt-get when missing
.venv/bin/python bench/public_read.py                 # about 4 minutes; --duration 3 for a quick look
.venv/bin/python bench/public_read.py --write-docs    # also rewrites this section
```
It needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and creates and drops its own database
`signalpost_bench_<pid>`. Options: `--duration`, `--rounds`, `--connections`, `--gzip`, `--incidents`,
`--updates`, `--updates-max-seconds`.

{figures(results)}
### Serving the snapshot with nginx or a CDN
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
    parser.add_argument("--updates-max-seconds", type=float, default=45, help="stop the update test after this long (default 45)")
    parser.add_argument("--write-docs", action="store_true", help="write the figures to docs/benchmarks.md")
    parser.add_argument("--load-data", type=int, help=argparse.SUPPRESS)  # internal: the data-loading subprocess
    args = parser.parse_args()
    if args.load_data is not None:
        print(json.dumps(load_data(args.load_data)))
        return 0
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y wrk nginx-light (or `make bench`)", file=sys.stderr)
            return 1
    bench = Bench(args)
    if code := run_cleanly(bench, bench.run):
        return code
    print("\n" + figures(bench.results))
    print(f"total {bench.results['total_seconds']:.0f} s")
    if args.write_docs:
        print(f"wrote {write_doc_section('public_read', markdown(bench.results)).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
