"""Publishing: render every public URL once per change into a snapshot that readers are served from.

A publication renders the affected pages through their Django views, gzips each once, and stores the
bytes in the database (shared by all web instances) under a new version number. Publications are
serialized (an advisory lock on PostgreSQL; SQLite's write lock), so versions commit in order and a
web instance that has loaded version N has everything up to N. A page that fails to render keeps its
previous bytes: an error is never published.
"""

import gzip
import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection, transaction
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone

from signalpost.status.models import Incident, Page, PageLogo

from .models import RETIRED, SnapshotFile, SnapshotState

log = logging.getLogger("signalpost.publish")

API_PATHS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]
CORE_PATHS = ["/", "/history", *API_PATHS]
_LOCK_ID = 7_301_104  # advisory lock key for publications on PostgreSQL


@dataclass(frozen=True)
class Rendered:
    path: str
    content_type: str
    body: bytes


_pause = threading.local()


@contextmanager
def publishing_deferred() -> Iterator[None]:
    """Collect the publications requested inside the block (a bulk load) and make one at the end."""
    outer = getattr(_pause, "pending", None)
    if outer is None:
        _pause.pending = {"incident_ids": set(), "everything": False, "requested": False}
    try:
        yield
    finally:
        if outer is None:
            pending, _pause.pending = _pause.pending, None
            if pending["requested"]:
                publish(incident_ids=pending["incident_ids"], everything=pending["everything"])


def month_path(moment: datetime, zone: ZoneInfo) -> str:
    return f"/history/{moment.astimezone(zone):%Y-%m}"


def paths_to_publish(incident_ids: Iterable[int] = (), everything: bool = False, now: datetime | None = None) -> list[str]:
    from signalpost.postmortems import public_report  # that package owns its pages
    from signalpost.postmortems import services as postmortems

    now = now or timezone.now()
    incident_ids = list(incident_ids)
    page = Page.objects.filter(pk=1).first()
    zone = ZoneInfo(page.time_zone if page else "UTC")
    paths = list(CORE_PATHS) + [month_path(now, zone)]
    incidents = Incident.objects.all() if everything else Incident.objects.filter(pk__in=list(incident_ids))
    for kind, public_id, started_at, scheduled_for, created_at in incidents.values_list(
        "kind", "public_id", "started_at", "scheduled_for", "created_at"
    ):
        paths.append(f"/{'maintenance' if kind == 'maintenance' else 'incidents'}/{public_id}")
        began = started_at or scheduled_for or created_at
        paths.append(month_path(began, zone))
    # A postmortem's page changes with the incidents it covers (their names, its figures).
    paths += postmortems.public_paths(incident_ids, everything)
    paths += public_report.public_paths(incident_ids, everything)  # /reliability, when the team shows it
    return list(dict.fromkeys(paths))


def paths_to_retire() -> list[str]:
    """Paths published before that must stop answering (the reliability report, switched off)."""
    from signalpost.postmortems import public_report

    retired = public_report.retired_paths()
    if not retired:
        return []
    return list(SnapshotFile.objects.filter(path__in=retired).exclude(content_type=RETIRED)
                .values_list("path", flat=True))


def _request(path: str) -> WSGIRequest:
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS and settings.ALLOWED_HOSTS[0] != "*" else "localhost"
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": host.strip("[]"), "SERVER_PORT": "80", "HTTP_HOST": host, "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(b""), "wsgi.errors": BytesIO(), "SERVER_PROTOCOL": "HTTP/1.1",
    }
    request = WSGIRequest(environ)
    request.is_snapshot_render = True
    return request


def render(path: str) -> Rendered | None:
    """The bytes a reader should get for `path`, or None when it does not render cleanly."""
    try:
        match = resolve(path)
        response = match.func(_request(path), *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response = response.render()
    except (Http404, Resolver404):
        return None
    except Exception:
        log.exception("rendering %s failed; keeping its previous snapshot", path)
        return None
    if response.status_code != 200:
        log.warning("rendering %s gave status %s; keeping its previous snapshot", path, response.status_code)
        return None
    return Rendered(path, response["Content-Type"], response.content)


def render_all(paths: list[str], now: datetime) -> list[Rendered]:
    """Render each path once, the JSON payloads from one shared read; the current month's history is
    the same page as /history."""
    from .api_v2 import shared_rendering

    page = Page.objects.filter(pk=1).first()
    current_month = month_path(now, ZoneInfo(page.time_zone if page else "UTC"))
    done: dict[str, Rendered] = {}
    with shared_rendering():
        for path in paths:
            if path == current_month and "/history" in done:
                done[path] = Rendered(path, done["/history"].content_type, done["/history"].body)
                continue
            result = render(path)
            if result is not None:
                done[path] = result
    return list(done.values())


BRAND_CSS_PATH = "/brand.css"


def brand_files(page: Page | None, with_logo: bool) -> list[Rendered]:
    """The branding stylesheet and the logo: files of their own, since the pages allow no inline style.
    The stylesheet is always published (emptied when the branding is), the logo when asked for or not
    published yet (it is the one large file, and changes only with the page settings)."""
    from signalpost.status.branding import brand_stylesheet

    if page is None:
        return []
    css = brand_stylesheet(page.accent_color, page.header_color, page.custom_css)
    files = [Rendered(BRAND_CSS_PATH, "text/css; charset=utf-8", css.encode())]
    if page.logo_path and (with_logo or not SnapshotFile.objects.filter(path=page.logo_path).exists()):
        logo = PageLogo.objects.filter(page=page).first()
        if logo is not None:
            files.append(Rendered(page.logo_path, logo.content_type, bytes(logo.body)))
    return files


def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def publish(incident_ids: Iterable[int] = (), everything: bool = False) -> int | None:
    """Render what changed and store it as a new snapshot version. Returns the version, or None if
    the publication was deferred or nothing changed."""
    pending = getattr(_pause, "pending", None)
    if pending is not None:
        pending["incident_ids"].update(incident_ids)
        pending["everything"] |= everything
        pending["requested"] = True
        return None
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        now = timezone.now()
        page = Page.objects.filter(pk=1).first()
        source_seq = page.change_seq if page else 0
        rendered = render_all(paths_to_publish(incident_ids, everything, now), now)
        rendered += brand_files(page, with_logo=everything)
        state, _ = SnapshotState.objects.get_or_create(pk=1)
        current = dict(SnapshotFile.objects.filter(path__in=[r.path for r in rendered]).values_list("path", "etag"))
        changed = [r for r in rendered if current.get(r.path) != etag_of(r.body)]
        retired = paths_to_retire()
        if not changed and not retired:
            return None
        version = state.version + 1
        for r in changed:
            SnapshotFile.objects.update_or_create(
                path=r.path,
                defaults=dict(content_type=r.content_type, body=r.body, gzip_body=compress(r.body),
                              etag=etag_of(r.body), version=version, published_at=now),
            )
        # A tombstone rather than a deletion: web instances load what changed since their version, and
        # a deleted row would never reach them.
        SnapshotFile.objects.filter(path__in=retired).update(content_type=RETIRED, body=b"", gzip_body=b"",
                                                             etag="", version=version, published_at=now)
        SnapshotState.objects.filter(pk=1).update(version=version, source_seq=source_seq, published_at=now)
    log.info("published version %s: %s of %s pages changed%s in %.0f ms", version, len(changed), len(rendered),
             f", {len(retired)} retired" if retired else "", (time.perf_counter() - started) * 1000)
    from .front import wake_loaders

    wake_loaders()
    return version


def publish_missing() -> int | None:
    """Publish the core pages and every incident or maintenance page not published yet: what a start
    needs, without re-rendering thousands of unchanged pages (`publish(everything=True)` does that)."""
    published = set(SnapshotFile.objects.values_list("path", flat=True))
    missing = [
        pk for pk, kind, public_id in Incident.objects.values_list("pk", "kind", "public_id")
        if f"/{'maintenance' if kind == 'maintenance' else 'incidents'}/{public_id}" not in published
    ]
    from signalpost.postmortems import services as postmortems

    missing += postmortems.incidents_missing_pages(published)
    return publish(incident_ids=missing)
