"""The publisher: the consumer that keeps the snapshot in step with the record.

It takes every event, works out exactly the pages the event changes, renders them once for the whole
batch and stores what changed (snapshot.py). A write therefore returns as soon as it has committed,
and time reaches the snapshot the same way: the worker's clock records events at midnight and every
few minutes (relative times, today's uptime bar), and a maintenance that starts or completes is an
event of its own.

Some events change every page: the page's settings, the order of its components, the reliability
report switched on or off, an upgrade (`signalpost migrate`). Republishing thousands of pages is
done in steps of a few seconds, each stored as it is done and its progress kept, so that the events
of an outage keep flowing between the steps and a restart resumes where it stopped. Readers get the
previous bytes of a page until its new ones are stored.

A page that fails to render keeps its previous bytes; the events that needed it are retried with
back-off and, when their attempts run out, set aside with the page named (on /healthz and the
console's dashboard) until someone retries them.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from signalpost.events.consumers import Consumer
from signalpost.events.record import record as record_event
from signalpost.events.work import Continue, Done, Failed, Outcome, Work
from signalpost.postmortems import public_report
from signalpost.postmortems.models import Postmortem, State
from signalpost.presentation.zone import page_zone
from signalpost.status import readable
from signalpost.status.models import Component, Incident, IncidentComponent, Kind, Page

from . import feeds, snapshot

log = logging.getLogger("signalpost.publish")

# The kinds of event that change what readers see (an invitation or a password reset changes nothing).
KINDS = ("incident.", "maintenance.", "component.", "group.", "page.", "postmortem.", "reliability.", "clock.",
         "snapshot.")
CONSUMER = Consumer(name="publisher", handler="signalpost.public.publisher.handle", kinds=KINDS, batch=True,
                    batch_size=500, lease_seconds=120)

# Events after which every page is rendered again (in steps).
EVERYTHING = {"page.changed", "snapshot.republish"}
STEP_SECONDS = 2.0  # a step of a republish; other events are published between steps
STEP_PAGES = 400


# --- which pages an event changes ---------------------------------------------------------------


def incident_path(kind: str, public_id: str) -> str:
    return f"/{'maintenance' if kind == Kind.MAINTENANCE else 'incidents'}/{public_id}"


def _incident_pages(incidents: Iterable[tuple[str, str, datetime | None]], zone) -> list[str]:
    """Each incident's page and its month in the history, from (kind, public_id, began_at)."""
    paths = []
    for kind, public_id, began in incidents:
        paths.append(incident_path(kind, public_id))
        if began is not None:
            paths.append(snapshot.month_path(began, zone))
    return paths


def _incidents_by_public_id(public_ids: Iterable[str]) -> list[tuple[str, str, datetime | None]]:
    rows = Incident.objects.filter(readable.incidents(), public_id__in=list(public_ids)).values_list(
        "kind", "public_id", "started_at", "scheduled_for", "created_at")
    return [(kind, pid, started or scheduled or created) for kind, pid, started, scheduled, created in rows]


def _postmortem_pages(incident_public_ids: Iterable[str] = (), postmortem_ids: Iterable[str] = ()) -> list[str]:
    """The page and the Markdown of each postmortem shown publicly (published, or withdrawn: its page
    then says so) that covers these incidents, or is one of these."""
    from django.db.models import Q

    shown = Postmortem.objects.filter(Q(status=State.PUBLISHED) | Q(withdrawn_at__isnull=False))
    shown = shown.filter(Q(incidents__public_id__in=list(incident_public_ids)) | Q(public_id__in=list(postmortem_ids)))
    paths = []
    for public_id in shown.values_list("public_id", flat=True).distinct():
        paths += [f"/postmortems/{public_id}", f"/postmortems/{public_id}.md"]
    return paths


def _component_feeds(component_ids: Iterable[str] = (), incident_ids: Iterable[str] = ()) -> list[str]:
    """The feeds of these components and of every component these incidents name (an entry names
    all of an incident's components, so a renamed one changes the feeds of the others too)."""
    named = set(component_ids)
    incident_ids = list(incident_ids)
    if incident_ids:
        named |= set(IncidentComponent.objects.filter(incident__public_id__in=incident_ids)
                     .values_list("component__public_id", flat=True))
    return [path for public_id in sorted(named) for path in feeds.component_feeds(public_id)]


def _clock_pages(now: datetime) -> list[str]:
    """What time alone changes: relative times and today's bars on the front page and the open events'
    pages, the current month, and the reliability report's figures."""
    open_events = Incident.objects.filter(resolved_at__isnull=True).values_list("kind", "public_id")
    return [incident_path(kind, public_id) for kind, public_id in open_events] + report_pages()


def report_pages() -> list[str]:
    return [public_report.PUBLIC_PATH] if public_report.is_public() else []


def pages_for(event, now: datetime, zone) -> list[str]:
    """The pages one event changes (EVERYTHING aside). The front page, the history's current month and
    the /api/v2 payloads show the page's state: every event changes them."""
    kind, data = event.kind, event.data
    paths = list(snapshot.CORE_PATHS) + [snapshot.month_path(now, zone)]
    if kind.startswith(("incident.", "maintenance.")):
        public_id = data.get("incident")
        paths += _incident_pages(_incidents_by_public_id([public_id]), zone)
        paths += _postmortem_pages(incident_public_ids=[public_id])
        paths += feeds.PAGE_FEEDS + _component_feeds(data.get("components") or (), [public_id])
    elif kind.startswith(("component.", "group.")):
        component_ids = ([data["component"]] if data.get("component") else []) + list(data.get("components", []))
        linked = IncidentComponent.objects.filter(component__public_id__in=component_ids)
        if kind.startswith("group.") and data.get("group"):
            linked = IncidentComponent.objects.filter(component__group__public_id=data["group"])
            component_ids += list(Component.objects.filter(group__public_id=data["group"])
                                  .values_list("public_id", flat=True))
        incident_ids = set(linked.values_list("incident__public_id", flat=True))
        paths += _incident_pages(_incidents_by_public_id(incident_ids), zone)
        paths += _postmortem_pages(incident_public_ids=incident_ids)
        paths += feeds.PAGE_FEEDS + _component_feeds(component_ids, incident_ids)
    elif kind.startswith("postmortem."):
        incident_ids = data.get("incidents", [])
        paths += _incident_pages(_incidents_by_public_id(incident_ids), zone)
        paths += _postmortem_pages(incident_public_ids=incident_ids, postmortem_ids=[data.get("postmortem")])
        paths += report_pages()
        paths += feeds.PAGE_FEEDS + _component_feeds(incident_ids=incident_ids)
    elif kind == "reliability.changed":
        paths += [public_report.PUBLIC_PATH]
    elif kind.startswith("clock."):
        paths += _clock_pages(now)
    elif kind == "snapshot.pages":
        paths += list(data.get("paths", []))
    return paths


def changes_everything(event) -> bool:
    if event.kind in EVERYTHING:
        return True
    # The report switched on or off adds or removes its link in every page's footer.
    if event.kind == "reliability.changed":
        return (event.data.get("before") or {}).get("public") != (event.data.get("after") or {}).get("public")
    return False


# --- every page, in steps -----------------------------------------------------------------------


def _months(zone, now: datetime) -> list[str]:
    from django.db.models import Max, Min

    from .pages import BEGINS_AT

    bounds = (Incident.objects.filter(readable.incidents()).annotate(begins=BEGINS_AT)
              .aggregate(earliest=Min("begins"), latest=Max("begins")))
    page = Page.objects.filter(pk=1).first()
    first = min(filter(None, [bounds["earliest"], page.created_at if page else None, now]))
    # up to the last month anything is scheduled in: the history links to it
    local, last = first.astimezone(zone), max(filter(None, [bounds["latest"], now])).astimezone(zone)
    year, month, months = local.year, local.month, []
    while (year, month) <= (last.year, last.month):
        months.append(f"/history/{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _republish_step(progress: dict | None, now: datetime, zone) -> tuple[list[str], dict | None]:
    """The next step of a republish: (paths, progress after it), progress None once it is done.
    Phases: the core pages, branding, months and the page's feeds; then the incidents and maintenance
    by id; then the postmortems by id; then each component's feeds."""
    progress = dict(progress or {"phase": "core", "after": 0, "done": 0})
    if progress["phase"] == "core":
        paths = (list(snapshot.CORE_PATHS) + [snapshot.NOT_FOUND_PATH] + _months(zone, now) + report_pages()
                 + feeds.PAGE_FEEDS)
        progress.update(phase="incidents", after=0, done=progress["done"] + len(paths))
        return paths, progress
    if progress["phase"] == "incidents":
        rows = list(Incident.objects.filter(pk__gt=progress["after"]).order_by("pk")
                    .values_list("pk", "kind", "public_id")[:STEP_PAGES])
        if rows:
            progress.update(after=rows[-1][0], done=progress["done"] + len(rows))
            return [incident_path(kind, public_id) for _, kind, public_id in rows], progress
        progress.update(phase="postmortems", after=0)
    if progress["phase"] == "postmortems":
        rows = list(Postmortem.objects.filter(pk__gt=progress["after"]).order_by("pk")
                    .values_list("pk", "public_id")[:STEP_PAGES // 2])
        if rows:
            progress.update(after=rows[-1][0], done=progress["done"] + 2 * len(rows))
            return [p for _, public_id in rows for p in (f"/postmortems/{public_id}", f"/postmortems/{public_id}.md")], progress
        progress.update(phase="feeds", after=0)
    rows = list(Component.objects.filter(pk__gt=progress["after"]).order_by("pk")
                .values_list("pk", "public_id")[:STEP_PAGES // 2])
    if not rows:
        return [], None
    progress.update(after=rows[-1][0], done=progress["done"] + 2 * len(rows))
    return [p for _, public_id in rows for p in feeds.component_feeds(public_id)], progress


def _total_pages() -> int:
    return Incident.objects.count() + 2 * Postmortem.objects.count() + 2 * Component.objects.count() + len(feeds.PAGE_FEEDS)


# --- the handler ----------------------------------------------------------------------------------


def _retired(rendering: snapshot.Rendering) -> list[str]:
    """Pages published once and no longer: the reliability report, switched off; the feeds of a
    component hidden or removed."""
    retired = [] if public_report.is_public() else [public_report.PUBLIC_PATH]
    return retired + sorted(p for p in rendering.missing if feeds.is_component_feed(p))


def _publish(paths: list[str], now: datetime, *, with_logo: bool = False) -> snapshot.Rendering:
    rendering = snapshot.render_all(paths, now)
    if any(path in rendering.failed for path in snapshot.API_PATHS):
        # The /api/v2 payloads are one reading of the page: published together or not at all, so that
        # summary.json, status.json and components.json never contradict each other.
        for path in snapshot.API_PATHS:
            if rendering.pages.pop(path, None) is not None:
                rendering.failed.setdefault(path, "held back: another /api/v2 payload failed to render")
    page = Page.objects.filter(pk=1).first()
    files = list(rendering.pages.values()) + snapshot.brand_files(page, with_logo=with_logo)
    snapshot.store(files, retire=_retired(rendering), now=now)
    return rendering


def _failure(paths: Iterable[str], rendering: snapshot.Rendering) -> Failed | None:
    failed = {p: rendering.failed[p] for p in paths if p in rendering.failed}
    if not failed:
        return None
    first, error = next(iter(failed.items()))
    more = f" (and {len(failed) - 1} more pages)" if len(failed) > 1 else ""
    return Failed(f"rendering {first} failed: {error}{more}", progress={"failed_pages": failed})


def handle(items: list[Work]) -> dict[int, Outcome]:
    """One batch: every targeted event's pages rendered once, then one step of the oldest republish."""
    now = timezone.now()
    zone = page_zone(Page.objects.filter(pk=1).first() or Page(time_zone="UTC"))
    outcomes: dict[int, Outcome] = {}
    targeted = [w for w in items if not changes_everything(w.event)]
    everything = [w for w in items if changes_everything(w.event)]
    with snapshot.publication_lock():
        if targeted:
            pages = {w.event.pk: pages_for(w.event, now, zone) for w in targeted}
            rendering = _publish([p for paths in pages.values() for p in paths], now)
            for work in targeted:
                outcomes[work.event.pk] = _failure(pages[work.event.pk], rendering) or Done()
        if everything:
            # The newest republish covers what the older ones in this batch asked for.
            newest = everything[-1]
            for older in everything[:-1]:
                outcomes[older.event.pk] = Done()
            outcomes[newest.event.pk] = _republish(newest, now, zone)
    return outcomes


def _republish(work: Work, now: datetime, zone) -> Outcome:
    started = time.monotonic()
    progress = work.progress
    if progress is None:
        log.info("republishing every page (%s: %s pages)", work.event.kind, _total_pages() + len(snapshot.CORE_PATHS))
    failed: dict[str, str] = dict((progress or {}).get("failed_pages", {}))
    while True:  # at least one step, then as many as fit in STEP_SECONDS
        paths, next_progress = _republish_step(progress, now, zone)
        if paths:
            rendering = _publish(paths, now, with_logo=progress is None)
            failed.update(rendering.failed)
        if next_progress is None:
            log.info("republished every page (%s)%s", work.event.kind,
                     f"; {len(failed)} failed and will be retried" if failed else "")
            if failed:
                # The pages that failed are retried on their own, named, with back-off.
                from django.db import transaction

                with transaction.atomic():
                    record_event("snapshot.pages", "snapshot:retry", data={"paths": sorted(failed)})
            return Done()
        progress = {**next_progress, "failed_pages": failed}
        if time.monotonic() - started >= STEP_SECONDS:
            break
    log.info("republishing: %s of about %s pages", progress["done"], _total_pages() + len(snapshot.CORE_PATHS))
    return Continue(progress)
