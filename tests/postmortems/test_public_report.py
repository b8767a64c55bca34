# ruff: noqa: F811 - the fixtures of postmortem_support are imported by name
"""The reliability report on the public page: absent until an admin switches it on (404, no link), then
the same numbers as the console's over the last N months, without hidden components or the titles of
unpublished postmortems; published in the snapshot and dropped from it when switched off again; the
switch itself audited once, refused beside its field when the months make no sense."""

import html
import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import public_report, services
from signalpost.postmortems.models import ReliabilitySettings
from signalpost.public.models import RETIRED, SnapshotFile
from tests.publishing import publish as publish_pending
from tests.publishing import republish_everything
from signalpost.status import services as status
from tests.console.postmortem_support import entries_since, signed_in, team  # noqa: F401
from tests.routes import row_counts

FOOTER_LINK = 'href="/reliability"'


def words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row(page: str, heading: str) -> str:
    """The words of the table row whose header cell says `heading`."""
    start = page.index(f"<th scope=\"row\">{heading}")
    return words(page[start:page.index("</tr>", start)])


@pytest.fixture
def history(components) -> dict:
    """In the last hours: zh1 down for an hour (with a draft postmortem), and an hour and a half of a
    hidden internal component down, which readers never see."""
    now = timezone.now()
    internal = status.create_component(name="Internal tools", hidden=True)
    zh1 = status.backfill_incident(name="Volumes unreachable in ZH1", started_at=now - timedelta(hours=3),
                                   resolved_at=now - timedelta(hours=2), impact="major", body="Down.",
                                   components={components["zh1"]: "major_outage"})
    tools = status.backfill_incident(name="Deploy tools down", started_at=now - timedelta(hours=5),
                                     resolved_at=now - timedelta(hours=3, minutes=30), impact="minor", body="Down.",
                                     components={internal: "major_outage"})
    with audit.acting(audit.SYSTEM):
        draft = services.create_postmortem(incidents=[zh1], title="A draft title readers must not see")
    return {"zh1": zh1, "tools": tools, "draft": draft}


def switch(public: bool, months: int = 3) -> None:
    with audit.acting(audit.SYSTEM):
        public_report.set_public_report(public=public, months=months)


def test_the_report_is_not_public_until_switched_on(client, history):
    assert client.get("/reliability").status_code == 404
    assert FOOTER_LINK not in client.get("/").content.decode()
    assert public_report.public_paths() == [] and public_report.retired_paths() == ["/reliability"]


def test_switched_on_readers_see_the_numbers_of_what_they_can_see(client, history):
    switch(True, months=3)
    response = client.get("/reliability")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1" in page and page.count("<h1") == 1
    summary = words(page[page.index('aria-labelledby="rel-summary"'):page.index('aria-labelledby="rel-incidents"')])
    assert "Incidents 2" in summary and "Major outage 1 hour" in summary
    assert row(page, "Switzerland / zh1.single") == "Switzerland / zh1.single 1 hour none 1 hour"
    assert "Internal tools" not in page  # hidden: neither in the table nor in a chart's description
    assert page.count('<svg class="chart') == 4 and 'role="img"' in page
    assert "Volumes unreachable in ZH1" in page and history["zh1"].public_path in page
    assert "A draft title readers must not see" not in page
    assert " style=" not in page  # the Content-Security-Policy allows no inline style
    months = re.findall(r'<tr><th scope="row">([A-Z][a-z]{2} \d{4})</th>', page)
    assert len(months) == 3 * 3  # a row per month in the incidents table and both times tables
    assert FOOTER_LINK in client.get("/").content.decode()
    assert FOOTER_LINK in client.get(history["zh1"].public_path).content.decode()


def test_a_published_postmortem_is_named_and_linked(client, history, team):
    pm = history["draft"]
    with audit.acting(audit.user_actor(team["alice"])):
        services.update_postmortem(pm, title="Volumes unreachable: what we learned")
        services.request_review(pm)
    with audit.acting(audit.user_actor(team["bob"])):
        services.approve(pm, team["bob"])
        services.publish(pm, team["bob"])
    switch(True)
    page = client.get("/reliability").content.decode()
    assert f'<a href="{pm.public_path}">Volumes unreachable: what we learned</a>' in page


def test_the_switch_is_audited_once_and_an_unchanged_one_not_at_all(db):
    before = AuditEvent.objects.count()
    switch(True, months=6)
    switch(True, months=6)
    [entry] = AuditEvent.objects.order_by("id")[before:]
    assert entry.action == "reliability.public_report" and entry.object_repr == "Public reliability report"
    assert (entry.before, entry.after) == ({"public": False, "months": 12}, {"public": True, "months": 6})
    assert public_report.report_settings().months == 6


@pytest.mark.parametrize("months", [0, 61, True])
def test_months_that_make_no_sense_are_refused(db, months):
    from signalpost.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        public_report.set_public_report(public=True, months=months)
    assert refused.value.field == "months"
    assert not ReliabilitySettings.objects.exists()


# --- the console switch -----------------------------------------------------------------------------------


def test_an_admin_switches_it_on_from_the_console_report(signed_in, history):
    client = signed_in("adam")
    page = client.get(reverse("console:reliability")).content.decode()
    assert "Only the team sees this report." in page and 'name="public-public"' in page
    before = AuditEvent.objects.count()
    response = client.post(reverse("console:reliability_public"), {"public-public": "on", "public-months": "6"})
    assert response.status_code == 302 and response["Location"] == reverse("console:reliability")
    [entry] = entries_since(before)
    assert (entry.action, entry.actor) == ("reliability.public_report", "adam")
    page = client.get(reverse("console:reliability")).content.decode()
    assert 'last 6 months and the components they see, at <a href="/reliability">' in page


@pytest.mark.parametrize(("months", "message"), [("0", "Ensure this value is greater than or equal to 1."),
                                                 ("", "This field is required."),
                                                 ("61", "Ensure this value is less than or equal to 60.")])
def test_a_bad_number_of_months_is_refused_beside_the_field(signed_in, page, months, message):
    client = signed_in("adam")
    before = row_counts()
    response = client.post(reverse("console:reliability_public"), {"public-public": "on", "public-months": months})
    assert response.status_code == 400
    found = re.search(r'id="id_public-months_error">([^<]+)<', response.content.decode())
    assert found and html.unescape(found.group(1)) == message
    assert row_counts() == before


@pytest.mark.parametrize("name", ["alice", "vera"])
def test_only_an_admin_may_switch_it(signed_in, page, name):
    client = signed_in(name)
    assert 'name="public-public"' not in client.get(reverse("console:reliability")).content.decode()
    before = row_counts()
    assert client.post(reverse("console:reliability_public"), {"public-public": "on",
                                                               "public-months": "6"}).status_code == 403
    assert row_counts() == before


# --- the snapshot ---------------------------------------------------------------------------------------


@pytest.fixture
def published(transactional_db, components):
    now = timezone.now()
    status.backfill_incident(name="Volumes unreachable in ZH1", started_at=now - timedelta(hours=3),
                             resolved_at=now - timedelta(hours=2), impact="major", body="Down.",
                             components={components["zh1"]: "major_outage"})
    republish_everything()


def test_the_snapshot_serves_the_report_while_it_is_public_and_drops_it_after(published, start_server):
    server = start_server("reliability")
    assert server.get("/reliability")[0] == 404
    switch(True)  # every page is republished: the report, and the footers that link it
    publish_pending()
    assert SnapshotFile.objects.get(path="/reliability").content_type.startswith("text/html")
    _, headers, body = _answer(server, "/reliability", lambda code, body: code == 200)
    assert "content-security-policy" in headers and b"Switzerland / zh1.single" in body
    assert FOOTER_LINK.encode() in _answer(server, "/", lambda code, body: FOOTER_LINK.encode() in body)[2]

    switch(False)
    publish_pending()
    assert SnapshotFile.objects.get(path="/reliability").content_type == RETIRED
    assert _answer(server, "/reliability", lambda code, body: code == 404)[0] == 404
    assert FOOTER_LINK.encode() not in _answer(server, "/", lambda code, body: FOOTER_LINK.encode() not in body)[2]


def test_the_time_driven_republication_renders_it_and_an_incident_update_does_not(published):
    from signalpost.jobs import clock_events

    switch(True)
    publish_pending()
    first = SnapshotFile.objects.get(path="/reliability").version
    opened = status.open_incident(name="Slow API", impact="minor", body="Slow.")
    publish_pending()
    assert SnapshotFile.objects.get(path="/reliability").version == first  # not rebuilt for each update
    clock_events()  # the worker's clock: the day first, then every ten minutes
    assert clock_events(timezone.now() + timedelta(minutes=10)) == ["clock.refresh"]
    publish_pending()
    assert SnapshotFile.objects.get(path="/reliability").version > first
    assert opened.name.encode() in bytes(SnapshotFile.objects.get(path="/reliability").body)


def test_the_exported_site_has_the_report_only_while_it_is_public(published, tmp_path):
    from signalpost.public.export import export_site

    switch(True)
    publish_pending()
    export_site(tmp_path / "on")
    assert (tmp_path / "on" / "reliability.html").exists()
    switch(False)
    publish_pending()
    export_site(tmp_path / "off")
    assert not (tmp_path / "off" / "reliability.html").exists()


def _answer(server, path: str, done, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """The server's answer once `done(code, body)` holds: web instances pick a publication up within
    their poll interval."""
    deadline = time.monotonic() + timeout
    while True:
        code, headers, body = server.get(path)
        if done(code, body) or time.monotonic() > deadline:
            return code, headers, body
        time.sleep(0.1)
