"""The benchmarks' page: 50 components in 8 groups, past resolved incidents, a few open incidents and
maintenance windows, loaded into the database Django is set up against (the benchmarks run it in a
subprocess).

The page, its groups and components, the open incidents and the maintenance go through the status
services, as a responder would enter them. The past incidents are loaded in bulk with PostgreSQL's COPY:
the rows `services.backfill_incident` writes (status_incident, status_incidentupdate,
status_incidentcomponent, status_affectedcomponent), so that 100,000 of them load in seconds instead of
the hour the services would take. What the services also write for each one, and a bulk import is not,
is left out: the audit entry and the `incident.backfilled` event (nobody needs to be told of history; the
benchmark publishes every page itself afterwards).

Only the events of the page and its components are published here, before the history is loaded (see
load_data); publishing the rest is the publisher's work (`signalpost publish`, or a worker).
"""

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
TITLES = ["Elevated error rates", "Degraded performance", "Connectivity issues", "Partial outage",
          "Slow API responses", "Delayed deployments"]
ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # status.models.new_public_id's
SPAN_DAYS = 730  # the past incidents spread over two years, ending a day ago


def load_data(incidents: int, span_days: int = SPAN_DAYS) -> dict:
    """Load the page with `incidents` past incidents over `span_days`. Returns what was loaded and how
    long each part took (seconds)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from signalpost.events import consumers
    from signalpost.events.work import drain

    rng = random.Random(2024)
    now = timezone.now().replace(microsecond=0)
    began = time.perf_counter()
    components = _page(rng)
    # The page and its components existed before their history: their events are published now, while no
    # incident names them (handled after the bulk load, a component's event would render every page of
    # the incidents that name it, 80,000 of them at 100,000 incidents, in one publication).
    drain(consumers.get("publisher"))
    built = time.perf_counter()
    rows = bulk_past_incidents(rng, now, incidents, components, span_days)
    copied = time.perf_counter()
    _open_events(now, components)
    with connection.cursor() as cursor:  # fresh statistics: the planner sees 100,000 rows, not an empty table
        cursor.execute("ANALYZE")
    return {"components_seconds": built - began, "bulk_seconds": copied - built,
            "open_seconds": time.perf_counter() - copied, "load_seconds": time.perf_counter() - began,
            "rows": rows, "incidents": incidents, "span_days": span_days}


def _page(rng: random.Random) -> list:
    from django.db import transaction

    from signalpost.status import services

    with transaction.atomic():
        services.update_page(name="Benchmark Hosting Status", time_zone="Europe/Zurich")
        components = []
        for n, name in enumerate(GROUPS):
            group = services.create_group(name=name)
            for k in range(7 if n < 2 else 6):  # 2 × 7 + 6 × 6 = 50
                components.append(services.create_component(name=f"{name[:2].lower()}{k + 1}.{KINDS[k]}", group=group))
    for component in components:
        component.group  # noqa: B018 - loaded once, named in the incidents' titles
    return components


# --- past incidents in bulk ----------------------------------------------------------------------


def _public_id(rng: random.Random) -> str:
    return "".join(rng.choices(ID_ALPHABET, k=12))


def _past_incident(rng: random.Random, now: datetime, n: int, incidents: int, components: list, span: timedelta) -> dict:
    """One past incident as `services.backfill_incident` would be called for it."""
    started = now - timedelta(days=1) - span + span * ((n + rng.random()) / incidents)
    duration = timedelta(minutes=rng.choice([4, 12, 25, 47, 90, 180, 360]))
    impact = rng.choices(["none", "minor", "major", "critical"], [1, 5, 3, 1])[0]
    affected = rng.sample(components, rng.choice([0, 1, 1, 2, 3]))
    steps = ["identified", "monitoring"][: rng.randint(0, 2)]  # 2-4 updates with the first and the resolution
    return {
        "name": f"[{affected[0].group.name if affected else 'All'}] " + rng.choice(TITLES),
        "started_at": started, "resolved_at": started + duration, "impact": impact,
        "body": " ".join(rng.sample(SENTENCES, 2)), "resolution_body": "This incident has been resolved.",
        "components": {c: IMPACT_STATUS[impact] for c in affected},
        "updates": [{"status": st, "body": " ".join(rng.sample(SENTENCES, 2)),
                     "display_at": started + duration * (i + 1) / (len(steps) + 1)} for i, st in enumerate(steps)],
        "now": started + duration + timedelta(minutes=5),  # when it was entered
    }


class _Table:
    """Rows for one model's table, with every column the model has: the ones given, and the model's
    defaults for the rest (so that a field added later loads with its default)."""

    def __init__(self, model, given: list[str]):
        from django.db import connection

        self.model = model
        fields = [f for f in model._meta.concrete_fields]
        by_name = {f.attname: f for f in fields}
        unknown = [name for name in given if name not in by_name]
        if unknown:
            raise LookupError(f"{model.__name__} has no field {unknown[0]}")
        self.given = given
        rest = [f for f in fields if f.attname not in given]
        self.columns = [by_name[name].column for name in given] + [f.column for f in rest]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) if f.has_default() or f.null else _no_default(f)
                              for f in rest)
        self.rows: list[tuple] = []

    def add(self, *values) -> None:
        self.rows.append(values + self.defaults)

    def copy(self, cursor) -> int:
        table = self.model._meta.db_table
        with cursor.copy(f'COPY "{table}" ({", ".join(chr(34) + c + chr(34) for c in self.columns)}) FROM STDIN') as copy:
            for row in self.rows:
                copy.write_row(row)
        count = len(self.rows)
        self.rows = []
        return count


def _no_default(field):
    raise LookupError(f"{field.model.__name__}.{field.name} has no default: the bulk loader must be told its value")


def bulk_past_incidents(rng: random.Random, now: datetime, incidents: int, components: list,
                        span_days: int = SPAN_DAYS) -> dict:
    """COPY `incidents` past incidents with their updates and components, row for row what
    `services.backfill_incident` writes for each: the incident (resolved, retroactive), a first update
    (investigating) giving the affected components the incident's status, 0-2 updates in between, the
    resolution putting them back to operational; each update's component changes as rows."""
    from django.db import connection, transaction

    from signalpost.status.models import (
        AffectedComponent,
        Component,
        Incident,
        IncidentComponent,
        IncidentUpdate,
    )

    span = timedelta(days=span_days)
    tables = {
        "incident": _Table(Incident, ["id", "public_id", "kind", "name", "status", "impact", "retroactive",
                                      "started_at", "monitoring_at", "resolved_at", "created_at", "updated_at"]),
        "update": _Table(IncidentUpdate, ["id", "public_id", "incident_id", "status", "body", "display_at",
                                          "created_at", "updated_at", "deliver_notifications"]),
        "link": _Table(IncidentComponent, ["id", "incident_id", "component_id", "status"]),
        "change": _Table(AffectedComponent, ["id", "update_id", "component_id", "old_status", "new_status"]),
    }
    models = {"incident": Incident, "update": IncidentUpdate, "link": IncidentComponent, "change": AffectedComponent}
    counts = dict.fromkeys(tables, 0)
    with transaction.atomic(), connection.cursor() as cursor:
        next_id = {}
        for name, model in models.items():
            cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{model._meta.db_table}"')
            next_id[name] = cursor.fetchone()[0] + 1
        touched: dict[int, datetime] = {}
        for n in range(incidents):
            spec = _past_incident(rng, now, n, incidents, components, span)
            entered = spec["now"]
            incident_id = next_id["incident"]
            next_id["incident"] += 1
            monitoring_at = next((u["display_at"] for u in spec["updates"] if u["status"] == "monitoring"), None)
            tables["incident"].add(incident_id, _public_id(rng), "incident", spec["name"], "resolved", spec["impact"],
                                   True, spec["started_at"], monitoring_at, spec["resolved_at"], entered, entered)
            updates = ([("investigating", spec["body"], spec["started_at"], spec["components"])]
                       + [(u["status"], u["body"], u["display_at"], {}) for u in spec["updates"]]
                       + [("resolved", spec["resolution_body"], spec["resolved_at"],
                           {c: "operational" for c in spec["components"]})])
            current: dict = {}
            for status, body, display_at, statuses in updates:
                update_id = next_id["update"]
                next_id["update"] += 1
                tables["update"].add(update_id, _public_id(rng), incident_id, status, body, display_at, entered,
                                     entered, False)
                for component, new_status in statuses.items():
                    tables["change"].add(next_id["change"], update_id, component.pk,
                                         current.get(component, "operational"), new_status)
                    next_id["change"] += 1
                    current[component] = new_status
                    touched[component.pk] = entered
            for component, status in current.items():
                tables["link"].add(next_id["link"], incident_id, component.pk, status)
                next_id["link"] += 1
            if n % 5000 == 4999:
                for name in ("incident", "update", "link", "change"):  # parents first: the foreign keys
                    counts[name] += tables[name].copy(cursor)
        for name in ("incident", "update", "link", "change"):
            counts[name] += tables[name].copy(cursor)
        for name, model in models.items():  # the ids were given: move each sequence past them
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                           f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
        for pk, at in touched.items():  # apply_components moves the component's updated_at
            Component.objects.filter(pk=pk, updated_at__lt=at).update(updated_at=at)
    return counts


# --- the open events, through the services -------------------------------------------------------


def _open_events(now: datetime, components: list) -> None:
    from django.db import transaction

    from signalpost.status import services

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
