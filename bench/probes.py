"""The probe engine: 1,000, 10,000 and 50,000 HTTP monitors at a 60 s interval against a local nginx.

For each size a fresh database (SQLite in a directory of its own by default; `--database URL` for a
PostgreSQL server, on which a database of its own is made and dropped) gets the monitors in bulk, each
at one of `--hosts` loopback addresses nginx listens on (a host per address, as if the monitors watched
as many services). `signalpost probe` then runs them as in production, every check on a new connection,
for `--duration` seconds after a warm-up (one interval, then until every monitor's first verdict is
written). It prints the checks per second achieved against those scheduled, the schedule lag (when each
check started against its slot) p50/p99/max, the probe process's CPU seconds per check and its peak
memory (RSS); and, as the ceiling, the same requests from a bare aiohttp loop (a new connection each,
the engine's concurrency limits, nothing recorded), at the probe's pace and flat out, with the ratio of
the CPU a check costs.

    .venv/bin/python bench/probes.py                                  # 1,000, 10,000, 50,000; 120 s each
    .venv/bin/python bench/probes.py --sizes 1000,10000 --duration 60   # a quicker look
    .venv/bin/python bench/probes.py --database postgres://postgres@127.0.0.1:5432
    .venv/bin/python bench/probes.py --write-docs                     # also rewrites its section of docs/benchmarks.md

Needs nginx (`make bench` installs it). Talks to loopback only, and removes its processes, databases and
directory when it ends, also on Ctrl-C.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (REPO, Harness, free_port, group_cpu_seconds, load_average, machine_facts,  # noqa: E402
                           percentiles, run_cleanly, write_doc_section)

AIM_LAG_P99_S = 2.0
AIM_CPU_RATIO = 1.5
AIM_PEAK_MIB = 300


def host_address(n: int) -> str:
    """The n-th loopback address nginx listens on (127.0.1.1, 127.0.1.2, ...)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def target(n: int, hosts: int, port: int) -> str:
    return f"http://{host_address(n % hosts)}:{port}/health/{n}"


# --- the parts that run in a process of their own (Django set up on the size's database) ------------------


def load(count: int, hosts: int, port: int, interval: int) -> dict:
    """The monitors, in bulk: no components, the defaults of a monitor apply file otherwise."""
    import django

    django.setup()
    from signalpost.monitors.models import Monitor

    began = time.monotonic()
    Monitor.objects.bulk_create((Monitor(name=f"Service {n}", target=target(n, hosts, port), interval_seconds=interval,
                                         timeout_seconds=10.0) for n in range(count)), batch_size=2000)
    return {"load_seconds": time.monotonic() - began}


def measure(begin: float, end: float) -> dict:
    """What the probe wrote for checks started within [begin, end) (epoch seconds): how many against how
    many slots fell in the window, each check's lag behind its slot, the verdicts and the reasons."""
    import math
    from collections import Counter
    from datetime import datetime, timezone

    import django

    django.setup()
    from signalpost.monitors.engine import offset
    from signalpost.monitors.models import CheckResult, Monitor

    slots, scheduled = {}, 0
    for pk, public_id, interval in Monitor.objects.values_list("pk", "public_id", "interval_seconds"):
        slot = offset(public_id, interval)
        slots[pk] = (slot, interval)
        scheduled += math.ceil((end - slot) / interval) - math.ceil((begin - slot) / interval)
    lags, verdicts, reasons = [], Counter(), Counter()
    rows = CheckResult.objects.filter(at__gte=datetime.fromtimestamp(begin, timezone.utc),
                                      at__lt=datetime.fromtimestamp(end, timezone.utc)).values_list(
        "monitor_id", "at", "verdict", "reason").iterator(chunk_size=5000)
    for monitor_id, at, verdict, reason in rows:
        slot, interval = slots[monitor_id]
        lags.append((at.timestamp() - slot) % interval)  # a check never starts before its slot
        verdicts[verdict] += 1
        if verdict != "up":
            reasons[reason] += 1
    return {"scheduled": scheduled, "results": len(lags), "lag_s": percentiles(lags), "verdicts": dict(verdicts),
            "reasons": reasons.most_common(3)}


def bare(urls_file: str, rate: float, seconds: float) -> dict:
    """The ceiling: GETs to the URLs with a plain aiohttp session (a new connection each, the engine's limits
    on connections overall and per host), the body read, nothing recorded. First paced as the probe's
    checks are (`rate` a second for `seconds`, started every 5 ms at the soonest, as the engine wakes),
    for the CPU a check costs at that pace; then every URL as fast as the limits allow, for the most checks
    a second the machine gives."""
    import asyncio
    import resource

    import aiohttp
    import django

    django.setup()
    from signalpost.monitors.engine import CONCURRENCY as concurrency
    from signalpost.monitors.engine import PER_HOST as per_host

    urls = Path(urls_file).read_text().split()

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def main() -> dict:
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=per_host, force_close=True)
        failed = 0
        async with aiohttp.ClientSession(connector=connector) as session:
            gate = asyncio.Semaphore(concurrency)

            async def one(url: str) -> None:
                nonlocal failed
                async with gate:
                    try:
                        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                            await response.read()
                            failed += response.status != 200
                    except (aiohttp.ClientError, TimeoutError):
                        failed += 1

            loop = asyncio.get_running_loop()
            count = max(1, round(rate * seconds))
            tasks: set[asyncio.Task] = set()
            before, began, started = cpu(), loop.time(), 0
            while started < count:
                now = loop.time()
                while started < count and began + started / rate <= now:
                    task = asyncio.create_task(one(urls[started % len(urls)]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    started += 1
                if started < count:
                    await asyncio.sleep(max(0.005, began + started / rate - loop.time()))
            await asyncio.gather(*tasks)
            paced = {"checks": count, "per_second": count / (loop.time() - began), "cpu_seconds": cpu() - before}
            before, began = cpu(), loop.time()
            await asyncio.gather(*(one(url) for url in urls))
            seconds_taken = loop.time() - began
            flat = {"checks": len(urls), "per_second": len(urls) / seconds_taken, "cpu_seconds": cpu() - before}
        return {"paced": paced, "flat": flat, "failed": failed}

    return asyncio.run(main())


# --- the run --------------------------------------------------------------------------------------------


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Probes(Harness):
    def __init__(self, args: argparse.Namespace):
        super().__init__()
        self.args = args
        self.server = args.database.rstrip("/") if args.database != "sqlite" else None
        self.nginx_port = free_port()
        self.results: dict = {"sizes": []}
        self.env["SIGNALPOST_OUTBOUND_ALLOW"] = "127.0.0.0/8"  # the monitors' targets are on loopback
        self.env["LOG_LEVEL"] = "INFO"

    # one database per size: SQLite in a directory of its own, or a PostgreSQL database on the server
    def use_database(self, size: int) -> None:
        self.drop_database()
        self.data_dir = self.tmp / f"data-{size}"
        self.env["SIGNALPOST_DATA_DIR"] = str(self.data_dir)
        if self.server is None:
            self.env.pop("DATABASE_URL", None)
        else:
            self.database = f"signalpost_bench_{os.getpid()}_{size}"
            self._admin_sql(f'CREATE DATABASE "{self.database}"')
            self.database_created = True
            self.env["DATABASE_URL"] = f"{self.server}/{self.database}"

    def _admin_sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def first_verdicts(self) -> int:
        """The monitors that have had their first state change, read straight from the database."""
        statement = "SELECT count(DISTINCT monitor_id) FROM monitors_statechange"
        if self.server is not None:
            return self.sql(statement)[0][0]
        import sqlite3

        with sqlite3.connect(f"file:{self.data_dir / 'signalpost.sqlite3'}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute(statement).fetchone()[0]

    def sql(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"{self.server}/{self.database}", autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def helper(self, *argv: str) -> dict:
        result = subprocess.run([sys.executable, __file__, *argv], env=self.env, capture_output=True, text=True,
                                timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_nginx(self) -> None:
        conf = self.tmp / "nginx.conf"
        listens = "\n".join(f"        listen {host_address(n)}:{self.nginx_port} backlog=4096;"
                            for n in range(self.args.hosts))
        conf.write_text(f"""
daemon off;
worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/nginx-error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path {self.tmp}/nginx-body;
    proxy_temp_path {self.tmp}/nginx-proxy;
    fastcgi_temp_path {self.tmp}/nginx-fastcgi;
    uwsgi_temp_path {self.tmp}/nginx-uwsgi;
    scgi_temp_path {self.tmp}/nginx-scgi;
    server {{
{listens}
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
""")
        self.start("nginx", ["nginx", "-c", str(conf), "-p", str(self.tmp)])
        import http.client

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.processes["nginx"].poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.log_text('nginx')[-3000:]}")
            try:
                conn = http.client.HTTPConnection(host_address(self.args.hosts - 1), self.nginx_port, timeout=2)
                conn.request("GET", "/health/0")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx did not answer within 15 s")

    def run(self) -> None:
        args = self.args
        self.results.update(machine=machine_facts(), date=date.today().isoformat(), duration=args.duration,
                            interval=args.interval, hosts=args.hosts, warmup=args.warmup,
                            bare_duration=args.bare_duration,
                            database="SQLite" if self.server is None else "PostgreSQL")
        self.start_nginx()
        for size in args.sizes:
            self.results["sizes"].append(self.run_size(size))
            self.log(one_line(self.results["sizes"][-1]))

    def run_size(self, size: int) -> dict:
        args = self.args
        self.use_database(size)
        row: dict = {"monitors": size, "load_before": load_average()}
        self.signalpost("migrate")
        loaded = self.helper("--load", str(size), str(args.hosts), str(self.nginx_port), str(args.interval))
        self.log(f"{size:,} monitors loaded in {loaded['load_seconds']:.1f} s; the probe runs "
                 f"{args.warmup:g} s + {args.duration:g} s")
        name = f"probe-{size}"
        probe = self.start(name, [sys.executable, "-m", "signalpost", "probe"])
        time.sleep(args.warmup)  # imports, the first reading of the monitors, every monitor's first check
        # Each monitor's first verdict is a state change (unknown → up, with its event): a burst of writes
        # in the first interval that a loaded machine may still be catching up with. The window starts
        # once every monitor has had it (at most --settle seconds more).
        waited = time.monotonic()
        while self.first_verdicts() < size and time.monotonic() - waited < args.settle:
            if probe.poll() is not None:
                raise RuntimeError(f"the probe exited:\n{self.log_text(name)[-3000:]}")
            time.sleep(2)
        row["settle_seconds"] = time.monotonic() - waited
        row["settled"] = self.first_verdicts() >= size
        if probe.poll() is not None:
            raise RuntimeError(f"the probe exited:\n{self.log_text(name)[-3000:]}")
        cpu_before, begin = group_cpu_seconds(probe.pid), time.time()
        loads = []
        while time.time() - begin < args.duration:
            time.sleep(min(5.0, max(0.0, args.duration - (time.time() - begin))))
            loads.append(load_average())
            if probe.poll() is not None:
                raise RuntimeError(f"the probe exited:\n{self.log_text(name)[-3000:]}")
        cpu, end = group_cpu_seconds(probe.pid) - cpu_before, time.time()
        row["peak_mib"] = peak_memory_mib(probe.pid)
        self.stop(name)  # SIGTERM: the checks in flight finish and every result is written
        measured = self.helper("--measure", repr(begin), repr(end))
        row.update(measured, cpu_seconds=cpu, seconds=end - begin, load_during=(min(loads), max(loads)))
        row["per_second"] = measured["results"] / row["seconds"]
        row["scheduled_per_second"] = measured["scheduled"] / row["seconds"]
        row["cpu_ms"] = cpu / max(1, measured["results"]) * 1000
        log = self.log_text(name)
        if not measured["results"]:  # nothing stored in the window: what the probe said is the only clue
            self.log(f"no results stored in the window; the probe's log ends:\n{log[-4000:]}")
        # The probe's own report (a line a minute, and one as it stops): checks skipped since it started.
        row["skipped"] = sum(int(n) for n in re.findall(r"(\d+) skipped \(still running\)", log))
        # The ceiling: the same URLs at the probe's pace for --bare-duration, then as fast as they go
        # (as many as the probe checked in the window: at least 2,000, at most --bare-max).
        count = max(2000, min(measured["results"], args.bare_max))
        urls = self.tmp / "urls.txt"
        urls.write_text("\n".join(target(n % size, args.hosts, self.nginx_port) for n in range(count)))
        row["bare"] = self.helper("--bare", str(urls), repr(size / args.interval), repr(args.bare_duration))
        for part in ("paced", "flat"):
            row["bare"][part]["cpu_ms"] = row["bare"][part]["cpu_seconds"] / row["bare"][part]["checks"] * 1000
        row["cpu_ratio"] = row["cpu_ms"] / row["bare"]["paced"]["cpu_ms"]
        row["load_after"] = load_average()
        self.drop_database()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return row


def one_line(r: dict) -> str:
    lag = r["lag_s"]
    return (f"{r['monitors']:,} monitors: {r['per_second']:,.1f} checks/s of {r['scheduled_per_second']:,.1f} scheduled; "
            f"lag p50 {lag['p50'] * 1000:,.0f} ms, p99 {lag['p99'] * 1000:,.0f} ms, max {lag['max'] * 1000:,.0f} ms; "
            f"CPU {r['cpu_ms']:.2f} ms a check ({r['cpu_seconds'] / r['seconds']:.2f} of a core), "
            f"peak {r['peak_mib']:.0f} MiB; bare aiohttp at that pace {r['bare']['paced']['cpu_ms']:.2f} ms a check "
            f"(flat out {r['bare']['flat']['per_second']:,.0f}/s, {r['bare']['flat']['cpu_ms']:.2f} ms): "
            f"{r['cpu_ratio']:.2f}× its CPU; load {r['load_during'][0]:.1f}–{r['load_during'][1]:.1f}")


def figures(results: dict) -> str:
    lines = [f"HTTP monitors every {results['interval']} s against nginx on {results['hosts']} loopback addresses, "
             f"{results['database']}, {results['duration']:g} s measured after {results['warmup']:g} s"]
    for r in results["sizes"]:
        lines.append("  " + one_line(r))
        failed = {k: v for k, v in r["verdicts"].items() if k != "up"}
        if failed or r["skipped"]:
            lines.append(f"    not up: {failed}, reasons {r['reasons']}; skipped (still running) {r['skipped']}")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    m = results["machine"]
    rows = []
    for r in results["sizes"]:
        lag, b = r["lag_s"], r["bare"]
        rows.append(
            f"| {r['monitors']:,} | {r['scheduled_per_second']:,.1f} | {r['per_second']:,.1f} | "
            f"{lag['p50'] * 1000:,.0f} ms | {lag['p99'] * 1000:,.0f} ms | {lag['max'] * 1000:,.0f} ms | "
            f"{r['cpu_ms']:.2f} ms | {r['cpu_seconds'] / r['seconds']:.2f} | {r['peak_mib']:.0f} MiB | "
            f"{b['paced']['cpu_ms']:.2f} ms | {b['flat']['per_second']:,.0f}/s, {b['flat']['cpu_ms']:.2f} ms | "
            f"**{r['cpu_ratio']:.2f}×** | "
            f"{r['load_during'][0]:.1f}–{r['load_during'][1]:.1f} |")
    largest = max(results["sizes"], key=lambda r: r["monitors"])
    aims = [
        (f"{largest['monitors']:,} monitors on one core (every check made, at most a core)",
         f"{largest['per_second'] / largest['scheduled_per_second']:.0%} of the checks, "
         f"{largest['cpu_seconds'] / largest['seconds']:.2f} of a core",
         largest["per_second"] >= 0.99 * largest["scheduled_per_second"] and largest["cpu_seconds"] / largest["seconds"] <= 1.0),
        (f"lag p99 under {AIM_LAG_P99_S:g} s", f"{largest['lag_s']['p99']:.2f} s", largest["lag_s"]["p99"] < AIM_LAG_P99_S),
        (f"CPU a check at most {AIM_CPU_RATIO:g}× the bare loop's", f"{largest['cpu_ratio']:.2f}×",
         largest["cpu_ratio"] <= AIM_CPU_RATIO),
        (f"memory under {AIM_PEAK_MIB} MB", f"{largest['peak_mib']:.0f} MiB", largest["peak_mib"] * 1.048576 < AIM_PEAK_MIB),
    ]
    aim_rows = "\n".join(f"| {a} | {v} | {'met' if ok else '**missed**'} |" for a, v, ok in aims)
    notes = []
    for r in results["sizes"]:
        failed = {k: v for k, v in r["verdicts"].items() if k != "up"}
        said = [f"the window began {r['settle_seconds']:.0f} s after the warm-up, once every monitor's first verdict "
                f"was written" if r["settled"] else f"not every monitor's first verdict was written "
                f"{r['settle_seconds']:.0f} s after the warm-up; the window began then"]
        if failed:
            said.append(f"checks not up: {failed} (the commonest reasons: {r['reasons']})")
        if r["skipped"]:
            said.append(f"{r['skipped']:,} checks skipped because the monitor's previous check had not started "
                        f"or finished by its next slot (the probe could not keep up)")
        notes.append(f"- {r['monitors']:,} monitors: " + "; ".join(said) + ".")
    return f"""## The probe engine (`bench/probes.py`, {results['date']})

### What is measured
For each size a fresh {results['database']} database gets the monitors in bulk: HTTP GETs every
{results['interval']} s, each to `http://127.0.a.b:PORT/health/N` on one of {results['hosts']} loopback addresses
that one nginx worker listens on (`return 200`, no keep-alive), as if the monitors watched as many
hosts. `signalpost probe` runs them as in production (every check on a new connection, results written in
batches from the probe's own thread) for {results['duration']:g} s after {results['warmup']:g} s of warm-up.
*Scheduled* counts the monitors' slots in the window, *achieved* the results stored for checks started in it;
*lag* is when each stored check started behind its slot; *CPU* is the probe process's user + system time in
the window divided by the checks, the writer's included; *peak* is its VmHWM. The ceiling is a bare
aiohttp loop in a process of its own (a new connection each, the engine's limits of 512 at once and 4 per
host, the body read, nothing recorded) making GETs to the same URLs: first at the probe's pace for
{results['bare_duration']:g} s (waking every 5 ms at the soonest, as the engine does), whose CPU a check is
what *CPU × bare* divides by; then as many as the probe checked (at least 2,000) as fast as the limits allow.

```
.venv/bin/python bench/probes.py --write-docs        # about 12 minutes; --sizes 1000,10000 --duration 60 for a quick look
.venv/bin/python bench/probes.py --database postgres://postgres@127.0.0.1:5432
```

Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, nginx {m['nginx']}, commit
{m['commit']}. nginx, the probe and the bare loop share these cores; the load average (1 min) during each
run is in the table (other work on the machine moves the figures).

| monitors | scheduled/s | achieved/s | lag p50 | lag p99 | lag max | CPU a check | cores | peak RSS | bare loop at that pace: CPU a check | bare loop flat out | CPU × bare | load |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|
{chr(10).join(rows)}

{chr(10).join(notes)}

| aim (issue: {largest['monitors']:,} monitors) | measured | |
|---|---|---|
{aim_rows}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="monitor counts, comma-separated")
    parser.add_argument("--duration", type=float, default=120, help="seconds measured per size (default 120)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before measuring (default: the interval and 10 s, so that every monitor's first "
                             "check, which records its first state change, falls before)")
    parser.add_argument("--settle", type=float, default=240,
                        help="at most this many seconds more, after the warm-up, for every monitor's first verdict "
                             "to be written (default 240)")
    parser.add_argument("--interval", type=int, default=60, help="the monitors' interval in seconds (default 60)")
    parser.add_argument("--hosts", type=int, default=64, help="loopback addresses nginx listens on (default 64)")
    parser.add_argument("--database", default="sqlite", metavar="URL",
                        help="sqlite (the default) or a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--bare-duration", type=float, default=30,
                        help="seconds of the bare loop at the probe's pace (default 30)")
    parser.add_argument("--bare-max", type=int, default=10_000,
                        help="most requests of the bare loop flat out (default 10,000)")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--load", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, type=float, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(*args.load)))
        return 0
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    if args.bare:
        print(json.dumps(bare(args.bare[0], float(args.bare[1]), float(args.bare[2]))))
        return 0
    if args.warmup is None:
        args.warmup = args.interval + 10.0
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes: give monitor counts separated by commas, e.g. 1000,10000")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--sizes: give at least one monitor count above 0")
    if not 1 <= args.hosts <= 2500:
        parser.error("--hosts: give a number from 1 to 2500")
    if args.database != "sqlite" and not args.database.startswith(("postgres://", "postgresql://")):
        parser.error("--database: give sqlite or a PostgreSQL server URL (postgres://user@host:port)")
    if shutil.which("nginx") is None:
        print("probes.py: nginx is not installed (make bench installs it)", file=sys.stderr)
        return 1
    bench = Probes(args)
    if code := run_cleanly(bench, bench.run):
        return code
    print("\n" + figures(bench.results))
    if args.write_docs:
        print(f"wrote {write_doc_section('probes', markdown(bench.results)).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
