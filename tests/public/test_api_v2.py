"""The Statuspage-compatible API /api/v2: the shapes Statuspage serves (checked against a JSON Schema
that real Statuspage payloads pass) and the behaviour widgets and scripts rely on."""

import copy
import functools
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from signalpost.status import services

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "tests" / "schemas" / "statuspage_v2.schema.json"
# CI lays shared/ beside the repository, as the workspace does.
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference" / "statuspage-v2"

ENDPOINTS = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
]
UTC = dt_timezone.utc


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@functools.cache
def validator_for(endpoint: str) -> Draft202012Validator:
    """The schema's definition of one endpoint, named like the reference files ('/' becomes '-')."""
    schema = _schema()
    Draft202012Validator.check_schema(schema)
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    name = endpoint.replace("/", "-")
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/{name}"}, registry=registry)


def schema_errors(endpoint: str, payload: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator_for(endpoint).iter_errors(payload)]


def reference_files() -> list[Path]:
    assert REFERENCE_DIR.is_dir(), f"the reference payloads are missing: {REFERENCE_DIR}"
    files = sorted(REFERENCE_DIR.glob("*/*.json"))
    assert len(files) >= 13
    return files


def get(client: Client, endpoint: str) -> dict:
    response = client.get(f"/api/v2/{endpoint}")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


# --- the schema is faithful to Statuspage ------------------------------------------------------


@pytest.mark.parametrize("path", reference_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_it_accepts_every_real_statuspage_payload(path):
    assert schema_errors(path.name, json.loads(path.read_text())) == []


def _break_timestamp(d):
    d["page"]["updated_at"] = "2022-02-15T13:37:37-08:00"  # no milliseconds


def _break_component_status(d):
    d["incidents"][0]["components"][0]["status"] = "down"


def _break_update_key(d):
    del d["incidents"][0]["incident_updates"][0]["affected_components"]


def _break_impact(d):
    d["incidents"][0]["impact"] = "severe"


def _break_top_level(d):
    d["meta"] = {}


@pytest.mark.parametrize("breakage", [_break_timestamp, _break_component_status, _break_update_key, _break_impact,
                                      _break_top_level])
def test_it_rejects_a_payload_that_breaks_the_contract(breakage):
    payload = json.loads((REFERENCE_DIR / "discord" / "incidents.json").read_text())
    assert schema_errors("incidents.json", payload) == []
    broken = copy.deepcopy(payload)
    breakage(broken)
    assert schema_errors("incidents.json", broken) != []


def test_it_rejects_a_group_without_its_children_and_a_resolved_incident_as_unresolved():
    summary = json.loads((REFERENCE_DIR / "github" / "summary.json").read_text())
    summary["components"][0]["group"] = True
    assert any("components" in e for e in schema_errors("summary.json", summary))
    incidents = json.loads((REFERENCE_DIR / "github" / "incidents.json").read_text())
    assert schema_errors("incidents/unresolved.json", incidents) != []


# --- Signalpost's responses match it, in every state -------------------------------------------


def _state_empty(components, now):
    pass


def _state_open_incident(components, now):
    services.open_incident(name="Elevated errors on zh1", impact="major", body="We are **investigating**.",
                           components={components["zh1"]: "major_outage"}, now=now)


def _state_resolved_incident(components, now):
    incident = services.open_incident(name="Mail delayed", components={components["mail"]: "degraded_performance"},
                                      display_at=now - timedelta(hours=2), now=now - timedelta(hours=2))
    services.post_update(incident, status="monitoring", body="A fix is out.", now=now - timedelta(hours=1))
    services.resolve_incident(incident, now=now)


def _state_maintenance(components, now):
    services.schedule_maintenance(name="Upgrade de1", scheduled_for=now + timedelta(days=2),
                                  scheduled_until=now + timedelta(days=2, hours=1), components=[components["de1"]],
                                  body="We will upgrade the storage.", now=now)
    active = services.schedule_maintenance(name="Network work", scheduled_for=now - timedelta(minutes=10),
                                           scheduled_until=now + timedelta(hours=1), components=[components["zh2"]],
                                           now=now - timedelta(days=1))
    services.start_maintenance(active, now=now - timedelta(minutes=9))
    done = services.schedule_maintenance(name="Old work", scheduled_for=now - timedelta(days=3),
                                         scheduled_until=now - timedelta(days=3) + timedelta(hours=1),
                                         components=[components["mail"]], now=now - timedelta(days=4))
    services.start_maintenance(done, now=now - timedelta(days=3))
    services.post_maintenance_update(done, status="verifying", now=now - timedelta(days=3) + timedelta(minutes=30))
    services.complete_maintenance(done, now=now - timedelta(days=3) + timedelta(minutes=50))


def _state_hidden(components, now):
    hidden_group = services.create_group(name="Internal", hidden=True)
    services.create_component(name="Build farm", group=hidden_group)
    secret = services.create_component(name="Secret backend", hidden=True)
    services.open_incident(name="Backend trouble", components={secret: "major_outage",
                                                               components["de2"]: "partial_outage"}, now=now)


@pytest.mark.parametrize("state", [_state_empty, _state_open_incident, _state_resolved_incident, _state_maintenance,
                                   _state_hidden], ids=lambda f: f.__name__.removeprefix("_state_"))
def test_it_serves_statuspage_shapes_in_every_state(client, components, state):
    state(components, timezone.now())
    for endpoint in ENDPOINTS:
        payload = get(client, endpoint)
        assert schema_errors(endpoint, payload) == [], endpoint


def test_it_serves_statuspage_shapes_before_any_component_exists(client, page):
    for endpoint in ENDPOINTS:
        assert schema_errors(endpoint, get(client, endpoint)) == [], endpoint


# --- behaviour ---------------------------------------------------------------------------------


def test_it_describes_the_page(client, page, settings):
    data = get(client, "status.json")
    assert data["page"]["name"] == "Example Status"
    assert data["page"]["url"] == "https://status.example.com"
    assert data["page"]["time_zone"] == "Europe/Zurich"
    services.update_page(url="")
    assert get(client, "status.json")["page"]["url"] == settings.SITE_URL
    assert data["status"] == {"indicator": "none", "description": "All Systems Operational"}


def test_it_lists_only_open_incidents_as_unresolved(client, components):
    now = timezone.now()
    open_one = services.open_incident(name="Open", components={components["zh1"]: "partial_outage"}, now=now)
    closed = services.open_incident(name="Closed", now=now - timedelta(hours=1), display_at=now - timedelta(hours=1))
    services.resolve_incident(closed, now=now)
    monitoring = services.open_incident(name="Watching", status="monitoring", now=now)

    unresolved = get(client, "incidents/unresolved.json")["incidents"]
    assert {i["id"] for i in unresolved} == {open_one.public_id, monitoring.public_id}
    assert {i["id"] for i in get(client, "summary.json")["incidents"]} == {open_one.public_id, monitoring.public_id}
    everything = get(client, "incidents.json")["incidents"]
    assert {i["id"] for i in everything} == {open_one.public_id, closed.public_id, monitoring.public_id}
    assert everything[-1]["id"] == closed.public_id  # newest first
    resolved = by_id(everything)[closed.public_id]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None


def test_it_partitions_upcoming_and_active_maintenance(client, components):
    now = timezone.now()
    later = services.schedule_maintenance(name="Later", scheduled_for=now + timedelta(days=9),
                                          scheduled_until=now + timedelta(days=9, hours=1), now=now)
    sooner = services.schedule_maintenance(name="Sooner", scheduled_for=now + timedelta(days=1),
                                           scheduled_until=now + timedelta(days=1, hours=1), now=now)
    running = services.schedule_maintenance(name="Running", scheduled_for=now - timedelta(minutes=5),
                                            scheduled_until=now + timedelta(hours=1), components=[components["de1"]],
                                            now=now - timedelta(days=1))
    services.start_maintenance(running, now=now - timedelta(minutes=5))
    verifying = services.schedule_maintenance(name="Verifying", scheduled_for=now - timedelta(hours=1),
                                              scheduled_until=now + timedelta(hours=1), now=now - timedelta(days=1))
    services.post_maintenance_update(verifying, status="verifying", now=now - timedelta(minutes=1))
    done = services.schedule_maintenance(name="Done", scheduled_for=now - timedelta(days=2),
                                         scheduled_until=now - timedelta(days=2) + timedelta(hours=1),
                                         now=now - timedelta(days=3))
    services.complete_maintenance(done, now=now - timedelta(days=2) + timedelta(hours=1))

    upcoming = get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert [m["id"] for m in upcoming] == [sooner.public_id, later.public_id]  # soonest first
    active = get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert {m["id"] for m in active} == {running.public_id, verifying.public_id}
    recent = get(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    assert [m["id"] for m in recent] == [later.public_id, sooner.public_id, running.public_id,
                                         verifying.public_id, done.public_id]
    summary = get(client, "summary.json")
    assert {m["id"] for m in summary["scheduled_maintenances"]} == {
        sooner.public_id, later.public_id, running.public_id, verifying.public_id}
    assert summary["incidents"] == []

    shown = by_id(recent)
    assert shown[verifying.public_id]["monitoring_at"] is not None
    assert shown[done.public_id]["resolved_at"] is not None and shown[done.public_id]["status"] == "completed"
    assert shown[running.public_id]["impact"] == "maintenance"
    assert shown[running.public_id]["components"][0]["status"] == "under_maintenance"
    assert shown[sooner.public_id]["scheduled_for"] < shown[sooner.public_id]["scheduled_until"]
    assert [u["status"] for u in shown[done.public_id]["incident_updates"]] == ["completed", "scheduled"]


def test_it_raises_the_indicator_with_an_open_major_incident(client, components):
    assert get(client, "status.json")["status"]["indicator"] == "none"
    incident = services.open_incident(name="Outage", impact="major", components={components["de2"]: "partial_outage"})
    status = get(client, "status.json")["status"]
    assert status == {"indicator": "major", "description": "Partial System Outage"}
    assert get(client, "summary.json")["status"] == status
    services.resolve_incident(incident)
    assert get(client, "summary.json")["status"]["indicator"] == "none"


def test_it_lists_updates_newest_first(client, components):
    now = timezone.now()
    incident = services.open_incident(name="Slow API", body="Looking into it.", display_at=now - timedelta(hours=3),
                                      now=now - timedelta(hours=3))
    services.post_update(incident, status="identified", body="Found it.", now=now - timedelta(hours=2))
    services.post_update(incident, status="monitoring", body="Fixed, watching.", now=now - timedelta(hours=1))
    updates = get(client, "incidents.json")["incidents"][0]["incident_updates"]
    assert [u["body"] for u in updates] == ["Fixed, watching.", "Found it.", "Looking into it."]
    assert [u["status"] for u in updates] == ["monitoring", "identified", "investigating"]
    assert all(u["incident_id"] == incident.public_id for u in updates)
    assert all(u["custom_tweet"] is None and u["tweet_id"] is None for u in updates)


def test_it_reports_old_and_new_component_statuses_per_update(client, components):
    zh1, mail = components["zh1"], components["mail"]
    incident = services.open_incident(name="Storage", body="**Degraded** storage.",
                                      components={zh1: "degraded_performance"})
    services.post_update(incident, status="identified", body="Worse.", components={zh1: "major_outage"})
    services.post_update(incident, status="identified", body="No component changes.")
    services.resolve_incident(incident)

    shown = get(client, "incidents.json")["incidents"][0]
    resolved, quiet, worse, first = shown["incident_updates"]
    assert first["body"] == "**Degraded** storage."  # raw Markdown, as Statuspage serves it
    assert first["affected_components"] == [
        {"code": zh1.public_id, "name": "zh1.single", "old_status": "operational", "new_status": "degraded_performance"}]
    assert worse["affected_components"] == [
        {"code": zh1.public_id, "name": "zh1.single", "old_status": "degraded_performance", "new_status": "major_outage"}]
    assert quiet["affected_components"] is None
    assert resolved["affected_components"][0]["old_status"] == "major_outage"
    assert resolved["affected_components"][0]["new_status"] == "operational"
    assert [c["id"] for c in shown["components"]] == [zh1.public_id]
    assert shown["components"][0]["status"] == "operational"  # the component's status now
    assert mail.public_id not in json.dumps(shown)


def test_it_gives_a_group_the_worst_status_of_its_children(client, components):
    services.open_incident(name="Swiss trouble", components={components["zh1"]: "degraded_performance",
                                                             components["zh2"]: "partial_outage"})
    rows = get(client, "components.json")["components"]
    groups = {row["name"]: row for row in rows if row["group"]}
    assert groups["Switzerland"]["status"] == "partial_outage"
    assert groups["Germany"]["status"] == "operational"
    assert groups["Switzerland"]["components"] == [components["zh1"].public_id, components["zh2"].public_id]
    children = {row["name"]: row for row in rows if row["group_id"] == groups["Switzerland"]["id"]}
    assert children["zh1.single"]["status"] == "degraded_performance"
    assert children["zh2.cluster"]["status"] == "partial_outage"


def test_it_orders_groups_each_followed_by_its_children(client, components):
    rows = get(client, "components.json")["components"]
    assert [row["name"] for row in rows] == [
        "Switzerland", "zh1.single", "zh2.cluster", "Germany", "de1.compact", "de2.compact", "Mail delivery"]
    assert [row["position"] for row in rows] == list(range(1, 8))  # one sequence over the page, as Statuspage
    switzerland, zh1 = rows[0], rows[1]
    assert switzerland["group"] is True and switzerland["group_id"] is None
    assert zh1["group"] is False and zh1["group_id"] == switzerland["id"] and "components" not in zh1
    assert rows[6]["group_id"] is None and rows[6]["showcase"] is True
    assert zh1["description"] is None
    assert all(row["page_id"] == get(client, "status.json")["page"]["id"] for row in rows)


def test_it_leaves_hidden_components_out(client, components):
    hidden_group = services.create_group(name="Internal", hidden=True)
    farm = services.create_component(name="Build farm", group=hidden_group)
    secret = services.create_component(name="Secret backend", hidden=True)
    services.update_component(components["mail"], description="Outbound e-mail", only_show_if_degraded=True)
    incident = services.open_incident(name="Backend trouble", components={
        secret: "major_outage", farm: "major_outage", components["de2"]: "degraded_performance"})
    services.post_update(incident, status="identified", components={secret: "partial_outage"})

    summary = get(client, "summary.json")
    text = json.dumps(summary)
    for hidden in (secret, farm, hidden_group):
        assert hidden.public_id not in text
    assert "Internal" not in text and "Secret backend" not in text
    shown = summary["incidents"][0]
    assert [c["id"] for c in shown["components"]] == [components["de2"].public_id]
    assert shown["incident_updates"][0]["affected_components"] is None  # it changed only a hidden component
    mail = by_id(summary["components"])[components["mail"].public_id]
    assert mail["description"] == "Outbound e-mail" and mail["only_show_if_degraded"] is True
    assert summary["status"]["indicator"] == "minor"  # the hidden major outages do not count


def test_it_writes_timestamps_in_the_page_time_zone(client, components):
    services.update_page(time_zone="America/Tijuana")
    winter = datetime(2022, 2, 15, 21, 14, 17, 744000, tzinfo=UTC)
    incident = services.open_incident(name="Messaging issues", now=winter)
    services.resolve_incident(incident, now=winter + timedelta(minutes=23, seconds=19, microseconds=644000))
    summer = datetime(2022, 7, 1, 12, 0, 0, 5000, tzinfo=UTC)
    services.open_incident(name="Summer issue", now=summer)

    data = get(client, "incidents.json")
    assert data["page"]["time_zone"] == "America/Tijuana"
    shown = {i["name"]: i for i in data["incidents"]}
    assert shown["Messaging issues"]["created_at"] == "2022-02-15T13:14:17.744-08:00"
    assert shown["Messaging issues"]["resolved_at"] == "2022-02-15T13:37:37.388-08:00"
    assert shown["Summer issue"]["started_at"] == "2022-07-01T05:00:00.005-07:00"
    assert shown["Summer issue"]["incident_updates"][0]["display_at"] == "2022-07-01T05:00:00.005-07:00"

    services.update_page(time_zone="Etc/UTC")
    shown = {i["name"]: i for i in get(client, "incidents.json")["incidents"]}
    assert shown["Messaging issues"]["created_at"] == "2022-02-15T21:14:17.744Z"


def test_it_serves_compact_utf8_json_readable_from_any_origin(client, components):
    services.open_incident(name="Störung in Zürich ✧", components={components["zh1"]: "major_outage"})
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/v2/{endpoint}")
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Content-Type"] == "application/json; charset=utf-8"
    body = client.get("/api/v2/summary.json").content
    assert "Störung in Zürich ✧".encode() in body
    assert body == json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    assert client.post("/api/v2/summary.json").status_code == 405


def test_it_links_each_incident_to_its_public_page(client, components, settings):
    incident = services.open_incident(name="Down")
    maintenance = services.schedule_maintenance(name="Work", scheduled_for=timezone.now() + timedelta(days=1),
                                                scheduled_until=timezone.now() + timedelta(days=1, hours=2))
    assert get(client, "incidents.json")["incidents"][0]["shortlink"] == (
        f"{settings.SITE_URL}/incidents/{incident.public_id}")
    assert get(client, "scheduled-maintenances.json")["scheduled_maintenances"][0]["shortlink"] == (
        f"{settings.SITE_URL}/maintenance/{maintenance.public_id}")


def test_it_lists_the_50_most_recent_incidents(client, page):
    now = timezone.now()
    for n in range(51):
        services.backfill_incident(name=f"Past {n}", started_at=now - timedelta(days=60 - n),
                                   resolved_at=now - timedelta(days=60 - n, hours=-1), now=now)
    names = [i["name"] for i in get(client, "incidents.json")["incidents"]]
    assert len(names) == 50
    assert names[0] == "Past 50" and names[-1] == "Past 1"


# --- bounded work ------------------------------------------------------------------------------


def _many_incidents(components: dict, count: int) -> None:
    now = timezone.now()
    zh1, de1 = components["zh1"], components["de1"]
    for n in range(count):
        at = now - timedelta(hours=count - n)
        incident = services.open_incident(name=f"Incident {n}", components={zh1: "degraded_performance"},
                                          display_at=at, now=at)
        services.post_update(incident, status="identified", components={de1: "partial_outage"},
                             now=at + timedelta(minutes=10))
        if n % 2:
            services.resolve_incident(incident, now=at + timedelta(minutes=20))
    services.schedule_maintenance(name="Planned", scheduled_for=now + timedelta(days=1),
                                  scheduled_until=now + timedelta(days=1, hours=1), components=[zh1])


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize("endpoint", ["summary.json", "incidents.json"])
def test_it_reads_a_fixed_number_of_queries_however_many_incidents(client, components, count, endpoint,
                                                                   django_assert_max_num_queries):
    _many_incidents(components, count)
    with django_assert_max_num_queries(12):
        payload = get(client, endpoint)
    assert len(payload["incidents"]) == (count if endpoint == "incidents.json" else count - count // 2)
