"""The published snapshot: every public URL rendered once per change, stored as the exact bytes
readers get (and their gzip twin), under a version number that web instances poll.

The publisher (publisher.py) decides which pages an event affects; this module renders them through
their Django views and stores what changed. Publications are serialized (an advisory lock on
PostgreSQL, a file lock beside SQLite's database), so a rendering never overwrites a newer one and a
web instance that has loaded version N has everything up to N. A page that fails to render keeps its
previous bytes: an error is never published, and the failure is reported back to the publisher.
"""

import fcntl
import gzip
import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection, transaction
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone

from signalpost.events import wake
from signalpost.status.models import Page, PageLogo

from .models import NOT_FOUND_PATH, RETIRED, SnapshotFile, SnapshotState  # noqa: F401 - NOT_FOUND_PATH for the publisher

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
BRAND_CSS_PATH = "/brand.css"
SNAPSHOT_TOPIC = "snapshot"  # announced with every new version: web instances load it at once
_LOCK_ID = 7_301_104  # advisory lock key for publications on PostgreSQL


@dataclass(frozen=True)
class Rendered:
    path: str
    content_type: str
    body: bytes


@dataclass
class Rendering:
    """What a publication rendered, and the pages that failed (path -> error)."""

    pages: dict[str, Rendered] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # paths that no longer exist (a 404): nothing to publish


def month_path(moment: datetime, zone: ZoneInfo) -> str:
    return f"/history/{moment.astimezone(zone):%Y-%m}"


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


class RenderFailed(Exception):
    pass


def render(path: str) -> Rendered | None:
    """The bytes a reader should get for `path`; None when the page does not exist (a 404). A page
    that fails to render raises RenderFailed, saying why."""
    try:
        match = resolve(path)
        response = match.func(_request(path), *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response = response.render()
    except (Http404, Resolver404):
        return None
    except Exception as error:
        log.exception("rendering %s failed; keeping its previous snapshot", path)
        raise RenderFailed(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__) from error
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise RenderFailed(f"the page answered {response.status_code}")
    return Rendered(path, response["Content-Type"], response.content)


def render_all(paths: Iterable[str], now: datetime) -> Rendering:
    """Render each path once, the JSON payloads from one shared read (so that summary.json, status.json
    and components.json never disagree); the current month's history is the same page as /history."""
    from signalpost.presentation.statuspage import shared_rendering
    from signalpost.presentation.zone import page_zone

    page = Page.objects.filter(pk=1).first()
    current_month = month_path(now, page_zone(page)) if page else None
    result = Rendering()
    with shared_rendering():
        for path in dict.fromkeys(paths):
            if path == current_month and "/history" in result.pages:
                done = result.pages["/history"]
                result.pages[path] = Rendered(path, done.content_type, done.body)
                continue
            try:
                rendered = render(path)
            except RenderFailed as error:
                result.failed[path] = str(error)
                continue
            if rendered is None:
                result.missing.add(path)
            else:
                result.pages[path] = rendered
    return result


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


@contextmanager
def publication_lock() -> Iterator[None]:
    """One publication at a time across every process, from rendering to storing: a rendering that
    began later never loses to one that began earlier."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_ID])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_ID])
        return
    lock_path = wake.machine_dir() / "publish.lock"
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store(rendered: Iterable[Rendered], retire: Iterable[str] = (), now: datetime | None = None) -> int | None:
    """Store the pages whose bytes changed, and tombstones for `retire`, as one new version. Returns the
    version, or None when nothing changed (nothing is written then)."""
    now = now or timezone.now()
    rendered = list(rendered)
    with transaction.atomic():
        current = dict(SnapshotFile.objects.filter(path__in=[r.path for r in rendered]).values_list("path", "etag"))
        changed = [r for r in rendered if current.get(r.path) != etag_of(r.body)]
        retired = list(SnapshotFile.objects.filter(path__in=list(retire)).exclude(content_type=RETIRED)
                       .values_list("path", flat=True))
        if not changed and not retired:
            return None
        state, _ = SnapshotState.objects.select_for_update().get_or_create(pk=1)
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
        SnapshotState.objects.filter(pk=1).update(version=version, published_at=now)
        wake.announce(SNAPSHOT_TOPIC)
    log.info("published version %s: %s pages changed%s", version, len(changed),
             f", {len(retired)} retired" if retired else "")
    return version
