"""Rows that no form accepts, written straight into the tables (by an older version, or by hand), never
break a page that shows them: a component status Signalpost does not know counts as operational (it
stands for no outage and forces nothing), and a postmortem timeline entry out of the accepted range is
left out. The public pages, the published snapshot, the console and the API keep answering."""

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from signalpost.accounts.models import Profile
from signalpost.postmortems import services as postmortems
from signalpost.postmortems.models import TimelineEntry
from signalpost.public.models import SnapshotFile
from signalpost.status import services
from signalpost.status.models import AffectedComponent, IncidentComponent, StatusOverride
from tests.console.events_support import signed_in, text
from tests.publishing import publish, republish_everything

PUBLISHED = ["/", "/history", "/api/v2/summary.json", "/api/v2/components.json", "/api/v2/status.json",
             "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"]


def published(path: str) -> bytes:
    return bytes(SnapshotFile.objects.get(path=path).body)


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def unknown_status(request, transactional_db, components):
    """An open incident and an override whose stored statuses are `request.param`'s rows made unknown."""
    incident = services.open_incident(name="503s on the proxies", components={components["zh1"]: "partial_outage"})
    services.set_override(components["zh2"], status="major_outage", reason="Disk replaced")
    where = request.param
    if where == "incident":
        _raw("UPDATE status_incidentcomponent SET status = %s", ["exploded"])
        _raw("UPDATE status_affectedcomponent SET new_status = %s, old_status = %s", ["exploded", "gone"])
    else:
        _raw("UPDATE status_statusoverride SET status = %s", ["exploded"])
    return where, incident


@pytest.mark.parametrize("unknown_status", ["incident", "override"], indirect=True)
def test_a_component_status_no_version_knows_does_not_break_any_page(unknown_status, components, client,
                                                                    make_token):
    where, incident = unknown_status
    republish_everything()
    later = services.open_incident(name="Mail delays", components={components["mail"]: "degraded_performance"})
    publish()
    # Published, and with the incident posted after the bad row: nothing kept the page from updating.
    for path in ["/", "/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"]:
        assert b"Mail delays" in published(path), path
    for path in PUBLISHED + [incident.public_path, later.public_path]:
        assert client.get(path).status_code == 200, path
    shown = json.loads(published("/api/v2/components.json"))["components"]
    status_of = {c["name"]: c["status"] for c in shown}
    # The unknown status stands for no outage; the known causes still count.
    if where == "incident":
        assert status_of["zh1.single"] == "operational" and status_of["zh2.cluster"] == "major_outage"
    else:
        assert status_of["zh2.cluster"] == "operational" and status_of["zh1.single"] == "partial_outage"
    assert "exploded" not in text(client.get("/").content.decode())

    console = signed_in(client, "rita", "responder")
    for path in ["/console/", "/console/incidents/", f"/console/incidents/{incident.public_id}", "/console/components/",
                 f"/console/components/{components['zh1'].public_id}", f"/console/components/{components['zh2'].public_id}",
                 "/console/reliability/"]:
        assert console.get(path).status_code == 200, path
    headers = {"Authorization": f"Bearer {make_token('read')}"}
    for path in ["/api/v1/components", "/api/v1/incidents", f"/api/v1/incidents/{incident.public_id}",
                 f"/api/v1/components/{components['zh2'].public_id}"]:
        assert client.get(path, headers=headers).status_code == 200, path


def _published_postmortem(incident):
    pm = postmortems.create_postmortem(incidents=[incident], title="Proxy outage", template="learning_review",
                                       timeline_zone="Europe/Zurich", prefill=False, summary="The proxies failed.")
    postmortems.set_timeline(pm, [{"at": datetime(2026, 2, 2, 17, 20, tzinfo=UTC), "text": "Alerts fired."},
                                  {"at": datetime(2026, 2, 2, 18, 40, tzinfo=UTC), "text": "Kept for the record."},
                                  {"at": datetime(2026, 2, 2, 18, 50, tzinfo=UTC), "text": "All well."}])
    postmortems.request_review(pm)
    reviewer = get_user_model().objects.create_user("bob")
    Profile.objects.create(user=reviewer, role="responder")
    postmortems.approve(pm, reviewer)
    return postmortems.publish(pm)


@pytest.mark.parametrize("moment", ["9999-12-31 23:59:59", "0001-01-01 00:00:00"])
def test_a_timeline_entry_out_of_range_is_left_out_of_every_page(transactional_db, components, client, make_token,
                                                                 moment):
    incident = services.backfill_incident(name="Proxy outage", started_at=datetime(2026, 2, 2, 17, 20, tzinfo=UTC),
                                          resolved_at=datetime(2026, 2, 2, 18, 50, tzinfo=UTC))
    pm = _published_postmortem(incident)
    stored = moment + ("+01:00" if connection.vendor == "postgresql" and moment.startswith("0001") else "")
    _raw("UPDATE postmortems_timelineentry SET at = %s WHERE text = %s", [stored, "Kept for the record."])
    republish_everything()

    for path in [pm.public_path, pm.markdown_path, incident.public_path]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Alerts fired." in response.content.decode() or path == incident.public_path
        assert "Kept for the record." not in response.content.decode()
    console = signed_in(client, "rita", "responder")
    editor = console.get(f"/console/postmortems/{pm.public_id}")
    assert editor.status_code == 200 and "All well." in editor.content.decode()
    assert "Kept for the record." not in editor.content.decode()
    got = client.get(f"/api/v1/postmortems/{pm.public_id}", headers={"Authorization": f"Bearer {make_token('read')}"})
    assert got.status_code == 200
    assert [e["text"] for e in got.json()["timeline"]] == ["Alerts fired.", "All well."]
    assert TimelineEntry.objects.count() == 3  # left out of what is shown, never deleted
