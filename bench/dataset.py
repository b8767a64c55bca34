"""The benchmark's page: 50 components in 8 groups and past incidents over two years, loaded through the
services into the database Django is set up against (bench/public_read.py runs it in a subprocess)."""

import os
import random
import time
from datetime import datetime, timedelta

GROUPS = ["Switzerland", "Germany", "France", "Netherlands", "Finland", "United States", "Singapore", "Platform"]
KINDS = ["single", "compact", "cluster", "storage", "network", "dns", "lb"]
IMPACT_STATUS = {"none": "degraded_performance", "minor": "degraded_performance",
                 "major": "partial_outage", "critical": "major_outage"}
SENTENCES = [
    "We are investigating reports of elevated error rates.",
    "Some customers may see timeouts when connecting to their instances.",
    "The issue has been identified as a failing storage node and a fix is being rolled out.",
    "Traffic has been moved to healthy hosts; we keep monitoring the situation.",
    "A configuration change caused the load balancers to drop a share of new connections.",
    "Network latency between the two zones is higher than usual.",
    "Deployments are queued and will be processed once the backlog clears.",
    "The upstream provider confirmed the problem and is working on it.",
    "Affected virtual machines have been restarted on other hypervisors.",
    "Error rates are back to normal levels.",
]


def load_data(incidents: int, full_publish: bool) -> dict:
    """The page readers see in the benchmark: 50 components in 8 groups, past incidents over two years,
    a few open incidents and maintenance windows, published once at the end. Returns the timings."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")
    django.setup()
    from django.utils import timezone

    from signalpost.public import snapshot

    if not full_publish:
        # The deferred publication would render every incident's own page and every month of history
        # (minutes for 2,000 incidents); the benchmark reads only the core pages, which publish() renders.
        core_only = snapshot.publish
        snapshot.publish = lambda incident_ids=(), everything=False: core_only()
    rng = random.Random(2024)
    now = timezone.now().replace(microsecond=0)
    began = time.perf_counter()
    with snapshot.publishing_deferred():
        _load(rng, now, incidents)
        loaded = time.perf_counter()
    return {"load_seconds": loaded - began, "publish_seconds": time.perf_counter() - loaded}


def _past_incident(rng: random.Random, now: datetime, n: int, incidents: int, components: list) -> dict:
    span = timedelta(days=730)
    started = now - timedelta(days=1) - span + span * (n + rng.random()) / incidents
    duration = timedelta(minutes=rng.choice([4, 12, 25, 47, 90, 180, 360]))
    impact = rng.choices(["none", "minor", "major", "critical"], [1, 5, 3, 1])[0]
    affected = rng.sample(components, rng.choice([0, 1, 1, 2, 3]))
    steps = ["identified", "monitoring"][: rng.randint(0, 2)]  # 2-4 updates with the first and the resolution
    return {
        "name": f"[{affected[0].group.name if affected else 'All'}] " + rng.choice(
            ["Elevated error rates", "Degraded performance", "Connectivity issues", "Partial outage",
             "Slow API responses", "Delayed deployments"]),
        "started_at": started, "resolved_at": started + duration, "impact": impact,
        "body": " ".join(rng.sample(SENTENCES, 2)), "resolution_body": "This incident has been resolved.",
        "components": {c: IMPACT_STATUS[impact] for c in affected},
        "updates": [{"status": st, "body": " ".join(rng.sample(SENTENCES, 2)),
                     "display_at": started + duration * (i + 1) / (len(steps) + 1)} for i, st in enumerate(steps)],
        "now": started + duration + timedelta(minutes=5),
    }


def _load(rng: random.Random, now: datetime, incidents: int) -> None:
    from django.db import transaction

    from signalpost.status import services

    with transaction.atomic():
        services.update_page(name="Benchmark Hosting Status", time_zone="Europe/Zurich")
        components = []
        for n, name in enumerate(GROUPS):
            group = services.create_group(name=name)
            for k in range(7 if n < 2 else 6):  # 2 × 7 + 6 × 6 = 50
                components.append(services.create_component(name=f"{name[:2].lower()}{k + 1}.{KINDS[k]}", group=group))
    for chunk in range(0, incidents, 100):  # a commit per 100: a bulk import, not 2,000 separate requests
        with transaction.atomic():
            for n in range(chunk, min(chunk + 100, incidents)):
                services.backfill_incident(**_past_incident(rng, now, n, incidents, components))
    with transaction.atomic():
        for n, (impact, status) in enumerate([("major", "identified"), ("minor", "investigating"), ("minor", "monitoring")]):
            began = now - timedelta(hours=n + 1)
            component = components[n * 7]
            incident = services.open_incident(
                name=f"{['Elevated error rates', 'Slow API responses', 'Delayed deployments'][n]} on {component.name}",
                impact=impact, body=SENTENCES[n], components={component: IMPACT_STATUS[impact]}, display_at=began,
                now=began,
            )
            if status != "investigating":
                at = now - timedelta(minutes=30)
                services.post_update(incident, status=status, body=SENTENCES[n + 3], display_at=at, now=at)
        running = services.schedule_maintenance(
            name="Storage firmware upgrade", scheduled_for=now - timedelta(minutes=30),
            scheduled_until=now + timedelta(hours=3), body="Rolling firmware upgrade of the storage nodes.",
            components=components[10:13], now=now - timedelta(days=7),
        )
        services.start_maintenance(running, now=now - timedelta(minutes=30))
        for days in (3, 10):
            services.schedule_maintenance(
                name=f"Network maintenance in {days} days", scheduled_for=now + timedelta(days=days),
                scheduled_until=now + timedelta(days=days, hours=2), body="Core router software upgrade.",
                components=components[20 + days:22 + days], now=now - timedelta(days=1),
            )


