"""The write-path benchmark: how long a responder's update takes to commit and to reach readers, and what
an upgrade's republication of every page costs while readers keep reading, at 2,000 and 100,000 past
incidents.

For each size: a fresh PostgreSQL database and data directory; 50 components in 8 groups through the
services, the past incidents in bulk (COPY, bench/dataset.py), a few open incidents and maintenance
windows; every page published by `signalpost publish`; then `signalpost web` (Granian, one worker) and
`signalpost worker` as in production. Updates are posted through /api/v1 one after another while summary.json is polled every 10 ms: the POST's latency, the time until
readers see the update, the publisher's part (from the database) and its lag (/healthz, sampled).

On the largest size, an upgrade: the recorded `snapshot.republish:<fingerprint>` event is deleted (as if
the previous version's code had recorded it), `signalpost migrate` runs while wrk reads `/` in slices,
until the worker has republished every page; meanwhile an update is posted every few seconds.

    .venv/bin/python bench/write_path.py [--incidents 2000,100000] [--updates 200] [--write-docs]

Everything runs on loopback; every process, the database and the directory are removed at the end, also
on Ctrl-C. It prints figures and whether each aim was met; it asserts nothing.
"""

import argparse
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

# bench/ is not a package: its modules are found through sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import SPAN_DAYS, load_data
from harness import (
    REPO,
    Harness,
    UpdateWatcher,
    free_port,
    last_event_id,
    load_average,
    log_time,
    machine_facts,
    parse_wrk,
    percentiles,
    publications,
    publisher_times,
    run_cleanly,
    update_figures,
    write_doc_section,
    wrk_argv,
)

AIM_POST_P99_MS, AIM_VISIBLE_P99_MS, AIM_UPGRADE_NON2XX = 60.0, 500.0, 0
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO signalpost\.publish (.*)$", re.MULTILINE)


def rss_mib(group: int) -> float:
    """Resident memory of every process in a process group (a server and its workers), MiB."""
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                if int(stat[stat.rindex(")") + 2:].split()[2]) != group:
                    continue
                status = Path(f"/proc/{entry.name}/status").read_text()
            except (OSError, ValueError):
                continue
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            total += int(found.group(1)) if found else 0
    return total / 1024


class Sampler(threading.Thread):
    """/healthz's publisher figures and the load average, every `every` s, until stopped."""

    def __init__(self, bench: "WritePath", every: float = 0.5):
        super().__init__(daemon=True)
        self.bench, self.every = bench, every
        self.samples: list[dict] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                publisher = self.bench.healthz().get("publisher") or {}
                self.samples.append({"at": time.monotonic(), "lag": publisher.get("lag_seconds"),
                                     "pending": publisher.get("pending"), "load": load_average()})
            except (OSError, ValueError):
                pass
            self.stopping.wait(self.every)

    def stop(self) -> dict:
        self.stopping.set()
        self.join(10)
        lags = [s["lag"] for s in self.samples if s["lag"] is not None]
        pending = [s["pending"] for s in self.samples if s["pending"] is not None]
        loads = [s["load"] for s in self.samples]
        return {"samples": len(self.samples), "lag_max": max(lags, default=float("nan")),
                "lag_p50": statistics.median(lags) if lags else float("nan"),
                "pending_max": max(pending, default=0),
                "load_min": min(loads, default=float("nan")), "load_max": max(loads, default=float("nan"))}


class WritePath(Harness):
    def __init__(self, args: argparse.Namespace):
        super().__init__()
        self.args = args
        self.results: dict = {"sizes": []}

    # one size ----------------------------------------------------------------------------------------

    def fresh(self) -> None:
        """A new database and data directory (the previous size's are removed)."""
        for name in list(self.processes):
            self.stop(name)
        self.drop_database()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        for name in ("web", "worker"):
            self.log_path(name).unlink(missing_ok=True)
        self.sp_port = free_port()
        self.env["SIGNALPOST_URL"] = f"http://127.0.0.1:{self.sp_port}"
        self.create_database()

    def span_days(self, incidents: int) -> int:
        if self.args.span_days == "scaled":  # the 2,000 page's density: 1,000 incidents a year
            return max(SPAN_DAYS, round(SPAN_DAYS * incidents / 2000))
        return int(self.args.span_days)

    def setup(self, incidents: int) -> dict:
        self.fresh()
        figures: dict = {"incidents": incidents, "load_before": load_average()}
        began = time.monotonic()
        self.signalpost("migrate")
        figures["migrate_seconds"] = time.monotonic() - began
        span = self.span_days(incidents)
        self.log(f"{incidents:,} incidents: database {self.database} migrated in {figures['migrate_seconds']:.1f} s; "
                 f"loading 50 components and {incidents:,} past incidents over {span:,} days")
        result = subprocess.run([sys.executable, __file__, "--load-data", str(incidents), "--span-days", str(span)],
                                env=self.env, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"loading data failed:\n{result.stderr[-3000:]}")
        figures["load"] = json.loads(result.stdout.strip().splitlines()[-1])
        rows = figures["load"]["rows"]
        self.log(f"loaded in {figures['load']['load_seconds']:.1f} s (COPY of {sum(rows.values()):,} rows: "
                 + ", ".join(f"{v:,} {k}s" for k, v in rows.items()) + f", in {figures['load']['bulk_seconds']:.1f} s)")
        # The publisher renders every page once, in-process, as an operator does after a bulk import.
        began = time.monotonic()
        self.log("`signalpost publish`: every page ...")
        self.signalpost("publish", env={"LOG_LEVEL": "INFO"}, timeout=self.args.publish_max, log="publish")
        figures["publish_seconds"] = time.monotonic() - began
        figures["pages"] = self.sql("SELECT count(*) FROM public_snapshotfile")[0][0]
        figures["publish_log"] = self.republish_log(self.log_text("publish"))
        self.log(f"every page published in {figures['publish_seconds']:.0f} s ({figures['pages']:,} files; "
                 f"{figures['publish_log']['pages_changed']:,} page writes in {figures['publish_log']['publications']} "
                 "publications)")
        # Production's layout: the web server and the worker, each a process with the same data directory.
        began = time.monotonic()
        self.start("web", [sys.executable, "-m", "signalpost", "web", "--port", str(self.sp_port)])
        self.start("worker", [sys.executable, "-m", "signalpost", "worker"], env={"LOG_LEVEL": "INFO"})
        # /healthz answers 503 until the web process has loaded the snapshot (every page, from the database).
        self.wait_for(self.sp_port, "/healthz", "web", timeout=self.args.publish_max)
        figures["web_ready_seconds"] = time.monotonic() - began
        self.wait_published(120, since=began)
        self.log(f"`signalpost web` served the snapshot {figures['web_ready_seconds']:.1f} s after it started")
        return figures

    def republish_log(self, text: str, since: float | None = None) -> dict:
        """What the publisher's log says of a republication: its start and end, the progress lines, the
        publications and how many pages they changed."""
        lines = [(log_time(stamp), message) for stamp, message in LOG_LINE.findall(text)]
        began = next((at for at, m in lines if m.startswith("republishing every page")), None)
        ended = next((at for at, m in lines if m.startswith("republished every page")), None)
        progress = [m for _, m in lines if m.startswith("republishing: ")]
        published = publications(text)
        # `since` (epoch seconds: the migrate's start) counts the wait for the first publication too.
        moments = ([since] if since is not None else []) + [at for at, _, _ in published]
        steps = [b - a for a, b in itertools.pairwise(moments)]
        return {"began": began, "ended": ended, "seconds": (ended - began) if began and ended else None,
                "progress_lines": len(progress), "first_progress": progress[0] if progress else "",
                "last_progress": progress[-1] if progress else "", "publications": len(published),
                "pages_changed": sum(k for _, _, k in published),
                "longest_gap_s": max(steps, default=0.0)}

    # updates -------------------------------------------------------------------------------------------

    def updates(self, incidents: int) -> dict:
        token = self.signalpost("token", "create", "--scope", "write", "--name", "bench").strip().splitlines()[-1]
        watcher = UpdateWatcher(self.sp_port, token, bound=self.args.visible_max)
        open_ids = [watcher.open_incident(f"Benchmark incident {n + 1}") for n in range(self.args.open_incidents)]
        self.wait_published(60, since=time.monotonic())
        for n in range(self.args.warmup):  # not counted: the web process's first API requests import and compile
            watcher.post(open_ids[n % len(open_ids)])
        self.wait_published(60, since=time.monotonic())
        events_before, log_offset = last_event_id(self), self.log_size("worker")
        sampler = Sampler(self)
        sampler.start()
        profiles = self.start_profiles(f"updates-{incidents}")
        load_before = load_average()
        posted = []
        began = time.monotonic()
        for n in range(self.args.updates):
            if time.monotonic() - began > self.args.updates_max_seconds:
                break  # bounded: a slow publisher must not stretch the run
            posted.append(watcher.post(open_ids[n % len(open_ids)]))
        watcher.close()
        seconds = time.monotonic() - began
        self.stop_profiles(profiles)
        self.wait_published(120, since=time.monotonic())
        health = sampler.stop()
        figures = update_figures(posted, publisher_times(self, events_before),
                                 publications(self.log_text("worker", log_offset)))
        figures.update(seconds=seconds, asked=self.args.updates, health=health, load_before=load_before,
                       web_rss_mib=rss_mib(self.processes["web"].pid),
                       worker_rss_mib=rss_mib(self.processes["worker"].pid))
        self.log(f"{incidents:,} incidents, {figures['count']} updates in {seconds:.0f} s: POST p50 "
                 f"{figures['post_ms']['p50']:.0f} ms p99 {figures['post_ms']['p99']:.0f} ms; visible p50 "
                 f"{figures['visible_ms']['p50']:.0f} ms p99 {figures['visible_ms']['p99']:.0f} ms; publisher p50 "
                 f"{figures['publisher_ms']['p50']:.0f} ms p99 {figures['publisher_ms']['p99']:.0f} ms "
                 f"({figures['pages_changed']:.0f} pages changed); /healthz lag max {health['lag_max']:.2f} s; "
                 f"load {health['load_min']:.1f}–{health['load_max']:.1f}")
        self.watcher, self.open_ids = UpdateWatcher(self.sp_port, token, bound=self.args.upgrade_visible_max), open_ids
        return figures

    # profiles (--py-spy) ---------------------------------------------------------------------------------

    def start_profiles(self, label: str) -> list[str]:
        """py-spy on the web server's worker process and on `signalpost worker`, while a part runs."""
        if not self.args.py_spy:
            return []
        targets = {"web": self.processes["web"].pid, "worker": self.processes["worker"].pid}
        names = []
        for name, pid in targets.items():
            out = Path(self.args.profile_dir) / f"{label}-{name}.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            # --subprocesses: Granian's worker is a child of the process `signalpost web` became.
            self.start(f"py-spy-{name}", [self.args.py_spy, "record", "-p", str(pid), "--subprocesses", "-r", "200",
                                          "-d", str(int(self.args.updates_max_seconds) + 60), "-f", "raw", "-o", str(out)])
            names.append(f"py-spy-{name}")
        time.sleep(1.0)
        return names

    def stop_profiles(self, names: list[str]) -> None:
        import signal

        for name in names:
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
            self.stop(name)
        if names:
            self.log(f"profiles written to {self.args.profile_dir}")

    # the upgrade ---------------------------------------------------------------------------------------

    def upgrade(self) -> dict:
        """`signalpost migrate` of a new version, while wrk reads `/`: until every page is republished."""
        args = self.args
        self.wait_published(120, since=time.monotonic())
        # As if the previous version's code had recorded its republication: this version's is not recorded.
        self.sql("DELETE FROM events_handling WHERE event_id IN "
                 "(SELECT id FROM events_event WHERE key LIKE 'snapshot.republish:%%')")
        deleted = self.sql("DELETE FROM events_event WHERE key LIKE 'snapshot.republish:%%' RETURNING id")
        log_offset = self.log_size("worker")
        load_before = load_average()
        slices: list[dict] = []
        stop_reading = threading.Event()

        def read() -> None:
            while not stop_reading.is_set() and len(slices) < args.upgrade_max / args.wrk_slice + 2:
                self.start("wrk", wrk_argv(self.sp_port, "/", args.wrk_slice, args.upgrade_connections, 1))
                try:
                    self.processes["wrk"].wait(timeout=args.wrk_slice + 30)
                except subprocess.TimeoutExpired:
                    pass
                self.stop("wrk")
                try:
                    slices.append({**parse_wrk(self.log_text("wrk")), "load": load_average()})
                except RuntimeError as error:
                    slices.append({"error": str(error)[:300]})
                self.log_path("wrk").unlink(missing_ok=True)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        sampler = Sampler(self, every=1.0)
        sampler.start()
        time.sleep(1.0)  # readers first, as on a live site
        self.log(f"upgrade: deleted {len(deleted)} recorded republication(s); running `signalpost migrate` while wrk "
                 f"reads / ({args.upgrade_connections} connections, {args.wrk_slice:g} s slices)")
        began = time.monotonic()
        began_wall = time.time()
        self.signalpost("migrate")
        migrate_seconds = time.monotonic() - began
        event = self.sql("SELECT id FROM events_event WHERE key LIKE 'snapshot.republish:%%'")
        event_id = event[0][0] if event else None
        self.log(f"`signalpost migrate` returned in {migrate_seconds:.1f} s (republication event {event_id})")
        during: list[dict] = []
        caught_up_log = caught_up_health = None
        next_update = time.monotonic() + args.upgrade_update_every
        last_progress = ""
        while time.monotonic() - began < args.upgrade_max:
            text = self.log_text("worker", log_offset)
            if caught_up_log is None and "republished every page" in text:
                caught_up_log = time.monotonic() - began
            progress = [m for _, m in LOG_LINE.findall(text) if m.startswith("republishing: ")]
            if progress and progress[-1] != last_progress:
                last_progress = progress[-1]
                self.log(f"  worker: {last_progress} (load {load_average():.1f})")
            if caught_up_log is not None and event_id is not None:
                done = self.sql("SELECT state FROM events_handling WHERE event_id = %s AND consumer = 'publisher'",
                                (event_id,))
                health = self.healthz().get("publisher") or {}
                if done and done[0][0] == "done" and health.get("pending") == 0:
                    caught_up_health = time.monotonic() - began
                    break
            if time.monotonic() >= next_update:  # an outage does not wait for the upgrade
                post = self.watcher.post(self.open_ids[len(during) % len(self.open_ids)])
                during.append(post)
                seen = f"{post['visible_s'] * 1000:.0f} ms" if post["visible_s"] is not None else "not seen"
                self.log(f"  an update during the catch-up: POST {post['post_s'] * 1000:.0f} ms, visible {seen}")
                next_update = time.monotonic() + args.upgrade_update_every
            time.sleep(0.5)
        stop_reading.set()
        reader.join(args.wrk_slice + 45)
        health = sampler.stop()
        self.watcher.close()
        text = self.log_text("worker", log_offset)
        republish = self.republish_log(text, since=began_wall)
        reads = [s for s in slices if "error" not in s]
        figures = {
            "deleted_events": len(deleted), "event_id": event_id, "migrate_seconds": migrate_seconds,
            "caught_up_log_s": caught_up_log, "caught_up_s": caught_up_health,
            "log_seconds": republish["seconds"], "from_migrate_to_log_end_s":
                (republish["ended"] - began_wall) if republish["ended"] else None,
            "republish": republish, "load_before": load_before, "health": health,
            "wrk": {
                "slices": len(slices), "slice_errors": len(slices) - len(reads),
                "requests": sum(s["requests"] for s in reads), "non2xx": sum(s["non2xx"] for s in reads),
                "socket_errors": sum(s["errors"] for s in reads), "timeouts": sum(s["timeouts"] for s in reads),
                "rps_mean": statistics.mean(s["rps"] for s in reads) if reads else float("nan"),
                "rps_min": min((s["rps"] for s in reads), default=float("nan")),
                "p50_ms_median": statistics.median(s["p50_ms"] for s in reads) if reads else float("nan"),
                "p99_ms_worst": max((s["p99_ms"] for s in reads), default=float("nan")),
                "load_max": max((s["load"] for s in reads), default=float("nan")),
            },
            "updates_during": {
                "count": len(during), "not_visible": sum(1 for p in during if p["visible_s"] is None),
                "post_ms": {k: v * 1000 if k != "n" else v for k, v in percentiles([p["post_s"] for p in during]).items()},
                "visible_ms": {k: v * 1000 if k != "n" else v for k, v in
                               percentiles([p["visible_s"] for p in during if p["visible_s"] is not None]).items()},
            },
            "web_rss_mib": rss_mib(self.processes["web"].pid), "worker_rss_mib": rss_mib(self.processes["worker"].pid),
        }
        w = figures["wrk"]
        caught = f"{caught_up_health:.0f} s" if caught_up_health is not None else f"not within {args.upgrade_max:.0f} s"
        self.log(f"upgrade: caught up in {caught} ({republish['progress_lines']} progress lines, "
                 f"{republish['pages_changed']:,} page writes); wrk: {w['requests']:,} requests in {w['slices']} slices, "
                 f"{w['non2xx']} non-2xx, {w['socket_errors']} socket errors, p99 up to {w['p99_ms_worst']:.0f} ms")
        return figures

    # the run -------------------------------------------------------------------------------------------

    def run(self) -> None:
        self.results.update(machine=machine_facts(), date=date.today().isoformat(), load_before=load_average(),
                            settings={k: getattr(self.args, k) for k in (
                                "updates", "open_incidents", "warmup", "span_days", "upgrade_connections",
                                "wrk_slice", "upgrade_max", "upgrade_update_every", "visible_max", "upgrade_visible_max")})
        sizes = self.args.incident_counts
        upgrade_at = self.args.upgrade_at if self.args.upgrade_at is not None else max(sizes)
        for incidents in sizes:
            size = self.setup(incidents)
            size["span_days"] = self.span_days(incidents)
            size["updates"] = self.updates(incidents)
            if incidents == upgrade_at and not self.args.no_upgrade:
                size["upgrade"] = self.upgrade()
            self.results["sizes"].append(size)
        for name in list(self.processes):
            self.stop(name)
        self.results["total_seconds"] = self.elapsed()


# --- figures ---------------------------------------------------------------------------------------------


def _ms(figures: dict, key: str) -> str:
    return f"{figures[key]:.0f} ms" if figures[key] == figures[key] else "–"


def aims(results: dict) -> list[tuple[str, str, str, bool]]:
    rows = []
    for size in results["sizes"]:
        u, n = size["updates"], f"{size['incidents']:,}"
        rows.append((n, f"POST p99 < {AIM_POST_P99_MS:.0f} ms", f"{u['post_ms']['p99']:.0f} ms",
                     u["post_ms"]["p99"] < AIM_POST_P99_MS))
        rows.append((n, f"visible in summary.json p99 < {AIM_VISIBLE_P99_MS:.0f} ms",
                     f"{u['visible_ms']['p99']:.0f} ms" + (f", {u['not_visible']} not seen" if u["not_visible"] else ""),
                     u["visible_ms"]["p99"] < AIM_VISIBLE_P99_MS and not u["not_visible"]))
        if "upgrade" in size:
            g = size["upgrade"]
            caught = g["caught_up_s"] is not None
            rows.append((n, "0 non-2xx answers to readers during the upgrade's catch-up",
                         f"{g['wrk']['non2xx']} non-2xx of {g['wrk']['requests']:,}"
                         + (f", {g['wrk']['socket_errors']} socket errors" if g["wrk"]["socket_errors"] else "")
                         + ("" if caught else " (not caught up within the bound)"),
                         g["wrk"]["non2xx"] <= AIM_UPGRADE_NON2XX and caught))
    return rows


def figures(results: dict) -> str:
    """This run's figures as Markdown: printed at the end of every run, and the heart of its docs section."""
    m, st = results["machine"], results["settings"]
    size_rows, upgrade = [], None
    for size in results["sizes"]:
        u, h = size["updates"], size["updates"]["health"]
        size_rows.append(
            f"| {size['incidents']:,} | {size['span_days']:,} | {u['count']} | {u['post_ms']['p50']:.0f} | "
            f"{u['post_ms']['p99']:.0f} | {u['visible_ms']['p50']:.0f} | {u['visible_ms']['p99']:.0f} | "
            f"{u['visible_ms']['max']:.0f} | {u['publisher_ms']['p50']:.0f} | {u['publisher_ms']['p99']:.0f} | "
            f"{u['front_ms']['p50']:.0f} | {u['pages_changed']:.0f} | {h['lag_max']:.2f} | {h['pending_max']} | "
            f"{h['load_min']:.1f}–{h['load_max']:.1f} |")
        upgrade = size.get("upgrade") or upgrade
    setup_rows = [
        f"| {s['incidents']:,} | {s['migrate_seconds']:.1f} s | {s['load']['bulk_seconds']:.1f} s "
        f"({sum(s['load']['rows'].values()):,} rows) | {s['load']['load_seconds']:.1f} s | {s['publish_seconds']:.0f} s "
        f"| {s['pages']:,} | {s['publish_log']['pages_changed'] / s['publish_seconds']:.0f} | {s['web_ready_seconds']:.1f} s | "
        f"{s['updates']['web_rss_mib']:.0f} / {s['updates']['worker_rss_mib']:.0f} MiB |"
        for s in results["sizes"]]
    text = f"""### Machine
{m['nproc']} cores ({m['cpu']}), {m['memory']}, Linux {m['kernel']}; Python {m['python']}, Granian {m['granian']},
Django {m['django']}, wrk {m['wrk']}, PostgreSQL {m['postgresql']}; Signalpost at {m['commit']}.
The benchmark, wrk, Granian, the worker and PostgreSQL share these cores. Load average (1 min) before the run:
{results['load_before']:.1f}; during each part, below.

### Setting up (per size)
| past incidents | `signalpost migrate` | COPY of the past incidents | whole load | `signalpost publish` (every page) | files | pages/s | `signalpost web` serving the snapshot after | web / worker memory after the updates |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(setup_rows)}

### Updates through `/api/v1` (one at a time, {st['open_incidents']} open incidents in turn, after {st['warmup']} not counted)
| past incidents | over days | updates | POST p50 ms | POST p99 ms | visible p50 ms | visible p99 ms | visible max ms | publisher p50 ms | publisher p99 ms | stored → seen p50 ms | pages changed per update | /healthz lag max s | pending max | load during |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{chr(10).join(size_rows)}
"""
    if upgrade is not None:
        g, w, r, d = upgrade, upgrade["wrk"], upgrade["republish"], upgrade["updates_during"]
        caught = f"{g['caught_up_s']:.0f} s" if g["caught_up_s"] is not None else f"not within {st['upgrade_max']:g} s"
        upgraded = next(s["incidents"] for s in results["sizes"] if "upgrade" in s)
        text += f"""
### The upgrade at {upgraded:,} past incidents (`signalpost migrate` while wrk reads `/`, {st['upgrade_connections']} connections)
| | |
|---|---:|
| `signalpost migrate` returned after | {g['migrate_seconds']:.1f} s |
| caught up (the republication's handling done and /healthz `pending` 0), from migrate's start | {caught} |
| the worker's log: `republishing every page` → `republished every page` | {f"{r['seconds']:.0f} s" if r['seconds'] else "–"} |
| progress lines (`republishing: X of about Y pages`) | {r['progress_lines']} (first: `{r['first_progress']}`; last: `{r['last_progress']}`) |
| publications during the catch-up / page writes | {r['publications']} / {r['pages_changed']:,} |
| longest wait for a publication, from migrate's start on (how long other events may wait) | {r['longest_gap_s']:.1f} s |
| /healthz `publisher.lag_seconds` max / `pending` max (sampled every 1 s) | {g['health']['lag_max']:.1f} s / {g['health']['pending_max']} |
| wrk on `/`: requests in {w['slices']} slices of {st['wrk_slice']:g} s | {w['requests']:,} ({w['rps_mean']:,.0f}/s mean, {w['rps_min']:,.0f}/s lowest slice) |
| wrk: **non-2xx answers** / socket errors (timeouts) | **{w['non2xx']}** / {w['socket_errors']} ({w['timeouts']}) |
| wrk latency: median slice p50 / worst slice p99 | {w['p50_ms_median']:.1f} ms / {w['p99_ms_worst']:.0f} ms |
| updates posted during the catch-up (one every {st['upgrade_update_every']:g} s): POST p50 / max | {d['count']}: {d['post_ms']['p50']:.0f} ms / {d['post_ms']['max']:.0f} ms |
| … visible in summary.json p50 / max | {d['visible_ms']['p50']:.0f} ms / {d['visible_ms']['max']:.0f} ms{f" ({d['not_visible']} not seen within {st['upgrade_visible_max']:g} s)" if d['not_visible'] else ""} |
| load average during the catch-up (1 min) | {g['health']['load_min']:.1f}–{g['health']['load_max']:.1f} (before: {g['load_before']:.1f}) |
| web / worker memory after the catch-up | {g['web_rss_mib']:.0f} / {g['worker_rss_mib']:.0f} MiB |
"""
    text += f"""
### Aims
| past incidents | aim | measured | |
|---:|---|---|---|
{chr(10).join(f"| {n} | {aim} | {measured} | {'met' if met else '**missed**'} |" for n, aim, measured, met in aims(results))}
"""
    return text


def markdown(results: dict) -> str:
    st = results["settings"]
    return f"""## The write path (`bench/write_path.py`, {results['date']})

### What is measured
- **The page.** For each size a fresh PostgreSQL database and data directory: 50 components in 8 groups
  (through the services), the past incidents (2–4 updates each, 0–3 components each) loaded in bulk with COPY:
  the rows `services.backfill_incident` writes, without its audit entries and events (`bench/dataset.py`);
  3 open incidents and 3 maintenance windows through the services. `signalpost publish` renders every page
  (timed). Then `signalpost web` (Granian, one worker) and `signalpost worker` (every job) run as in
  production, each a process with its own log; the web process loads the snapshot from the database
  (timed until /healthz answers 200).
- **Updates.** {st['updates']} updates posted through `POST /api/v1/incidents/{{id}}/updates` (a write-scope token
  from `signalpost token create`, an `Idempotency-Key` each), one after another, to {st['open_incidents']} open incidents in
  turn. While each POST is in flight, `/api/v2/summary.json` is polled every 10 ms (at most
  {st['visible_max']:g} s) until the incident's latest update carries the update's marker. *POST* is the request's
  latency (it only commits: the update, its event, the consumers' handling rows); *visible* is from sending
  the POST until a reader sees the update; *publisher* is from the event's `recorded_at` (inside the POST's
  transaction) to its handling's `done_at` (after the publisher stored the pages), read from the database;
  *stored → seen* is the rest: the web process woken by NOTIFY loads the new version, and the next poll.
  *Pages changed* comes from the worker's `published version N: K pages changed` lines; the lag is
  /healthz's `publisher.lag_seconds`, sampled every 0.5 s (the front refreshes it every 2 s).
- **The upgrade.** On the largest database, once every page is published: the recorded
  `snapshot.republish:<fingerprint>` event is deleted (as if the previous version's code had recorded it),
  then `signalpost migrate` runs while wrk (1 thread, {st['upgrade_connections']} connections, `--timeout 5s`) reads `/`
  in slices of {st['wrk_slice']:g} s until the republication's handling is done and /healthz says nothing is pending
  (at most {st['upgrade_max']:g} s); an update is posted every {st['upgrade_update_every']:g} s meanwhile. The non-2xx count is the
  sum of wrk's "Non-2xx or 3xx responses" over every slice.
- Past incidents spread over {"a span that keeps the 2,000 page's density (1,000 a year)" if st['span_days'] == "scaled"
  else f"{int(st['span_days']):,} days ending a day ago, at every size"}.

### How to run
```
make bench                                                   # both benchmarks; installs wrk and nginx-light when missing
.venv/bin/python bench/write_path.py                         # 2,000 and 100,000 past incidents, 200 updates each
.venv/bin/python bench/write_path.py --incidents 2000 --updates 50   # a quicker look
.venv/bin/python bench/write_path.py --write-docs            # also rewrites this section
```
Options: `--incidents`, `--updates`, `--open-incidents`, `--span-days` (a number, or `scaled`),
`--upgrade-at`, `--no-upgrade`, `--upgrade-connections`, `--wrk-slice`, `--upgrade-max`, `--publish-max`.

{figures(results)}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", default="2000,100000", help="past incidents, one run per size (default 2000,100000)")
    parser.add_argument("--updates", type=int, default=200, help="updates posted per size (default 200)")
    parser.add_argument("--open-incidents", type=int, default=5, help="open incidents the updates go to in turn (default 5)")
    parser.add_argument("--warmup", type=int, default=5, help="updates posted first and not counted (default 5)")
    parser.add_argument("--span-days", default=str(SPAN_DAYS),
                        help=f"days the past incidents spread over (default {SPAN_DAYS}); 'scaled' keeps 1,000 a year")
    parser.add_argument("--visible-max", type=float, default=10, help="how long to wait for one update to show (default 10 s)")
    parser.add_argument("--updates-max-seconds", type=float, default=300, help="stop posting after this long (default 300 s)")
    parser.add_argument("--publish-max", type=float, default=3600, help="bound on the first publication (default 3600 s)")
    parser.add_argument("--upgrade-at", type=int, default=None, help="the size the upgrade runs at (default the largest)")
    parser.add_argument("--no-upgrade", action="store_true", help="skip the upgrade")
    parser.add_argument("--upgrade-connections", type=int, default=20, help="wrk connections during the upgrade (default 20)")
    parser.add_argument("--wrk-slice", type=float, default=10, help="seconds per wrk slice during the upgrade (default 10)")
    parser.add_argument("--upgrade-max", type=float, default=3600, help="bound on the upgrade's catch-up (default 3600 s)")
    parser.add_argument("--upgrade-update-every", type=float, default=5, help="an update every N s during the catch-up (default 5)")
    parser.add_argument("--upgrade-visible-max", type=float, default=60, help=argparse.SUPPRESS)
    parser.add_argument("--py-spy", default=None, metavar="PATH",
                        help="profile the web and worker processes during the updates with this py-spy")
    parser.add_argument("--profile-dir", default="/tmp/signalpost-bench-profiles", help="where --py-spy writes")
    parser.add_argument("--write-docs", action="store_true", help="write the figures to docs/benchmarks.md")
    parser.add_argument("--load-data", type=int, help=argparse.SUPPRESS)  # internal: the data-loading subprocess
    args = parser.parse_args()
    if args.load_data is not None:
        print(json.dumps(load_data(args.load_data, span_days=int(args.span_days))))
        return 0
    try:
        args.incident_counts = [int(n) for n in args.incidents.split(",") if n.strip()]
    except ValueError:
        parser.error("--incidents takes numbers separated by commas, e.g. 2000,100000")
    if args.span_days != "scaled" and not args.span_days.isdigit():
        parser.error("--span-days takes a number of days or 'scaled'")
    if shutil.which("wrk") is None and not args.no_upgrade:
        print("wrk is missing: apt-get install -y wrk (or `make bench`)", file=sys.stderr)
        return 1
    bench = WritePath(args)
    if code := run_cleanly(bench, bench.run):
        return code
    print("\n" + figures(bench.results))
    for n, aim, measured, met in aims(bench.results):
        print(f"aim at {n} past incidents: {aim}: {measured}: {'met' if met else 'MISSED'}")
    print(f"total {bench.results['total_seconds']:.0f} s")
    if args.write_docs:
        print(f"wrote {write_doc_section('write_path', markdown(bench.results)).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
