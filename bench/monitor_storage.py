"""What a year of monitoring keeps in PostgreSQL: 1,000 monitors checked every minute from one location.

A fresh database (`signalpost_bench_<pid>`) gets Signalpost's schema (`signalpost migrate`), the monitors,
and what the store keeps of a year of their checks at the default retentions (or those given): a year of
hourly roll-ups, the state changes of two outages a month per monitor, the last
SIGNALPOST_MONITOR_MINUTE_DAYS of minute roll-ups and the last SIGNALPOST_MONITOR_RAW_DAYS of raw
results. Rows are written by INSERT … SELECT from generate_series, in time order (as the probe writes
them, all monitors' rows of one minute together), so that the indexes are as fragmented as the real
ones. It prints each table's heap and index sizes (pg_relation_size, pg_indexes_size,
pg_total_relation_size) and the total.

    .venv/bin/python bench/monitor_storage.py                   # 250 monitors, the sizes scaled up 4× (1 minute)
    .venv/bin/python bench/monitor_storage.py --monitors 1000   # all of them, not scaled (4 minutes)
    .venv/bin/python bench/monitor_storage.py --write-docs    # also rewrites its section of docs/benchmarks.md

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth); removes its database when it ends.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Harness, load_average, machine_facts, run_cleanly, write_doc_section  # noqa: E402

TARGET = 1000  # monitors the figures are for
MiB = 1024 * 1024
TABLES = ["monitors_hourlyrollup", "monitors_minuterollup", "monitors_checkresult", "monitors_statechange",
          "monitors_locationstate", "monitors_monitor", "monitors_monitorcomponent"]


def a_day() -> bytes:
    """A day of hourly figures packed as signalpost/monitors/hourly.py packs them (HOUR_FORMAT)."""
    import struct

    hour_format = struct.Struct("<HHHIII")
    buffer = bytearray(24 * hour_format.size)
    for index in range(24):
        hour_format.pack_into(buffer, index * hour_format.size, 60, index % 7 == 0, index % 5 == 0,
                              40 + index, 180 + 3 * index, 700 + 11 * index)
    return bytes(buffer)


def fill(harness: Harness, monitors: int, raw_days: int, minute_days: int, hourly_days: int) -> dict:
    """Schema, monitors and a year of what is kept; returns the seconds each step took."""
    timings = {}
    started = time.monotonic()
    harness.signalpost("migrate")
    timings["migrate"] = time.monotonic() - started
    harness.sql("""
        INSERT INTO monitors_monitor (public_id, name, kind, target, interval_seconds, timeout_seconds, method,
            headers, body, expected_statuses, keyword, keyword_absent, follow_redirects, verify_tls,
            tls_expiry_days, paused, failures_to_down, successes_to_up, state, state_reason, created_at, updated_at)
        SELECT 'm' || lpad(n::text, 11, '0'), 'monitor ' || n, 'http', 'https://host-' || n || '.example.com/health',
            60, 10, 'GET', '{}', '', '["2xx"]', '', '', true, true, 14, false, 3, 2, 'up', '', now(), now()
        FROM generate_series(1, %s) n""", (monitors,))
    harness.sql("""INSERT INTO monitors_locationstate (monitor_id, location, state, down_run, bad_run, up_run, ok_run,
                       last_at, last_verdict, last_reason, last_status_code)
                   SELECT id, 'local', 'up', 0, 0, 100, 100, now(), 'up', '', 200 FROM monitors_monitor""")
    steps = [
        ("hourly roll-ups", f"""
            INSERT INTO monitors_hourlyrollup (monitor_id, location, day, hours)
            SELECT m.id, 'local', d::date, %s
            FROM generate_series(current_date - {hourly_days}, current_date, interval '1 day') d
            CROSS JOIN monitors_monitor m ORDER BY d, m.id""", (a_day(),)),
        ("state changes", """
            INSERT INTO monitors_statechange (monitor_id, at, from_state, to_state, reason)
            SELECT m.id, t + (CASE WHEN s = 0 THEN interval '0' ELSE interval '20 minutes' END),
                   CASE WHEN s = 0 THEN 'up' ELSE 'down' END, CASE WHEN s = 0 THEN 'down' ELSE 'up' END,
                   CASE WHEN s = 0 THEN 'monitor ''' || m.name || ''' down: HTTP 503 Service Unavailable from 1 of 1 location'
                        ELSE 'monitor ''' || m.name || ''' up again' END
            FROM generate_series(now() - interval '365 days', now(), interval '15 days') t
            CROSS JOIN monitors_monitor m CROSS JOIN generate_series(0, 1) s ORDER BY t, m.id, s""", ()),
        ("minute roll-ups", f"""
            INSERT INTO monitors_minuterollup (monitor_id, location, minute, checks, failures, degraded,
                latency_p50_ms, latency_p95_ms, latency_max_ms)
            SELECT m.id, 'local', t, 1, 0, 0, v, v, v FROM (
                SELECT t, 40 + (random() * 60)::int v FROM generate_series(
                    date_trunc('minute', now()) - interval '{minute_days} days', date_trunc('minute', now()),
                    interval '1 minute') t) minutes
            CROSS JOIN monitors_monitor m ORDER BY t, m.id""", ()),
        ("raw results", f"""
            INSERT INTO monitors_checkresult (monitor_id, location, at, verdict, latency_ms, status_code, reason)
            SELECT m.id, 'local', t + mod(m.id, 60) * interval '1 second', 'up', 40 + (random() * 60)::int, 200, ''
            FROM generate_series(date_trunc('minute', now()) - interval '{raw_days} days',
                                 date_trunc('minute', now()), interval '1 minute') t
            CROSS JOIN monitors_monitor m ORDER BY t, m.id""", ()),
    ]
    for name, statement, params in steps:
        step = time.monotonic()
        harness.sql(statement, params)
        timings[name] = time.monotonic() - step
        harness.log(f"{name}: {timings[name]:.0f} s")
    harness.sql("VACUUM ANALYZE")
    return timings


def sizes(harness: Harness) -> list[dict]:
    rows = []
    for table in TABLES:
        [(count, heap, indexes, total)] = harness.sql(
            "SELECT (SELECT count(*) FROM " + table + "), pg_relation_size(%s), pg_indexes_size(%s), "
            "pg_total_relation_size(%s)", (table, table, table))
        rows.append({"table": table, "rows": count, "heap": heap, "indexes": indexes, "total": total})
    return rows


def plural(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def report(rows: list[dict], scale: float, monitors: int, days: dict, timings: dict, harness: Harness) -> str:
    facts = machine_facts()
    lines = [
        f"## Monitoring storage (`bench/monitor_storage.py`, {date.today().isoformat()})",
        "",
        f"A year of 1,000 HTTP monitors checked every 60 s from one location, as kept at the retentions "
        f"below: hourly roll-ups {plural(days['hourly'])} (a UTC day of 24 hours to a row), minute roll-ups "
        f"{plural(days['minute'])}, raw results {plural(days['raw'])}, state changes always (two 20-minute outages a month per monitor). Rows written by "
        f"INSERT … SELECT in time order, then `VACUUM ANALYZE`; sizes from `pg_relation_size`, "
        f"`pg_indexes_size` and `pg_total_relation_size`.",
        "",
        (f"Measured on {monitors:,} monitors and scaled by {scale:g} to 1,000 (every table grows with the "
         f"number of monitors)." if scale != 1 else "Measured on all 1,000 monitors, not extrapolated."),
        "",
        f"Machine: {facts['nproc']} cores ({facts['cpu']}), PostgreSQL {facts.get('postgresql', '?')}, commit "
        f"{facts.get('commit', '?')}; filling took {sum(timings.values()):.0f} s.",
        "",
        "| table | rows | heap | indexes | total |",
        "|---|---|---|---|---|",
    ]
    total = 0
    for row in rows:
        total += row["total"] * scale
        lines.append(f"| `{row['table']}` | {int(row['rows'] * scale):,} | {row['heap'] * scale / MiB:,.1f} MiB | "
                     f"{row['indexes'] * scale / MiB:,.1f} MiB | {row['total'] * scale / MiB:,.1f} MiB |")
    lines += [f"| **total** | | | | **{total / MiB:,.0f} MiB** ({total / (1024 * MiB):.2f} GiB) |", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=250, help="monitors to write (the sizes are scaled to 1,000)")
    parser.add_argument("--raw-days", type=int, default=2)
    parser.add_argument("--minute-days", type=int, default=1)
    parser.add_argument("--hourly-days", type=int, default=365)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.monitors < 1:
        print("--monitors: must be at least 1", file=sys.stderr)
        return 2
    harness = Harness()
    days = {"raw": args.raw_days, "minute": args.minute_days, "hourly": args.hourly_days}

    def body() -> None:
        harness.create_database()
        harness.log(f"filling {harness.database} with {args.monitors:,} monitors (load {load_average():.1f})")
        timings = fill(harness, args.monitors, args.raw_days, args.minute_days, args.hourly_days)
        text = report(sizes(harness), TARGET / args.monitors, args.monitors, days, timings, harness)
        print(text)
        if args.write_docs:
            print(f"wrote {write_doc_section('monitor_storage', text)}")

    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
    return run_cleanly(harness, body)


if __name__ == "__main__":
    sys.exit(main())
