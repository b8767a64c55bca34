"""Inputs at the edges: times outside the accepted range, integers beyond the columns, text the databases
cannot keep, deep JSON. Each is refused with a 4xx naming the field, and nothing is stored."""

import json

import pytest

from signalpost.status.models import Component, ComponentGroup, Incident, IncidentUpdate

from .conftest import field_errors

NOW_ISH = "2026-01-10T10:00:00Z"
BEFORE_1970 = "0001-01-01T00:00:00+01:00"
YEAR_9999 = "9999-12-31T23:59:59Z"
OFFSET_TOO_FAR = "2026-01-10T10:00:00+18:00"


def _nothing_stored():
    assert not Incident.objects.exists()
    assert not IncidentUpdate.objects.exists()


@pytest.mark.parametrize("moment", [BEFORE_1970, YEAR_9999, OFFSET_TOO_FAR, "1969-12-31T23:59:59Z",
                                    "2200-01-01T00:00:01Z"])
def test_it_refuses_an_incident_time_outside_the_accepted_range(writer, components, moment):
    response = writer.post("/api/v1/incidents", {"name": "Down", "display_at": moment})
    assert response.status_code == 422, response.content
    assert "display_at" in field_errors(response)
    _nothing_stored()


@pytest.mark.parametrize("field", ["started_at", "resolved_at"])
def test_it_refuses_a_backfill_time_outside_the_range(writer, components, field):
    body = {"name": "Past", "started_at": "2025-01-01T10:00:00Z", "resolved_at": "2025-01-01T11:00:00Z"}
    body[field] = BEFORE_1970
    response = writer.post("/api/v1/incidents", body)
    assert response.status_code == 422, response.content
    assert field in field_errors(response)
    _nothing_stored()


def test_it_refuses_a_backfilled_update_time_outside_the_range(writer, components):
    response = writer.post("/api/v1/incidents", {
        "name": "Past", "started_at": "2025-01-01T10:00:00Z", "resolved_at": "2025-01-01T11:00:00Z",
        "updates": [{"display_at": BEFORE_1970, "body": "x"}],
    })
    assert response.status_code == 422, response.content
    assert "updates[0].display_at" in field_errors(response)
    _nothing_stored()


@pytest.mark.parametrize("field,moment", [("scheduled_for", BEFORE_1970), ("scheduled_until", YEAR_9999),
                                          ("scheduled_until", OFFSET_TOO_FAR)])
def test_it_refuses_a_maintenance_window_outside_the_range(writer, components, field, moment):
    body = {"name": "Upgrade", "scheduled_for": "2030-01-01T10:00:00Z", "scheduled_until": "2030-01-01T11:00:00Z"}
    body[field] = moment
    response = writer.post("/api/v1/maintenance", body)
    assert response.status_code == 422, response.content
    assert field in field_errors(response)
    _nothing_stored()


def test_the_edges_of_the_range_are_accepted(writer, components):
    response = writer.post("/api/v1/maintenance", {
        "name": "Far ahead", "scheduled_for": "2199-12-31T08:00:00-15:59", "scheduled_until": "2200-01-01T00:00:00Z",
    })
    assert response.status_code == 201, response.content
    assert response.json()["scheduled_until"].startswith("2200-01-01T00:00:00")
    response = writer.post("/api/v1/incidents", {
        "name": "Long ago", "started_at": "1970-01-01T00:00:00Z", "resolved_at": "1970-01-01T15:59:00+15:59",
    })
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("query", ["since=0001-01-01T00:00:00%2B01:00", "until=9999-12-31T23:59:59Z",
                                   "until=0.5", "since=1700000000", "since=2026-01-01T00:00:00%2B20:00"])
def test_it_refuses_since_and_until_outside_the_range_or_as_numbers(reader, page, query):
    response = reader.get(f"/api/v1/incidents?{query}")
    assert response.status_code == 422, response.content
    assert query.split("=")[0] in field_errors(response)


def test_since_and_until_filter_with_a_time(reader, writer, components):
    writer.post("/api/v1/incidents", {"name": "Past", "started_at": "2025-01-01T10:00:00Z",
                                      "resolved_at": "2025-01-01T11:00:00Z"})
    names = lambda query: [i["name"] for i in reader.get(f"/api/v1/incidents?{query}").json()["items"]]  # noqa: E731
    assert names("since=2025-01-01T09:00:00Z&until=2025-01-01T10:30:00%2B00:00") == ["Past"]
    assert names("since=2025-01-01T10:00:01Z") == []


# --- integers -------------------------------------------------------------------------------------


LISTS = ["/api/v1/groups", "/api/v1/components", "/api/v1/incidents", "/api/v1/maintenance",
         "/api/v1/postmortems"]


@pytest.mark.parametrize("path", LISTS)
def test_a_page_number_beyond_any_list_is_refused(reader, page, path):
    response = reader.get(f"{path}?page=9223372036854775807")
    assert response.status_code == 422, response.content
    assert "page" in field_errors(response)


def test_the_last_page_number_accepted_answers_an_empty_list(reader, page):
    response = reader.get("/api/v1/incidents?page=1000000&per_page=100")
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("path,body", [
    ("/api/v1/components", {"name": "api", "position": 2**31}),
    ("/api/v1/components", {"name": "api", "position": -(2**31) - 1}),
    ("/api/v1/groups", {"name": "Europe", "position": 2**63}),
])
def test_a_position_beyond_the_column_is_refused(admin, page, path, body):
    response = admin.post(path, body)
    assert response.status_code == 422, response.content
    assert field_errors(response)["position"].startswith("must be at")
    assert not Component.objects.filter(name="api").exists()
    assert not ComponentGroup.objects.filter(name="Europe").exists()


def test_a_position_change_beyond_the_column_is_refused(admin, components):
    response = admin.patch(f"/api/v1/components/{components['zh1'].public_id}", {"position": 2**31})
    assert response.status_code == 422, response.content
    assert "position" in field_errors(response)


def test_a_version_number_beyond_the_column_is_refused(reader, page):
    response = reader.get("/api/v1/postmortems/abc/versions/9223372036854775808")
    assert response.status_code == 422, response.content
    assert "number" in field_errors(response)


def test_the_largest_position_is_kept(admin, page):
    response = admin.post("/api/v1/components", {"name": "api", "position": 2**31 - 1})
    assert response.status_code == 201
    assert response.json()["position"] == 2**31 - 1


# --- text the databases cannot keep -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\u0000b", "a \ud800", "\udfff"])
@pytest.mark.parametrize("field", ["name", "body"])
def test_unstorable_text_in_an_incident_is_refused(writer, components, text, field):
    body = {"name": "Down", field: text}
    response = writer.post("/api/v1/incidents", json.dumps(body))
    assert response.status_code == 422, response.content
    assert field in field_errors(response)
    _nothing_stored()


def test_unstorable_text_in_a_component_reference_is_refused(writer, components):
    response = writer.post("/api/v1/incidents", json.dumps({"name": "Down", "components": {"zh1\u0000": "major_outage"}}))
    assert response.status_code == 422, response.content
    assert "components" in field_errors(response)
    _nothing_stored()


def test_unstorable_text_in_a_postmortem_is_refused(writer, components):
    incident = writer.post("/api/v1/incidents", {"name": "Down"}).json()
    response = writer.post("/api/v1/postmortems", json.dumps({"incidents": [incident["id"]], "title": "Review \ud800"}))
    assert response.status_code == 422, response.content
    assert "title" in field_errors(response)


@pytest.mark.parametrize("query", ["group=%00", "status=%00", "since=%00"])
def test_a_nul_in_a_query_parameter_is_refused(reader, page, query):
    path = "/api/v1/components" if query.startswith("group") else "/api/v1/incidents"
    response = reader.get(f"{path}?{query}")
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    assert query.split("=")[0] in {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("path", ["/api/v1/incidents/%00", "/api/v1/components/a%00b",
                                  "/api/v1/maintenance/%00/updates"])
def test_a_nul_in_an_api_path_is_not_found(reader, page, path):
    response = reader.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("path", ["/incidents/%00", "/maintenance/a%00", "/postmortems/%00", "/history/%00"])
def test_a_nul_in_a_public_path_is_not_found(client, page, path):
    assert client.get(path).status_code == 404


def test_a_nul_in_a_public_query_is_harmless(client, page):
    assert client.get("/history?month=%00").status_code == 400


# --- deep JSON ------------------------------------------------------------------------------------


def test_deeply_nested_json_with_an_idempotency_key_is_a_400(writer, components):
    deep = "[" * 100_000 + "]" * 100_000
    response = writer.post("/api/v1/incidents", deep, headers={"Idempotency-Key": "deep-1"})
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "body"
    _nothing_stored()


def test_deeply_nested_json_without_a_key_is_a_400(writer, components):
    deep = '{"name": "x", "body": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = writer.post("/api/v1/incidents", deep)
    assert response.status_code == 400, response.content
    _nothing_stored()


@pytest.mark.parametrize("key", ["a\tb", "é-key", " ", "x" * 256])
def test_an_idempotency_key_outside_its_format_is_refused(writer, components, key):
    response = writer.post("/api/v1/incidents", {"name": "Down"}, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.content
    assert "Idempotency-Key" in field_errors(response)
    _nothing_stored()


def test_an_action_item_kind_position_beyond_the_column_is_refused(admin, page):
    response = admin.post("/api/v1/postmortems/action-item-kinds", {"name": "Tidy", "position": 2**31})
    assert response.status_code == 422, response.content
    assert "position" in field_errors(response)
