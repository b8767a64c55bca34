"""The notification fan-out: one incident update to 100,000 e-mail subscribers and 10,000 webhooks.

The worker (`signalpost worker --only notifier --only deliveries`, as `signalpost run` starts them) makes
the deliveries and sends them: e-mail to SMTP sinks (several aiosmtpd processes sharing one port with
SO_REUSEPORT, so that the sink is not the bottleneck), webhooks to a local aiohttp receiver. It prints
the messages per second, the time from the update to the last delivery, the worker's CPU and peak
memory, and, as the ceiling, the same number of messages sent by a bare aiosmtplib loop over as many
connections, rendering nothing and recording nothing (the ratio of the two).

    .venv/bin/python bench/fanout.py                              # 100,000 e-mails, 10,000 webhooks
    .venv/bin/python bench/fanout.py --emails 10000 --webhooks 1000   # a quicker look
    .venv/bin/python bench/fanout.py --write-docs                 # also rewrites its section of docs/benchmarks.md

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth); talks to loopback only, and removes its
processes, database and directory when it ends.
"""

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (REPO, Harness, free_port, group_cpu_seconds, load_average, machine_facts,  # noqa: E402
                           run_cleanly, write_doc_section)

# --- the parts that run as processes of their own -----------------------------------------------------


def run_sink(port: int) -> None:
    """An SMTP server that accepts and forgets every message (one of several on the same port)."""
    from aiosmtpd.smtp import SMTP

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(loop.create_server(lambda: SMTP(Sink(), hostname="sink"), "127.0.0.1", port,
                                               reuse_port=True))
    loop.run_forever()


def run_receiver(port: int) -> None:
    """A webhook receiver that answers 204 to everything."""
    from aiohttp import web

    async def hook(request):
        await request.read()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, print=None, access_log=None)


def load(emails: int, webhooks: int, receiver_port: int) -> dict:
    """The page, one component, and the subscribers (in bulk), in the benchmark's database."""
    import django

    django.setup()
    from django.utils import timezone

    from signalpost.notify.models import Subscriber
    from signalpost.status import services

    began = time.monotonic()
    services.update_page(name="Bench Status", time_zone="Europe/Zurich")
    services.create_component(name="API")
    now = timezone.now()
    rows = [Subscriber(channel="email", address=f"reader{n}@example.com", address_key=f"reader{n}@example.com",
                       confirmed_at=now) for n in range(emails)]
    rows += [Subscriber(channel="webhook", address=f"http://127.0.0.1:{receiver_port}/hook/{n}",
                        address_key=f"http://127.0.0.1:{receiver_port}/hook/{n}", confirmed_at=now,
                        secret="whsec_" + "A" * 43 + "=") for n in range(webhooks)]
    Subscriber.objects.bulk_create(rows, batch_size=5000)
    return {"load_seconds": time.monotonic() - began}


def open_incident() -> dict:
    import django

    django.setup()
    from django.db import transaction

    from signalpost.status import services
    from signalpost.status.models import Component

    with transaction.atomic():
        incident = services.open_incident(
            name="Elevated error rates on the API", impact="major",
            body="We are investigating **elevated error rates** on the API. Next update in 30 minutes.",
            components={Component.objects.get(): "major_outage"})
    # The size of one such message, for the bare loop to send as many bytes.
    from django.utils import timezone

    from signalpost.events.models import Event
    from signalpost.notify import email
    from signalpost.notify.models import Subscriber

    event = Event.objects.filter(kind="incident.opened").latest("id")
    rendered = email.render(event.kind, email.context_for(event.kind, event.data))
    subscriber = Subscriber.objects.filter(channel="email").first()
    size = len(email.message_bytes(rendered, key=f"{event.pk}.{subscriber.pk}", to=subscriber.address,
                                   subscriber=subscriber, at=timezone.now()))
    return {"incident": incident.public_id, "message_bytes": size}


def bare(port: int, count: int, connections: int, size: int) -> dict:
    """The ceiling: the same number of messages of the same size over as many aiosmtplib connections, built
    once, nothing rendered, nothing recorded."""
    import aiosmtplib

    body = ("From: bench@example.com\r\nTo: {to}\r\nSubject: Elevated error rates on the API\r\n"
            "Message-ID: <{n}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
    body = body + ("y" * 76 + "\r\n") * max(0, (size - len(body)) // 78)

    async def main() -> float:
        queue: asyncio.Queue = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)

        async def one() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
            await client.connect()
            while not queue.empty():
                n = queue.get_nowait()
                to = f"reader{n}@example.com"
                await client.sendmail("bench@example.com", [to], body.format(to=to, n=n).encode())
            await client.quit()

        began = time.monotonic()
        await asyncio.gather(*(one() for _ in range(connections)))
        return time.monotonic() - began

    import resource

    seconds = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "per_second": count / seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime}


# --- the run --------------------------------------------------------------------------------------------


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Fanout(Harness):
    def __init__(self, args: argparse.Namespace):
        super().__init__()
        self.args = args
        self.results: dict = {}

    def helper(self, *argv: str) -> dict:
        result = subprocess.run([sys.executable, __file__, *argv], env=self.env, capture_output=True, text=True,
                                timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def run(self) -> None:
        args = self.args
        self.results.update(machine=machine_facts(), date=date.today().isoformat(), load_before=load_average(),
                            emails=args.emails, webhooks=args.webhooks, sinks=args.sinks,
                            connections=args.connections, batch=args.batch, workers=args.workers)
        self.create_database()
        self.signalpost("migrate")
        smtp_port, receiver_port = free_port(), free_port()
        for n in range(args.sinks):
            self.start(f"sink{n}", [sys.executable, __file__, "--sink", str(smtp_port)])
        self.start("receiver", [sys.executable, __file__, "--receiver", str(receiver_port)])
        loaded = self.helper("--load", str(args.emails), str(args.webhooks), str(receiver_port))
        self.log(f"{args.emails:,} e-mail and {args.webhooks:,} webhook subscribers loaded in "
                 f"{loaded['load_seconds']:.1f} s")
        env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "SIGNALPOST_OUTBOUND_ALLOW": "127.0.0.1/32",
               "SIGNALPOST_NOTIFY_SMTP_CONNECTIONS": str(args.connections), "SIGNALPOST_NOTIFY_BATCH": str(args.batch),
               "LOG_LEVEL": "INFO"}
        self.env.update(env)
        worker = self.start("worker", [sys.executable, "-m", "signalpost", "worker", "--only", "notifier",
                                       "--only", "deliveries"])
        extra = [self.start(f"deliveries{n}", [sys.executable, "-m", "signalpost", "worker", "--only", "deliveries"])
                 for n in range(1, args.workers)]
        time.sleep(3)  # the workers' imports and their first (empty) passes
        cpu_before = group_cpu_seconds(worker.pid) + sum(group_cpu_seconds(p.pid) for p in extra)
        total = args.emails + args.webhooks
        opened = self.helper("--open")
        self.log(f"incident {opened['incident']} opened; waiting for {total:,} deliveries")
        began = time.monotonic()
        while time.monotonic() - began < args.timeout:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log_text('worker')[-3000:]}")
            done = self.sql("SELECT count(*) FROM notify_delivery WHERE state <> 'pending'")[0][0]
            if done >= total:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"not every delivery was sent within {args.timeout:.0f} s")
        self.results["cpu_seconds"] = (group_cpu_seconds(worker.pid) + sum(group_cpu_seconds(p.pid) for p in extra)
                                       - cpu_before)
        self.results["peak_mib"] = max(peak_memory_mib(p.pid) for p in [worker, *extra])
        rows = self.sql("""
            SELECT d.channel, count(*) FILTER (WHERE d.state = 'sent'), count(*),
                   EXTRACT(EPOCH FROM max(d.sent_at) - e.recorded_at), EXTRACT(EPOCH FROM min(d.created_at) - e.recorded_at),
                   EXTRACT(EPOCH FROM max(d.created_at) - e.recorded_at)
            FROM notify_delivery d JOIN events_event e ON e.id = d.event_id GROUP BY d.channel, e.recorded_at""")
        self.results["channels"] = {channel: {"sent": sent, "total": count, "last_s": float(last),
                                              "made_from_s": float(first_made), "made_by_s": float(last_made)}
                                    for channel, sent, count, last, first_made, last_made in rows}
        self.results["last_s"] = max(c["last_s"] for c in self.results["channels"].values())
        self.results["made_s"] = float(self.sql("""
            SELECT EXTRACT(EPOCH FROM h.done_at - e.recorded_at) FROM events_handling h
            JOIN events_event e ON e.id = h.event_id WHERE h.consumer = 'notifier' AND e.kind = 'incident.opened'""")[0][0])
        self.results["per_second"] = total / self.results["last_s"]
        self.results["load_after"] = load_average()
        self.stop("worker")
        phases = re.findall(r"batch of (\d+): claimed in (\d+) ms, written in (\d+) ms, sent in (\d+) ms, "
                            r"recorded in (\d+) ms", "".join(self.log_text(n) for n in ["worker", *(
                                f"deliveries{k}" for k in range(1, args.workers))]))
        if phases:
            names = ("claim", "write", "send", "record")
            self.results["phases_ms"] = {name: sum(int(p[i + 1]) for p in phases) / len(phases)
                                         for i, name in enumerate(names)}
            self.results["batches"] = len(phases)
        for n in range(1, args.workers):
            self.stop(f"deliveries{n}")
        self.log("the bare aiosmtplib loop, the same number of messages ...")
        # As many connections as the workers had between them: the ceiling for the same parallelism.
        self.results["bare"] = self.helper("--bare", str(smtp_port), str(args.emails),
                                           str(args.connections * args.workers), str(opened["message_bytes"]))
        email = self.results["channels"].get("email", {})
        if email:
            self.results["email_per_second"] = email["total"] / email["last_s"]
            self.results["ratio"] = self.results["email_per_second"] / self.results["bare"]["per_second"]


def figures(results: dict) -> str:
    lines = [f"{results['emails']:,} e-mails and {results['webhooks']:,} webhooks from one update "
             f"({results['sinks']} SMTP sink processes, {results['connections']} SMTP connections, batches of "
             f"{results['batch']}, {results['workers']} delivery worker process{'es' if results['workers'] > 1 else ''})"]
    for channel, c in sorted(results["channels"].items()):
        lines.append(f"  {channel}: {c['sent']:,} of {c['total']:,} sent; last {c['last_s']:.1f} s after the update "
                     f"({c['total'] / c['last_s']:,.0f}/s)")
    lines.append(f"  deliveries made by {results['made_s']:.1f} s; every message sent by {results['last_s']:.1f} s "
                 f"({results['per_second']:,.0f} messages/s)")
    total = results["emails"] + results["webhooks"]
    lines.append(f"  worker CPU {results['cpu_seconds']:.1f} s ({results['cpu_seconds'] / total * 1000:.2f} ms a message), "
                 f"peak memory {results['peak_mib']:.0f} MiB")
    if "ratio" in results:
        bare = results["bare"]
        lines.append(f"  bare aiosmtplib loop: {bare['per_second']:,.0f}/s, CPU {bare['cpu_seconds']:.1f} s "
                     f"({bare['cpu_seconds'] / results['emails'] * 1000:.2f} ms a message); Signalpost's e-mail rate "
                     f"is {results['ratio']:.2f} of it")
    if "phases_ms" in results:
        lines.append(f"  a batch on average ({results['batches']} batches): " + ", ".join(
            f"{name} {ms:.0f} ms" for name, ms in results["phases_ms"].items()))
    lines.append(f"  load average {results['load_before']:.1f} before, {results['load_after']:.1f} after")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    m = results["machine"]
    email = results["channels"].get("email", {})
    rows = "\n".join(f"| {channel} | {c['sent']:,} of {c['total']:,} | {c['last_s']:.1f} s | {c['total'] / c['last_s']:,.0f} |"
                     for channel, c in sorted(results["channels"].items()))
    aims = [("all e-mails handed to SMTP within 60 s", f"{email.get('last_s', float('nan')):.1f} s",
             email.get("last_s", 1e9) <= 60),
            ("at least 0.7× the bare loop's rate", f"{results.get('ratio', float('nan')):.2f}×", results.get("ratio", 0) >= 0.7),
            ("memory under 500 MB", f"{results['peak_mib']:.0f} MiB", results["peak_mib"] < 500)]
    aim_rows = "\n".join(f"| {a} | {v} | {'met' if ok else 'missed'} |" for a, v, ok in aims)
    return f"""## The notification fan-out (`bench/fanout.py`, {results['date']})

One incident update to {results['emails']:,} e-mail subscribers and {results['webhooks']:,} webhooks, sent by
`signalpost worker --only notifier --only deliveries` on PostgreSQL ({results['workers']} delivery worker
process{'es' if results['workers'] > 1 else ''}, peak memory per process): e-mail to {results['sinks']} aiosmtpd sink
processes sharing one port, over {results['connections']} kept-open SMTP connections, in batches of
{results['batch']}; webhooks to one local aiohttp receiver. Times count from the update's event being recorded.
The ceiling is a bare aiosmtplib loop sending as many messages of about the same size over as many
connections to the same sinks ({results['connections'] * results['workers']}: the workers' together),
rendering and recording nothing.

Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, PostgreSQL {m['postgresql']},
commit {m['commit']}. Load average {results['load_before']:.1f} before the run, {results['load_after']:.1f} after
(other work on the machine moves these figures).

| channel | sent | last delivery | per second |
|---|---|---|---|
{rows}

Deliveries made (the notifier's one transaction) by {results['made_s']:.1f} s; every message sent by
{results['last_s']:.1f} s, {results['per_second']:,.0f} messages/s overall. Worker CPU {results['cpu_seconds']:.1f} s,
peak memory {results['peak_mib']:.0f} MiB ({results['cpu_seconds'] / (results['emails'] + results['webhooks']) * 1000:.2f} ms
of CPU a message, everything included: claiming, rendering the links, sending, recording). Bare loop:
{results['bare']['per_second']:,.0f} e-mails/s, {results['bare']['cpu_seconds'] / results['emails'] * 1000:.2f} ms of CPU a message.

Where a batch's time goes (the worker's log, averaged over {results.get('batches', 0)} batches): """ + ", ".join(
        f"{name} {ms:.0f} ms" for name, ms in results.get("phases_ms", {}).items()) + f""".

| aim | measured | |
|---|---|---|
{aim_rows}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--sinks", type=int, default=3, help="aiosmtpd processes on the one port (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections (default 4, as the setting)")
    parser.add_argument("--batch", type=int, default=500, help="SIGNALPOST_NOTIFY_BATCH (default 500)")
    parser.add_argument("--workers", type=int, default=1, help="delivery worker processes (default 1)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=3, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--open", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return 0
    if args.receiver:
        run_receiver(args.receiver)
        return 0
    if args.load:
        print(json.dumps(load(*args.load)))
        return 0
    if args.open:
        print(json.dumps(open_incident()))
        return 0
    if args.bare:
        print(json.dumps(bare(*args.bare)))
        return 0
    bench = Fanout(args)
    if code := run_cleanly(bench, bench.run):
        return code
    print("\n" + figures(bench.results))
    if args.write_docs:
        print(f"wrote {write_doc_section('fanout', markdown(bench.results)).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
