"""Browser-test fixtures (used through tests/conftest.py): a real `signalpost web` process, the management
API over its socket, and Debian's Chromium driven by Playwright (one browser for the whole run, a fresh
context per test, in a chosen time zone).

Every wait here is bounded: a change made through the API is published within about a second, so a
few seconds without it is a failure, not a reason to wait longer."""

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
PUBLISH_TIMEOUT = 5.0  # seconds for a write to reach what readers are served


def wait_until(predicate: Callable[[], object], timeout: float = PUBLISH_TIMEOUT, step: float = 0.05,
               what: str = "the condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(step)


class ApiClient:
    """The management API of a running server, called the way a responder's script calls it."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base_url + path, method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path} answered {error.code}: {error.read().decode()[:500]}") from None

    def post(self, path: str, payload: dict) -> dict:
        return self.call("POST", path, payload)

    def patch(self, path: str, payload: dict) -> dict:
        return self.call("PATCH", path, payload)


class Site:
    """One running server as readers and responders reach it."""

    def __init__(self, server, api: ApiClient):
        self.server = server
        self.url = server.url
        self.api = api

    def text(self, path: str) -> str:
        status, _, body = self.server.get(path)
        return body.decode() if status == 200 else ""

    def wait_for_text(self, path: str, *needles: str, timeout: float = PUBLISH_TIMEOUT) -> str:
        """Poll what readers are served at `path` until it says every one of `needles`."""
        def says_all() -> str:
            body = self.text(path)
            return body if all(needle in body for needle in needles) else ""

        return wait_until(says_all, timeout, what=f"{path} showing {needles!r}")

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until everything written so far is what readers are served: no maintenance waits for the
        worker to start or complete it, the publisher has nothing pending, and this server has loaded
        the latest published version. A test that reads several pages after many writes reads them all
        as of the last write, not as of whichever publication happened to show one of its texts."""
        from django.utils import timezone

        from signalpost.events.models import Handling, HandlingState
        from signalpost.public.models import SnapshotState
        from signalpost.status.models import Incident, Kind, MaintenanceStatus
        from signalpost.status.services.maintenance import ACTIVE

        def transitions_due() -> bool:
            now = timezone.now()
            maintenance = Incident.objects.filter(kind=Kind.MAINTENANCE)
            return (maintenance.filter(status=MaintenanceStatus.SCHEDULED, auto_start=True, scheduled_for__lte=now)
                    .exists() or maintenance.filter(status__in=ACTIVE, auto_complete=True,
                                                    scheduled_until__lte=now).exists())

        def settled() -> bool:
            if transitions_due() or Handling.objects.filter(consumer="publisher",
                                                            state=HandlingState.PENDING).exists():
                return False
            latest = SnapshotState.objects.filter(pk=1).values_list("version", flat=True).first() or 0
            return json.loads(self.server.get("/healthz")[2])["snapshot_version"] >= latest

        wait_until(settled, timeout, step=0.1, what="everything written being published and served")


@pytest.fixture
def site(start_server, make_token) -> Site:
    # The server keeps Django's async-safety checks (see `browser`): the variable is set empty for it.
    server = start_server("e2e", **{ASYNC_UNSAFE: ""})
    return Site(server, ApiClient(server.url, make_token("admin")))


# One browser for every browser test of the run. While Playwright's sync API is open it keeps an event
# loop marked running in this thread, and the Django ORM refuses to run under one ("async context")
# although every call here really is synchronous. So the check is lifted once the browser starts, and
# tests/conftest.py runs every `browser` test after all the others: no other test runs under it.
@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (`make browser`) to run browser tests")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


class Reader:
    """A reader's browser tab in a given time zone. Dialogs are recorded (and dismissed) so a test can
    tell whether injected script ran."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(5000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []

        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str):
        """Go to `path`; when it is already open, reload it as a reader would. (Pages may be cached
        for a few seconds, so navigating to the same URL again could show the copy from before.)"""
        url = self.base_url + path
        if self.page.url == url:
            response = self.page.reload(wait_until="load")
        else:
            response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        return self.page


@pytest.fixture
def open_reader(browser, site) -> Iterator[Callable[..., Reader]]:
    contexts = []

    def open_(time_zone: str = "America/New_York") -> Reader:
        context = browser.new_context(timezone_id=time_zone, locale="en-US", java_script_enabled=True)
        contexts.append(context)
        return Reader(context, site.url)

    yield open_
    for context in contexts:
        context.close()
