"""The ASGI front: published public pages answered from memory, everything else handed to Django.

Each web process keeps the latest snapshot in memory and on disk. A loader thread loads only the
files that changed, as soon as a publication announces a new version (NOTIFY on PostgreSQL, a datagram
on SQLite; a one-row poll of the version is the fallback); readers never touch the database. If the
database is unreachable, the process keeps serving what it has, and a process that starts during an
outage serves the copy on disk. The same thread reads, every few seconds, how far the publisher is
behind and whether the worker's jobs are alive, for /healthz.
"""

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from email.utils import format_datetime
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger("signalpost.front")

HEALTH_SECONDS = 2.0  # how often the loader reads the publisher's backlog and the jobs' heartbeats
BEHIND_SECONDS = 60.0  # a backlog older than this makes /healthz say "behind"

CACHE_CONTROL = b"public, max-age=5, must-revalidate"
# The addresses whose every page the snapshot holds: one that is not there does not exist (or is not
# published yet, for a second), and is answered with the snapshot's 404 page, never by Django, so that a
# crawler cannot turn unknown ids into database reads.
EVENT_PREFIXES = ("/incidents/", "/maintenance/", "/postmortems/", "/components/")
MONTH_PATH = re.compile(r"/history/(\d{4})-(\d{2})")
FEED_SUFFIXES = (".atom", ".rss", ".ics")  # the feeds (feeds.py)
NOT_FOUND = "/404.html"  # models.NOT_FOUND_PATH (this module is loaded before Django's models are)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


@dataclass
class Entry:
    etag: bytes  # quoted, for the identity body
    gzip_etag: bytes
    identity_headers: list
    gzip_headers: list
    body: bytes
    gzip_body: bytes


def _entry(path: str, content_type: str, body: bytes, gzip_body: bytes, etag: str, published_at: datetime) -> Entry:
    from .middleware import CSP

    common = [
        (b"content-type", content_type.encode()),
        (b"cache-control", CACHE_CONTROL),
        (b"last-modified", format_datetime(published_at.astimezone(dt_timezone.utc), usegmt=True).encode()),
        (b"vary", b"accept-encoding"),
        *_SECURITY_HEADERS,
    ]
    if path.startswith("/api/") or path.endswith(FEED_SUFFIXES):
        # Widgets and web feed readers on other sites read these from the browser.
        common.append((b"access-control-allow-origin", b"*"))
    else:
        common.append((b"content-security-policy", CSP.encode()))
        common.append((b"x-frame-options", b"DENY"))
    identity_etag = f'"{etag}"'.encode()
    gzip_etag = f'"{etag}-gz"'.encode()
    return Entry(
        etag=identity_etag,
        gzip_etag=gzip_etag,
        identity_headers=common + [(b"etag", identity_etag), (b"content-length", str(len(body)).encode())],
        gzip_headers=common + [(b"etag", gzip_etag), (b"content-encoding", b"gzip"),
                               (b"content-length", str(len(gzip_body)).encode())],
        body=body,
        gzip_body=gzip_body,
    )


# URLs that are files of their own kind (the API, the branding stylesheet and logo): exported under
# their own name, so that a static server gives them the right content type.
FILE_SUFFIXES = (".json", ".css", ".png", ".jpg", ".webp", ".md", ".html", ".atom", ".rss", ".ics")


def disk_name(path: str) -> str:
    """Where a URL lives in the exported site: nginx's `try_files $uri $uri.html` finds it there."""
    if path == "/":
        return "index.html"
    name = path.lstrip("/")
    return name if name.endswith(FILE_SUFFIXES) else name + ".html"


class SnapshotStore:
    def __init__(self, directory: Path | None = None, poll_seconds: float | None = None):
        self.directory = Path(directory or settings.SNAPSHOT_DIR)
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.SNAPSHOT_POLL_SECONDS
        self.files: dict[str, Entry] = {}
        self.version = 0
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.db_down = False
        self.health: dict = {}
        self._health_read = 0.0
        self._manifest: dict | None = None  # the disk copy's index, once read
        # Whether the publisher had caught up at the last load: while it has not (or an event was recorded
        # since, in any process), a page the snapshot lacks may be on its way, and Django answers for it.
        self.caught_up = False
        self.publishing = threading.Event()  # set by every event the publisher takes
        self._month_set: set[tuple[int, int]] = set()  # the months of the history the snapshot holds
        self._months: tuple[tuple[int, int], tuple[int, int]] | None = None  # their range

    # -- loading ----------------------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            from signalpost.events import wake

            from .snapshot import SNAPSHOT_TOPIC

            self.wake = wake.waiter(SNAPSHOT_TOPIC)  # set by every publication, in any process
            self.publishing = wake.waiter("events:publisher")
            self.load_from_disk()
            self.poll_once()
            self.read_health()
            self._thread = threading.Thread(target=self._run, name="snapshot-loader", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.wake.wait(self.poll_seconds)
            self.wake.clear()
            if not self.stopped.is_set():
                self.poll_once()
                if time.monotonic() - self._health_read >= HEALTH_SECONDS:
                    self.read_health()
        connections.close_all()

    def read_health(self) -> None:
        """The publisher's backlog and the jobs' heartbeats, kept for /healthz (which never queries)."""
        from signalpost.events import health

        self._health_read = time.monotonic()
        try:
            self.health = health_report(health.backlog("publisher"), health.jobs())
        except Exception:  # the database is down: poll_once says so
            self.health = {}

    def poll_once(self) -> bool:
        """Load what was published since our version. Returns True when something new arrived."""
        from .models import SnapshotFile, SnapshotState

        try:
            close_old_connections()
            # Asked before the version: an event the publisher is done with is in the version read next.
            pending = self._publisher_pending()
            state = SnapshotState.objects.filter(pk=1).values_list("version", flat=True).first()
            if state is None or state <= self.version:
                self._recovered()
                self._caught_up(pending)
                return False
            full = self.version == 0  # the first load: everything the database has
            rows = SnapshotFile.objects.filter(version__gt=self.version).values_list(
                "path", "content_type", "body", "gzip_body", "etag", "published_at", "version"
            ).iterator(chunk_size=500)
            loaded = {}
            newest = self.version
            for path, content_type, body, gzip_body, etag, published_at, version in rows:
                body, gzip_body = bytes(body), bytes(gzip_body)
                loaded[path] = (content_type, body, gzip_body, etag, published_at)
                newest = max(newest, version)
            self._recovered()
        except Exception as error:  # the database is down: keep serving what we have
            if not self.db_down:
                log.warning("cannot read the snapshot from the database (%s); serving the last one", error)
                self.db_down = True
            try:
                connections.close_all()
            except Exception:
                pass
            return False
        from .models import RETIRED

        if full:
            # Pages the disk copy has and the database does not (a database restored from a backup older
            # than the disk copy) are not the page's any more: drop them.
            for path in [p for p in self.files if p not in loaded]:
                self.files.pop(path)
                loaded[path] = (RETIRED, b"", b"", "", None)
        for path, (content_type, body, gzip_body, etag, published_at) in loaded.items():
            if content_type == RETIRED:  # no longer published: Django answers (404) from now on
                self.files.pop(path, None)
                self._note_month(path, held=False)
                continue
            self.files[path] = _entry(path, content_type, body, gzip_body, etag, published_at)
            self._note_month(path)
        self.version = max(newest, state)
        self._caught_up(pending)
        self._save_to_disk(loaded)
        return bool(loaded)

    def _publisher_pending(self) -> bool | None:
        """Whether the publisher has work: one query per poll while it may have, none once it has caught up
        and no event came since (never one per reader). None: nothing new to tell."""
        if self.caught_up and not self.publishing.is_set():
            return None
        from signalpost.events.models import Handling, HandlingState

        self.caught_up = False
        self.publishing.clear()  # before the query: an event recorded meanwhile sets it again, or is seen
        return Handling.objects.filter(consumer="publisher", state=HandlingState.PENDING).exists()

    def _caught_up(self, pending: bool | None) -> None:
        if pending is not None:  # once the version read after the question is loaded
            self.caught_up = not pending

    def _note_month(self, path: str, held: bool = True) -> None:
        month = MONTH_PATH.fullmatch(path)
        if month is None:
            return
        key = (int(month[1]), int(month[2]))
        if held:
            self._month_set.add(key)
        else:
            self._month_set.discard(key)
        self._months = (min(self._month_set), max(self._month_set)) if self._month_set else None

    def not_found(self, path: str) -> Entry | None:
        """The snapshot's 404 page when `path` is in its namespace and it does not hold it: an unknown
        incident, maintenance or postmortem, or a month before the first one published or more than one
        after the last (the next month is Django's for the moments before the clock publishes it)."""
        page = self.files.get(NOT_FOUND)
        if page is None:  # a snapshot made before it had one: Django answers
            return None
        if not (self.caught_up and not self.publishing.is_set()) and not self.db_down:
            return None  # the page may be on its way: Django answers until the publisher has caught up
        if path.startswith(EVENT_PREFIXES):
            return page
        month = MONTH_PATH.fullmatch(path)
        if month is None:
            return None
        year, number = int(month[1]), int(month[2])
        if not 1 <= number <= 12 or self._months is None:
            return page
        (first_year, first_month), (last_year, last_month) = self._months
        after_last = (last_year + 1, 1) if last_month == 12 else (last_year, last_month + 1)
        return page if not (first_year, first_month) <= (year, number) <= after_last else None

    def _recovered(self) -> None:
        if self.db_down:
            log.info("database reachable again; snapshot loading resumed")
            self.db_down = False

    # -- disk copy --------------------------------------------------------------------------------

    def _save_to_disk(self, loaded: dict) -> None:
        if not loaded:
            return
        try:
            site = self.directory / "site"
            manifest_path = self.directory / "manifest.json"
            if self._manifest is None:
                self._manifest = self._read_manifest()
            manifest = self._manifest  # kept in memory: read once, not at every publication
            from .models import RETIRED

            for path, (content_type, body, gzip_body, etag, published_at) in loaded.items():
                target = site / disk_name(path)
                if content_type == RETIRED:
                    manifest["files"].pop(path, None)
                    for stale in (target, target.with_name(target.name + ".gz")):
                        stale.unlink(missing_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(target, body)
                _atomic_write(target.with_name(target.name + ".gz"), gzip_body)
                manifest["files"][path] = {
                    "file": disk_name(path), "content_type": content_type, "etag": etag,
                    "published_at": published_at.isoformat(),
                }
            manifest["version"] = self.version
            _atomic_write(manifest_path, json.dumps(manifest, separators=(",", ":")).encode())
        except OSError as error:
            log.warning("cannot write the snapshot to %s: %s", self.directory, error)

    def _read_manifest(self) -> dict:
        try:
            return json.loads((self.directory / "manifest.json").read_text())
        except (OSError, ValueError):
            return {"version": 0, "files": {}}

    def load_from_disk(self) -> None:
        manifest = self._read_manifest()
        site = self.directory / "site"
        for path, meta in manifest["files"].items():
            try:
                body = (site / meta["file"]).read_bytes()
                gzip_body = (site / (meta["file"] + ".gz")).read_bytes()
            except OSError:
                continue
            published_at = datetime.fromisoformat(meta["published_at"])
            self.files[path] = _entry(path, meta["content_type"], body, gzip_body, meta["etag"], published_at)
            self._note_month(path)
        # Disk content is only a fallback: load everything from the database again when it answers.
        self.version = 0


def health_report(backlog, jobs) -> dict:
    """What /healthz says of the publisher and the jobs: the age of the oldest event not yet published,
    the pages that fail to render, and each job's last heartbeat."""
    failing = []
    for failure in backlog.failing:
        pages = (failure.details or {}).get("failed_pages") or {"": failure.error}
        for path, error in pages.items():
            failing.append({"path": path or None, "error": error, "event": failure.kind,
                            "attempts": failure.attempts, "set_aside": failure.set_aside})
    return {
        "publisher": {"lag_seconds": round(backlog.lag_seconds, 3), "pending": backlog.pending,
                      "failing_pages": failing,
                      "republishing": [{"event": task.kind, "pages_done": task.progress.get("done", 0)}
                                       for task in backlog.long_tasks]},
        "jobs": {job.job: {"state": "stopped" if job.stopped else "stalled" if job.stalled else "ok",
                           "worker": job.worker, "last_beat": job.beat_at.isoformat(), "detail": job.detail}
                 for job in jobs},
    }


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def scope_header(scope: dict, name: bytes) -> bytes | None:
    """A request header of an ASGI scope (whose header names are lowercase), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _hsts_header() -> tuple[bytes, bytes] | None:
    """Strict-Transport-Security as Django's SecurityMiddleware writes it, from the same settings."""
    seconds = getattr(settings, "SECURE_HSTS_SECONDS", 0)
    if not seconds:
        return None
    value = f"max-age={seconds}"
    if getattr(settings, "SECURE_HSTS_INCLUDE_SUBDOMAINS", False):
        value += "; includeSubDomains"
    if getattr(settings, "SECURE_HSTS_PRELOAD", False):
        value += "; preload"
    return (b"strict-transport-security", value.encode())


def _is_secure(scope: dict) -> bool:
    """Django's request.is_secure() for an ASGI scope: https, or the proxy's header saying so."""
    if scope.get("scheme") == "https":
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy:
        return False
    name, expected = proxy
    found = scope_header(scope, name.removeprefix("HTTP_").replace("_", "-").lower().encode())
    return found is not None and found.decode("latin-1").split(",", 1)[0].strip() == expected


class SnapshotFront:
    def __init__(self, fallback, store: SnapshotStore | None = None):
        self.fallback = fallback
        self.store = store
        self._started = False
        self._hsts = _hsts_header()

    def _ensure_started(self) -> SnapshotStore:
        if self.store is None:
            self.store = SnapshotStore()
        if not self._started:
            self._started = True
            self.store.start()
        return self.store

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            store = self.store if self._started else self._ensure_started()
            method = scope["method"]
            if method == "GET" or method == "HEAD":
                entry = store.files.get(scope["path"])
                if entry is not None:
                    await self._serve(entry, scope, send, method == "HEAD",
                                      status=404 if scope["path"] == NOT_FOUND else 200)
                    return
                if scope["path"] == "/healthz":
                    await self._health(store, send)
                    return
                missing = store.not_found(scope["path"])
                if missing is not None:
                    await self._serve(missing, scope, send, method == "HEAD", status=404)
                    return
        elif kind == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.fallback(scope, receive, send)

    async def _serve(self, entry: Entry, scope, send, head_only: bool, status: int = 200) -> None:
        accept = scope_header(scope, b"accept-encoding")
        gzipped = accept is not None and b"gzip" in accept
        etag = entry.gzip_etag if gzipped else entry.etag
        headers = entry.gzip_headers if gzipped else entry.identity_headers
        if status != 200:  # the 404 page stands for an address that has none: no validators
            headers = [(k, v) for k, v in headers if k not in (b"etag", b"last-modified")]
        if self._hsts is not None and _is_secure(scope):
            headers = [*headers, self._hsts]  # as Django's pages have it, on https only
        condition = scope_header(scope, b"if-none-match") if status == 200 else None
        if condition is not None and (etag in condition or condition.strip() == b"*"):
            headers = [(k, v) for k, v in headers if k not in (b"content-length", b"content-encoding", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body",
                    "body": b"" if head_only else (entry.gzip_body if gzipped else entry.body)})

    async def _health(self, store: SnapshotStore, send) -> None:
        """For load balancers: this instance serves readers (200) as long as it has a snapshot, even
        while the database is unreachable; 503 only when it has nothing to serve. The body says what
        an operator needs: whether the snapshot is behind the record, which page fails to render, and
        which job of the worker stalled."""
        serving = bool(store.files)
        health = store.health
        problems = []
        publisher = health.get("publisher", {})
        if publisher.get("lag_seconds", 0) > BEHIND_SECONDS:
            problems.append(f"the snapshot is {publisher['lag_seconds']:.0f} s behind")
        if publisher.get("failing_pages"):
            problems.append("pages fail to render: " + ", ".join(
                sorted({f["path"] or f["event"] for f in publisher["failing_pages"]})))
        jobs = health.get("jobs", {})
        stalled = [name for name, job in jobs.items() if job["state"] == "stalled"]
        if stalled:
            problems.append("stalled jobs: " + ", ".join(sorted(stalled)))
        stopped = [name for name, job in jobs.items() if job["state"] == "stopped"]
        if stopped:
            problems.append("jobs no worker runs: " + ", ".join(sorted(stopped)))
        if store.db_down:
            problems.append("database unreachable")
        body = json.dumps({
            "status": ("degraded" if problems else "ok") if serving else "no snapshot",
            "problems": problems,
            "snapshot_version": store.version,
            "pages": len(store.files),
            "database": "unreachable" if store.db_down else "reachable",
            **health,
        }).encode()
        await send({"type": "http.response.start", "status": 200 if serving else 503, "headers": [
            (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
            (b"content-length", str(len(body)).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    import asyncio

                    await asyncio.get_running_loop().run_in_executor(None, self._ensure_started)
                except Exception as error:  # never refuse to start: serve what can be served
                    log.warning("snapshot loading at startup failed: %s", error)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.store is not None:
                    self.store.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
