"""The public postmortem page as readers get it: only once published, linked from its incidents and the
history, its times in the document's zone, action items grouped by kind with owner, due date, state and
tracker link; a withdrawn one stops showing its text; the snapshot carries it."""

from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.contrib.auth import get_user_model
from django.test.utils import CaptureQueriesContext

from signalpost.accounts.models import Profile
from signalpost.postmortems import services
from signalpost.public.models import SnapshotFile
from tests.publishing import publish as publish_pending
from tests.publishing import republish_everything
from signalpost.status import services as status

from .conftest import action_groups, section, text, timeline

UTC = dt_timezone.utc
def publish(pm):
    services.request_review(pm)
    reviewer, _ = get_user_model().objects.get_or_create(username="bob")
    Profile.objects.get_or_create(user=reviewer, defaults={"role": "responder"})
    services.approve(pm, reviewer)
    return services.publish(pm)


@pytest.fixture
def incident(components):
    # Across the night Europe/Zurich changed to summer time: 01:40 CET → 03:20 CEST.
    return status.backfill_incident(
        name="Storage latency in ZH1", started_at=datetime(2024, 3, 31, 0, 40, tzinfo=UTC),
        resolved_at=datetime(2024, 3, 31, 1, 20, tzinfo=UTC), body="Volumes are slow.",
        components={components["zh1"]: "degraded_performance", components["zh2"]: "degraded_performance"})


@pytest.fixture
def pm(incident):
    pm = services.create_postmortem(
        incidents=[incident], title="Storage latency in ZH1", template="learning_review",
        timeline_zone="Europe/Zurich", prefill=False, summary="Volumes were slow for **40 minutes**.",
        root_cause="A rebalancing job.", closing="Sorry.")
    services.set_timeline(pm, [
        {"at": datetime(2024, 3, 31, 0, 40, tzinfo=UTC), "text": "Latency alerts."},
        {"at": datetime(2024, 3, 31, 1, 20, tzinfo=UTC), "text": "Rebalancing paused;\nlatency normal."},
    ])
    services.add_action_item(pm, title="Throttle rebalancing", kind="Preventive (tooling)", owner="Storage team",
                             due_date=date(2024, 5, 1), state="in_progress",
                             link="https://tracker.example.com/ST-41", description="Cap it at **10%** of IOPS.")
    services.add_action_item(pm, title="Alert on p99 latency", kind="Detection", state="done")
    services.add_action_item(pm, title="Schedule rebalancing by day", kind="Preventive (process)", state="wont_do")
    return pm


def test_a_draft_is_not_public(client, pm, incident):
    assert client.get(pm.public_path).status_code == 404
    assert client.get(pm.markdown_path).status_code == 404
    assert "/postmortems/" not in client.get(incident.public_path).content.decode()
    assert "/postmortems/" not in client.get("/history/2024-03").content.decode()
    services.request_review(pm)
    assert client.get(pm.public_path).status_code == 404
    assert client.get("/postmortems/nosuchthing0").status_code == 404


def test_the_published_page_reads_as_one_document(client, pm, incident):
    publish(pm)
    page = client.get(pm.public_path).content.decode()
    assert page.count("<h1") == 1 and "Learning review" in page
    assert f'<a href="{incident.public_path}">Storage latency in ZH1</a>' in page
    assert "Volumes were slow for <strong>40 minutes</strong>." in page
    # Times in the document's zone, said with each time as the timeline spans CET and CEST.
    assert "All times in Europe/Zurich (CET, CEST)." in text(page)
    assert timeline(page) == [("2024-03-31T00:40:00Z", "01:40 CET", "Latency alerts."),
                              ("2024-03-31T01:20:00Z", "03:20 CEST", "Rebalancing paused; latency normal.")]
    # 40 minutes, though the wall clock moved 1 h 40 min.
    assert "Duration 40 minutes (Mar 31, 2024 01:40 CET → Mar 31, 2024 03:20 CEST)" in text(
        section(page, "pm-numbers"))
    assert "Regions affected Switzerland" in text(section(page, "pm-numbers"))

    assert action_groups(page) == {"Preventive (process)": ["Schedule rebalancing by day"],
                                   "Preventive (tooling)": ["Throttle rebalancing"],
                                   "Detection": ["Alert on p99 latency"]}
    actions = section(page, "pm-actions")
    assert ("Throttle rebalancing In progress Owner: Storage team Due May 1, 2024 Tracked at "
            "https://tracker.example.com/ST-41 Cap it at 10% of IOPS.") in text(actions)
    assert '<time datetime="2024-05-01">May 1, 2024</time>' in actions
    assert '<a class="pm-action__link" href="https://tracker.example.com/ST-41" rel="nofollow noopener">' in actions
    assert "Schedule rebalancing by day Won't do" in text(actions)
    assert "Root cause unknown" not in page


def test_the_incident_page_and_the_history_lead_to_it(client, pm, incident):
    publish(pm)
    event = client.get(incident.public_path).content.decode()
    assert '<h2 id="postmortem-title" class="section__title">Postmortem</h2>' in event
    assert f'<a href="{pm.public_path}">Storage latency in ZH1</a> <span class="facts__note">(Learning review' in event
    history = client.get("/history/2024-03").content.decode()
    assert f'<a class="entry__postmortem" href="{pm.public_path}">Learning review</a>' in history


def test_written_markup_stays_text(client, incident):
    pm = services.create_postmortem(
        incidents=[incident], title="<script>alert(1)</script>", prefill=False,
        summary='<script>alert(2)</script> [click](javascript:alert(3)) <img src=x onerror=alert(4)>')
    services.add_action_item(pm, title="<b>bold</b>", kind="Detection", description="<iframe src=x></iframe>")
    publish(pm)
    page = client.get(pm.public_path).content.decode()
    assert "<script>" not in page and "href=\"javascript" not in page and "<iframe" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_withdrawn_postmortem_stops_showing_its_text(client, pm, incident):
    publish(pm)
    services.unpublish(pm)
    page = client.get(pm.public_path)
    assert page.status_code == 200  # the address answers, so no copy of the old text lingers anywhere
    assert "Postmortem withdrawn" in page.content.decode() and "rebalancing" not in page.content.decode()
    assert client.get(pm.markdown_path).content.decode().startswith("# Postmortem withdrawn")
    assert pm.public_path not in client.get(incident.public_path).content.decode()


def test_the_page_takes_the_same_number_of_queries_however_long_the_document(client, pm, incident):
    publish(pm)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(pm.public_path).status_code == 200
        return len(captured)

    few = queries()
    for n in range(8):
        services.add_action_item(pm, title=f"Item {n}", kind=["Detection", "Mitigation"][n % 2], owner="Ops")
        services.add_timeline_entry(pm, at=datetime(2024, 3, 31, 0, 50 + n, tzinfo=UTC), text=f"Step {n}")
    services.set_figures(pm, [(f"Figure {n}", str(n)) for n in range(6)])
    assert queries() == few <= 16


def test_publication_puts_it_in_the_snapshot_and_refreshes_its_incident(transactional_db, components):
    status.update_page(name="Example Status", time_zone="UTC")
    incident = status.backfill_incident(name="Slow API", started_at=datetime(2025, 1, 7, 9, 0, tzinfo=UTC),
                                        resolved_at=datetime(2025, 1, 7, 9, 30, tzinfo=UTC))
    pm = services.create_postmortem(incidents=[incident], title="Slow API", summary="The API was slow.")
    publish_pending()
    assert not SnapshotFile.objects.filter(path__startswith="/postmortems/").exists()
    publish(pm)
    publish_pending()  # what the worker's publisher does once it commits
    stored = {f.path: bytes(f.body).decode() for f in SnapshotFile.objects.filter(
        path__in=[pm.public_path, pm.markdown_path, incident.public_path, "/history/2025-01"])}
    assert "The API was slow." in stored[pm.public_path]
    assert stored[pm.markdown_path].startswith("# Slow API\n")
    assert pm.public_path in stored[incident.public_path] and pm.public_path in stored["/history/2025-01"]
    assert SnapshotFile.objects.get(path=pm.markdown_path).content_type == "text/markdown; charset=utf-8"

    services.update_postmortem(pm, summary="The API was slow for half an hour.")
    publish_pending()
    assert "half an hour" in bytes(SnapshotFile.objects.get(path=pm.public_path).body).decode()

    # Started afresh (an upgrade, a lost snapshot): the published postmortem is published again.
    SnapshotFile.objects.filter(path__startswith="/postmortems/").delete()
    republish_everything()
    assert SnapshotFile.objects.filter(path=pm.public_path).exists()

