"""The public feeds: what readers subscribe to instead of watching the page.

- /history.atom and /history.rss, the paths Statuspage serves them at (a reader's subscription moves
  with the host): the page's incidents, maintenance and published postmortems, the latest activity first;
- /components/<id>/history.atom and .rss: the same, only what touches one component (<id> is the
  component's public id, as /api/v2/components.json gives it);
- /maintenance.ics: the maintenance windows as an iCalendar feed that calendar apps subscribe to.

Like every public page they are rendered into the published snapshot once per change (publisher.py
says which events change which feed), so they depend on the record alone, never on the time of the
rendering: the same record gives the same bytes, and a feed is written again only when it changed.
Each feed holds at most FEED_LIMIT entries.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from html import escape
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.views.decorators.http import require_safe

from signalpost.postmortems.models import Postmortem, State
from signalpost.presentation.markdown import render_markdown
from signalpost.presentation.times import local_text
from signalpost.presentation.zone import page_zone
from signalpost.status import readable, services
from signalpost.status.models import Component, Incident, Kind, MaintenanceStatus, Page

from .pages import event_view, with_details

FEED_LIMIT = 50  # entries in a feed, and windows in the calendar
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
PAGE_FEEDS = ["/history.atom", "/history.rss", "/maintenance.ics"]
COMPONENT_PREFIX = "/components/"
UTC = dt_timezone.utc


def component_feeds(public_id: str) -> list[str]:
    return [f"{COMPONENT_PREFIX}{public_id}/history.atom", f"{COMPONENT_PREFIX}{public_id}/history.rss"]


def is_component_feed(path: str) -> bool:
    return path.startswith(COMPONENT_PREFIX) and path.endswith(("/history.atom", "/history.rss"))


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


# --- the entries --------------------------------------------------------------------------------


@dataclass
class FeedEntry:
    title: str
    link: str
    published: datetime
    updated: datetime
    description: str  # sanitized HTML
    categories: list[str]


def _incident_entry(incident: Incident, page: Page, zone) -> FeedEntry:
    view = event_view(incident, incident.updated_at)
    latest = view.latest
    kind = "Maintenance" if incident.is_maintenance else "Incident"
    parts = []
    if latest is not None:
        parts.append(f"<p><strong>{escape(latest.status_label)}</strong> · "
                     f"{escape(local_text(latest.update.display_at, zone))}</p>")
        if latest.update.body:
            parts.append(render_markdown(latest.update.body))
    if incident.is_maintenance and incident.scheduled_for and incident.scheduled_until:
        parts.append(f"<p>Window: {escape(local_text(incident.scheduled_for, zone))} – "
                     f"{escape(local_text(incident.scheduled_until, zone))}</p>")
    if view.affected:
        parts.append(f"<p>Affected: {escape(view.affected)}</p>")
    updated = latest.update.display_at if latest is not None else incident.created_at
    if incident.is_maintenance:
        # Published when it was announced: its first update, not its window (which may lie ahead).
        opened = view.updates[-1].update.display_at if view.updates else incident.created_at
    else:
        opened = incident.started_at or incident.created_at
    return FeedEntry(
        title=incident.name,
        link=_absolute(incident.public_path),
        published=min(opened, updated),
        updated=updated,
        description="\n".join(parts),
        categories=[kind, view.status_label],
    )


def _postmortem_entry(postmortem: Postmortem) -> FeedEntry:
    published = postmortem.first_published_at or postmortem.published_at
    updated = max(filter(None, [postmortem.published_at, postmortem.revised_at]))
    names = ", ".join(escape(i.name) for i in postmortem.incidents.all())
    parts = [render_markdown(postmortem.summary)] if postmortem.summary else []
    if names:
        parts.append(f"<p>Covers: {names}</p>")
    return FeedEntry(
        title=f"{postmortem.document_label}: {postmortem.title}",
        link=_absolute(postmortem.public_path),
        published=min(published, updated),
        updated=updated,
        description="\n".join(parts),
        categories=["Postmortem"],
    )


_shared: ContextVar[dict | None] = ContextVar("feed_entries", default=None)


@contextmanager
def shared_entries() -> Iterator[None]:
    """Inside this block a feed's entries are read once for its Atom and its RSS twin: the publisher
    renders both in one go."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def entries(component: Component | None = None) -> list[FeedEntry]:
    """The feed's entries, the latest activity first: incidents and maintenance by their latest
    update, postmortems by their latest publication; at most FEED_LIMIT."""
    shared = _shared.get()
    key = component.pk if component is not None else None
    if shared is not None and key in shared:
        return shared[key]
    found = _read_entries(component)
    if shared is not None:
        shared[key] = found
    return found


def _read_entries(component: Component | None) -> list[FeedEntry]:
    page = services.get_page()
    zone = page_zone(page)
    incidents = Incident.objects.filter(readable.incidents())
    postmortems = Postmortem.objects.filter(status=State.PUBLISHED, published_at__isnull=False)
    if component is not None:
        incidents = incidents.filter(affected__component=component)
        postmortems = postmortems.filter(incidents__affected__component=component)
    latest = Max("updates__display_at", filter=readable.updates("updates__"))
    incidents = incidents.annotate(latest=Coalesce(latest, "created_at")).order_by("-latest", "-id")[:FEED_LIMIT]
    postmortems = (postmortems.distinct().order_by("-published_at", "-id").prefetch_related("incidents")
                   [:FEED_LIMIT])
    found = [_incident_entry(i, page, zone) for i in with_details(incidents)]
    found += [_postmortem_entry(p) for p in postmortems]
    found.sort(key=lambda e: (e.updated, e.link), reverse=True)
    return found[:FEED_LIMIT]


# --- Atom and RSS -------------------------------------------------------------------------------


class _Stable:
    """A feed dated by its entries, or by the page when it has none: never by the rendering's clock,
    so that the same record renders the same bytes."""

    def latest_post_date(self):
        dates = [d for item in self.items for d in (item["updateddate"], item["pubdate"]) if d]
        return max(dates) if dates else self.feed["quiet_since"]


class AtomFeed(_Stable, Atom1Feed):
    pass


class RssFeed(_Stable, Rss201rev2Feed):
    pass


def _second(moment: datetime) -> datetime:
    """In UTC to the second, as RSS dates are (and Atom's then say the same)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _feed(feed_class, path: str, title: str, description: str, items: list[FeedEntry], page: Page) -> HttpResponse:
    feed = feed_class(
        title=title, link=_absolute("/"), description=description, feed_url=_absolute(path), language="en",
        feed_guid=_absolute(path), quiet_since=_second(page.created_at),
    )
    for item in items:
        feed.add_item(
            title=item.title, link=item.link, description=item.description, unique_id=item.link,
            unique_id_is_permalink=True, pubdate=_second(item.published), updateddate=_second(item.updated),
            categories=item.categories,
        )
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return response


def _page_feed(feed_class, path: str) -> HttpResponse:
    page = services.get_page()
    return _feed(feed_class, path, f"{page.name} status", f"Incidents, maintenance and postmortems of {page.name}",
                 entries(), page)


def _component_feed(feed_class, path: str, public_id: str) -> HttpResponse:
    component = Component.objects.visible().select_related("group").filter(public_id=public_id).first()
    if component is None:
        raise Http404("no such component")
    page = services.get_page()
    name = f"{component.group.name} · {component.name}" if component.group_id else component.name
    return _feed(feed_class, path, f"{page.name} status: {name}",
                 f"Incidents, maintenance and postmortems of {page.name} that touch {name}",
                 entries(component), page)


@require_safe
def history_atom(request: HttpRequest) -> HttpResponse:
    return _page_feed(AtomFeed, request.path)


@require_safe
def history_rss(request: HttpRequest) -> HttpResponse:
    return _page_feed(RssFeed, request.path)


@require_safe
def component_atom(request: HttpRequest, public_id: str) -> HttpResponse:
    return _component_feed(AtomFeed, request.path, public_id)


@require_safe
def component_rss(request: HttpRequest, public_id: str) -> HttpResponse:
    return _component_feed(RssFeed, request.path, public_id)


# --- the maintenance calendar -------------------------------------------------------------------


def calendar_windows() -> list[Incident]:
    """The windows the calendar holds: every one to come or running (the soonest first), then the
    latest finished ones (completed or cancelled), FEED_LIMIT in all."""
    windows = Incident.objects.filter(readable.incidents(), kind=Kind.MAINTENANCE)
    finished = Q(status__in=[MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED])
    current = list(with_details(windows.exclude(finished).order_by("scheduled_for", "id")[:FEED_LIMIT]))
    past = with_details(windows.filter(finished).order_by("-scheduled_for", "-id")[:FEED_LIMIT - len(current)])
    return current + (list(past) if len(current) < FEED_LIMIT else [])


def _window(maintenance: Incident) -> tuple[datetime, datetime]:
    """When the window is, in UTC: as it ran once it began (started early, completed late or early),
    as scheduled until then. A cancelled one keeps the window it had."""
    start = maintenance.started_at or maintenance.scheduled_for
    end = maintenance.scheduled_until
    if maintenance.status == MaintenanceStatus.COMPLETED and maintenance.resolved_at:
        end = maintenance.resolved_at
    if end <= start:
        end = start + timedelta(minutes=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def calendar_bytes() -> bytes:
    from icalendar import Calendar, Event

    page = services.get_page()
    host = urlsplit(settings.SITE_URL).hostname or "signalpost"
    calendar = Calendar()
    calendar.add("prodid", "-//Signalpost//Maintenance calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{page.name} maintenance")
    calendar.add("x-wr-caldesc", f"Scheduled maintenance of {page.name}")
    # How often subscribers should look again (calendar apps default to a day or more).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for maintenance in calendar_windows():
        view = event_view(maintenance, maintenance.updated_at)
        start, end = _window(maintenance)
        revised = maintenance.updated_at.astimezone(UTC)
        cancelled = maintenance.status == MaintenanceStatus.CANCELLED
        event = Event()
        # The same UID for the window whatever happens to it: calendar apps update it in place.
        event.add("uid", f"maintenance-{maintenance.public_id}@{host}")
        event.add("summary", f"Cancelled: {maintenance.name}" if cancelled else maintenance.name)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", revised)
        event.add("created", maintenance.created_at.astimezone(UTC))
        event.add("last-modified", revised)
        # Every update is a revision (a moved window, a new status, news): the count orders them.
        event.add("sequence", max(len(view.updates) - 1, 0))
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # it is not the subscriber's own time that is taken
        event.add("url", _absolute(maintenance.public_path))
        lines = [f"{view.status_label}."]
        if view.latest is not None and view.latest.update.body:
            lines.append(view.latest.update.body)
        if view.affected:
            lines.append(f"Affected: {view.affected}")
        lines.append(_absolute(maintenance.public_path))
        event.add("description", "\n\n".join(lines))
        calendar.add_component(event)
    return calendar.to_ical()


@require_safe
def maintenance_calendar(request: HttpRequest) -> HttpResponse:
    return HttpResponse(calendar_bytes(), content_type=CALENDAR_TYPE)
