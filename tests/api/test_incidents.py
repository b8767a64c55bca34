import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from signalpost.status import services
from signalpost.status.models import Incident, IncidentUpdate
from tests.console.events_support import signed_in
from tests.publishing import publish

from .conftest import field_errors


def iso(moment) -> str:
    return moment.isoformat()


def test_it_opens_an_incident_naming_components_by_id_name_and_group(writer, components):
    response = writer.post("/api/v1/incidents", {
        "name": "Connectivity issues", "impact": "major", "body": "We are investigating.",
        "components": {components["zh1"].public_id: "major_outage", "zh2.cluster": "partial_outage",
                       "Germany/de1.compact": "degraded_performance"},
    })
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "investigating" and body["impact"] == "major" and body["retroactive"] is False
    assert body["url"] == f"http://127.0.0.1:8000/incidents/{body['id']}"
    assert {c["name"]: (c["group"], c["status"]) for c in body["components"]} == {
        "zh1.single": ("Switzerland", "major_outage"),
        "zh2.cluster": ("Switzerland", "partial_outage"),
        "de1.compact": ("Germany", "degraded_performance"),
    }
    [update] = body["updates"]
    assert update["body"] == "We are investigating." and update["deliver_notifications"] is True
    assert {c["name"]: (c["old_status"], c["new_status"]) for c in update["components"]}["zh1.single"] == (
        "operational", "major_outage")
    assert writer.get(f"/api/v1/components/{components['zh1'].public_id}").json()["status"] == "major_outage"


def test_it_opens_an_incident_that_began_earlier(writer, components):
    began = timezone.now() - timedelta(minutes=20)
    body = writer.post("/api/v1/incidents", {"name": "Down", "display_at": iso(began)}).json()
    assert abs(Incident.objects.get(public_id=body["id"]).started_at - began) < timedelta(milliseconds=1)


def test_it_refuses_an_incident_with_an_empty_name(writer, components):
    response = writer.post("/api/v1/incidents", {"name": " "})
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid input: name must not be empty.",
                               "errors": [{"field": "name", "message": "must not be empty"}]}
    assert not Incident.objects.exists()


def test_it_refuses_an_unknown_component(writer, components):
    response = writer.post("/api/v1/incidents", {"name": "Down", "components": {"zh9.single": "major_outage"}})
    assert response.status_code == 422
    assert field_errors(response) == {"components": 'unknown component "zh9.single"'}
    assert not Incident.objects.exists()


def test_it_refuses_an_unknown_status_name(writer, components):
    response = writer.post("/api/v1/incidents", {"name": "Down", "status": "panicking"})
    assert response.status_code == 422
    assert field_errors(response)["status"] == "must be one of: investigating, identified, monitoring or resolved"
    response = writer.post("/api/v1/incidents", {"name": "Down", "components": {"zh1.single": "broken"}})
    assert list(field_errors(response)) == ["components.zh1.single"]
    assert not Incident.objects.exists()


def test_it_refuses_a_naive_datetime(writer, components):
    response = writer.post("/api/v1/incidents", {"name": "Down", "display_at": "2026-01-05T10:00:00"})
    assert response.status_code == 422
    assert field_errors(response) == {"display_at": "must include a time zone offset (e.g. 2026-11-25T14:00:00Z)"}


def test_it_refuses_a_display_time_in_the_future(writer, components):
    soon = timezone.now() + timedelta(hours=1)
    response = writer.post("/api/v1/incidents", {"name": "Down", "display_at": iso(soon)})
    assert response.status_code == 422
    assert "in the future" in field_errors(response)["display_at"]
    assert not Incident.objects.exists()


def test_it_refuses_malformed_json_with_a_400(writer, components):
    response = writer.post("/api/v1/incidents", '{"name": "Down",')
    assert response.status_code == 400
    assert list(field_errors(response)) == ["body"]
    assert response.json()["detail"].startswith("The request body is not valid JSON")


def test_it_posts_updates_and_resolves(writer, incident, components):
    path = f"/api/v1/incidents/{incident.public_id}/updates"
    response = writer.post(path, {"status": "identified", "body": "A switch failed.",
                                  "components": {"zh1.single": "partial_outage"}})
    assert response.status_code == 201
    assert response.json()["status"] == "identified"
    assert response.json()["components"][0]["status"] == "partial_outage"
    response = writer.post(path, {"status": "resolved", "body": "Replaced the switch."})
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"] is not None
    assert [u["status"] for u in body["updates"]] == ["resolved", "identified", "investigating"]
    assert body["updates"][0]["components"] == [{"id": components["zh1"].public_id, "name": "zh1.single",
                                                  "old_status": "partial_outage", "new_status": "operational"}]
    updates = writer.get(path).json()
    assert updates["count"] == 3 and updates["items"][0]["body"] == "Replaced the switch."


def test_it_refuses_an_update_to_a_resolved_incident_unless_reopened(writer, incident):
    services.resolve_incident(incident)
    path = f"/api/v1/incidents/{incident.public_id}/updates"
    response = writer.post(path, {"status": "investigating", "body": "It is back."})
    assert response.status_code == 422
    assert "reopen" in field_errors(response)["status"]
    assert IncidentUpdate.objects.filter(incident=incident).count() == 2
    response = writer.post(path, {"status": "investigating", "body": "It is back.", "reopen": True})
    assert response.status_code == 201
    assert response.json()["resolved_at"] is None


def test_an_update_posted_late_with_an_earlier_time_takes_its_place_and_not_the_status(writer, components, client):
    now = timezone.now()
    opened = writer.post("/api/v1/incidents", {
        "name": "Storage latency", "impact": "major", "body": "Volumes answer slowly.",
        "components": {"zh1.single": "degraded_performance"}, "display_at": iso(now - timedelta(minutes=60))}).json()
    path = f"/api/v1/incidents/{opened['id']}/updates"
    writer.post(path, {"status": "identified", "body": "A storage node is down.",
                       "components": {"zh1.single": "partial_outage"}, "display_at": iso(now - timedelta(minutes=10))})
    # Written afterwards, for what was said at the time: it sits between the two and changes nothing now.
    response = writer.post(path, {"status": "monitoring", "body": "Latency improved for a while.",
                                  "components": {"zh1.single": "operational"},
                                  "display_at": iso(now - timedelta(minutes=30))})
    assert response.status_code == 201
    body = response.json()
    assert [u["status"] for u in body["updates"]] == ["identified", "monitoring", "investigating"]
    assert body["status"] == "identified"
    assert [(c["name"], c["status"]) for c in body["components"]] == [("zh1.single", "partial_outage")]
    changes = [[(c["old_status"], c["new_status"]) for c in u["components"]] for u in body["updates"]]
    assert changes == [[("operational", "partial_outage")], [("degraded_performance", "operational")],
                       [("operational", "degraded_performance")]]
    assert writer.get(f"/api/v1/components/{components['zh1'].public_id}").json()["status"] == "partial_outage"

    publish()
    [v2] = [i for i in json.loads(client.get("/api/v2/incidents.json").content)["incidents"] if i["id"] == opened["id"]]
    assert v2["status"] == "identified"
    assert [u["status"] for u in v2["incident_updates"]] == ["identified", "monitoring", "investigating"]
    page = client.get(f"/incidents/{opened['id']}").content.decode()
    assert '<span class="label label--status">Identified</span>' in page
    front = json.loads(client.get("/api/v2/summary.json").content)
    assert [(i["status"], i["incident_updates"][0]["status"]) for i in front["incidents"]] == [("identified", "identified")]
    assert [c["status"] for c in front["components"] if c["name"] == "zh1.single"] == ["partial_outage"]

    console = signed_in(Client(), "vera", "viewer").get(f"/console/incidents/{opened['id']}").content.decode()
    assert '<span class="badge">Identified</span>' in console
    assert '<span class="status status--partial_outage">Partial outage</span>' in console


def test_it_renames_an_incident_and_changes_its_impact(writer, incident):
    response = writer.patch(f"/api/v1/incidents/{incident.public_id}", {"name": "ZH1 outage", "impact": "critical"})
    assert response.status_code == 200
    assert response.json()["name"] == "ZH1 outage" and response.json()["impact"] == "critical"
    response = writer.patch(f"/api/v1/incidents/{incident.public_id}", {"impact": "maintenance"})
    assert response.status_code == 422 and "impact" in field_errors(response)


def test_it_answers_404_for_a_maintenance_id_under_incidents(writer, components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(name="M", scheduled_for=now + timedelta(days=1),
                                                scheduled_until=now + timedelta(days=1, hours=1))
    assert writer.get(f"/api/v1/incidents/{maintenance.public_id}").status_code == 404
    assert writer.post(f"/api/v1/incidents/{maintenance.public_id}/updates", {"status": "resolved"}).status_code == 404


def test_it_records_a_past_incident(writer, components):
    now = timezone.now()
    response = writer.post("/api/v1/incidents", {
        "name": "Mail delays", "impact": "minor", "body": "Mail was delayed.",
        "started_at": iso(now - timedelta(days=2)), "resolved_at": iso(now - timedelta(days=2) + timedelta(hours=3)),
        "components": {"Mail delivery": "degraded_performance"},
        "updates": [{"display_at": iso(now - timedelta(days=2) + timedelta(hours=1)), "status": "identified",
                     "body": "The provider throttles us."}],
        "resolution_body": "Delivery is back to normal.",
    })
    assert response.status_code == 201
    body = response.json()
    assert body["retroactive"] is True and body["status"] == "resolved"
    assert [u["body"] for u in body["updates"]] == [
        "Delivery is back to normal.", "The provider throttles us.", "Mail was delayed."]
    assert all(u["deliver_notifications"] is False for u in body["updates"])


def test_a_past_incident_holds_exactly_the_updates_given(writer, components):
    began = timezone.now().replace(microsecond=0) - timedelta(days=3)
    response = writer.post("/api/v1/incidents", {
        "name": "Deployments stuck", "impact": "major", "started_at": iso(began),
        "resolved_at": iso(began + timedelta(hours=2)), "components": {"Mail delivery": "partial_outage"},
        "updates": [{"display_at": iso(began), "status": "identified", "body": "A queue is stuck.",
                     "components": {"zh1.single": "degraded_performance"}},
                    {"display_at": iso(began + timedelta(hours=1)), "status": "monitoring",
                     "body": "Deployments are flowing again."}],
        "resolution_body": "All deployments went through.",
    })
    assert response.status_code == 201
    body = response.json()
    # No empty "investigating" opening update: the first update given carries the statuses from the start.
    assert [(u["status"], u["body"]) for u in body["updates"]] == [
        ("resolved", "All deployments went through."), ("monitoring", "Deployments are flowing again."),
        ("identified", "A queue is stuck.")]
    assert {(c["name"], c["new_status"]) for c in body["updates"][2]["components"]} == {
        ("Mail delivery", "partial_outage"), ("zh1.single", "degraded_performance")}
    assert body["started_at"] == iso(began).replace("+00:00", "Z")


def test_a_past_incident_without_a_first_text_has_no_opening_update(writer, components):
    began = timezone.now() - timedelta(days=3)
    body = writer.post("/api/v1/incidents", {
        "name": "Cellar slow", "started_at": iso(began), "resolved_at": iso(began + timedelta(hours=1)),
        "resolution_body": "Cellar answers normally again."}).json()
    assert [(u["status"], u["body"]) for u in body["updates"]] == [("resolved", "Cellar answers normally again.")]
    opened = writer.post("/api/v1/incidents", {
        "name": "Pulsar lag", "status": "identified", "body": "A broker was overloaded.", "started_at": iso(began),
        "resolved_at": iso(began + timedelta(hours=1))}).json()
    assert [u["status"] for u in opened["updates"]] == ["resolved", "identified"]


def test_it_refuses_a_past_incident_that_ends_before_it_starts(writer, components):
    now = timezone.now()
    response = writer.post("/api/v1/incidents", {
        "name": "Mail delays",
        "started_at": iso(now - timedelta(hours=1)), "resolved_at": iso(now - timedelta(hours=2)),
    })
    assert response.status_code == 422
    assert field_errors(response) == {"resolved_at": "is before started_at"}


def test_it_refuses_a_past_incident_without_its_end(writer, components):
    response = writer.post("/api/v1/incidents", {"name": "Old", "started_at": iso(timezone.now() - timedelta(days=1))})
    assert response.status_code == 422
    assert "resolved_at" in field_errors(response)


def _incidents(count: int, components) -> list[Incident]:
    now = timezone.now()
    made = []
    for n in range(count):
        began = now - timedelta(days=count - n)
        incident = services.open_incident(name=f"Incident {n}", components={components["zh1"]: "partial_outage",
                                          components["de1"]: "major_outage"}, display_at=began, now=now)
        if n % 2 == 0:
            services.resolve_incident(incident, display_at=began + timedelta(hours=1), now=now)
        made.append(incident)
    return made


def test_it_lists_incidents_newest_first_with_filters(reader, components):
    made = _incidents(6, components)
    body = reader.get("/api/v1/incidents").json()
    assert [i["name"] for i in body["items"]] == [f"Incident {n}" for n in range(5, -1, -1)]
    assert reader.get("/api/v1/incidents", {"open": "true"}).json()["count"] == 3
    assert reader.get("/api/v1/incidents", {"status": "resolved"}).json()["count"] == 3
    since = made[3].started_at.isoformat()
    assert [i["name"] for i in reader.get("/api/v1/incidents", {"since": since}).json()["items"]] == [
        "Incident 5", "Incident 4", "Incident 3"]
    assert reader.get("/api/v1/incidents", {"until": since}).json()["count"] == 3
    page = reader.get("/api/v1/incidents", {"per_page": 4, "page": 2}).json()
    assert page == {**page, "count": 6, "page": 2, "per_page": 4}
    assert [i["name"] for i in page["items"]] == ["Incident 1", "Incident 0"]


def test_it_refuses_a_naive_datetime_in_a_filter(reader, components):
    response = reader.get("/api/v1/incidents", {"since": "2026-01-01T00:00:00"})
    assert response.status_code == 422 and "since" in field_errors(response)


def _queries_for_listing(reader, django_assert_max_num_queries, limit: int) -> int:
    with django_assert_max_num_queries(limit) as captured:
        assert reader.get("/api/v1/incidents", {"per_page": 100}).status_code == 200
    return len(captured)


def test_it_lists_incidents_in_a_bounded_number_of_queries(reader, components, django_assert_max_num_queries):
    _incidents(3, components)
    reader.get("/api/v1/page")  # the token's first use records last_used_at: one write not counted below
    few = _queries_for_listing(reader, django_assert_max_num_queries, 10)
    _incidents(27, components)
    many = _queries_for_listing(reader, django_assert_max_num_queries, 10)
    assert many == few
