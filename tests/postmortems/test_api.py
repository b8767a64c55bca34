"""/api/v1/postmortems: a script writes, reviews and publishes a postmortem; bad input is refused with
the field named and nothing saved; reading needs a read token, everything else a write token."""

import re
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth import get_user_model

from signalpost.accounts.models import AuditEvent, Profile
from signalpost.postmortems.models import (
    ActionItem,
    ImpactFigure,
    Postmortem,
    PostmortemVersion,
    TimelineEntry,
)
from signalpost.status import services as status

from .conftest import ApiCaller

UTC = dt_timezone.utc
BASE = "/api/v1/postmortems"


@pytest.fixture
def incident(components):
    return status.backfill_incident(
        name="Connectivity issues in ZH1", started_at=datetime(2025, 6, 2, 8, 0, tzinfo=UTC),
        resolved_at=datetime(2025, 6, 2, 9, 30, tzinfo=UTC), components={components["zh1"]: "major_outage"},
        body="Packets are lost.")


@pytest.fixture
def draft(author_api, incident) -> dict:
    return author_api.call("POST", BASE, {"incidents": [incident.public_id], "title": "ZH1 connectivity",
                                          "template": "learning_review", "summary": "A switch failed."})


def errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_a_script_writes_reviews_and_publishes_a_postmortem(author_api, reviewer_api, incident, draft, client):
    assert draft["status"] == "draft" and draft["label"] == "Learning review" and draft["version"] == 1
    assert draft["author"] == "arthur" and draft["timeline_zone"] == "Europe/Zurich"
    assert draft["incidents"] == [{"id": incident.public_id, "kind": "incident", "name": "Connectivity issues in ZH1",
                                   "url": f"http://127.0.0.1:8000/incidents/{incident.public_id}"}]
    assert draft["computed"]["total_duration_seconds"] == 90 * 60
    assert draft["computed"]["groups"] == ["Switzerland"]
    assert [e["source"] for e in draft["timeline"]] == ["state", "update", "state", "update"]  # prefilled
    pm = f"{BASE}/{draft['id']}"

    body = author_api.call("PATCH", pm, {"root_cause": "A failed switch.", "timeline_zone": "UTC",
                                         "first_signal_at": "2025-06-02T07:52:00Z"})
    assert body["root_cause"] == "A failed switch." and body["computed"]["time_to_detect_seconds"] == 8 * 60
    body = author_api.call("PUT", f"{pm}/figures", {"figures": [{"label": "Packets lost", "value": "12%"}]})
    assert body["figures"] == [{"label": "Packets lost", "value": "12%"}]
    body = author_api.call("PUT", f"{pm}/timeline", {"entries": [
        {"at": "2025-06-02T08:00:00Z", "text": "Alerts for packet loss."},
        {"at": "2025-06-02T07:52:00Z", "text": "A switch port starts flapping."}]})
    assert [e["text"] for e in body["timeline"]] == ["A switch port starts flapping.", "Alerts for packet loss."]
    entry = body["timeline"][1]["id"]
    body = author_api.call("PATCH", f"{pm}/timeline/{entry}", {"text": "Alerts for packet loss in ZH1."})
    assert body["timeline"][1]["text"] == "Alerts for packet loss in ZH1."
    body = author_api.call("POST", f"{pm}/timeline", {"at": "2025-06-02T09:30:00Z", "text": "Switch replaced."})
    assert len(body["timeline"]) == 3
    body = author_api.call("DELETE", f"{pm}/timeline/{body['timeline'][0]['id']}")
    assert len(body["timeline"]) == 2
    body = author_api.call("POST", f"{pm}/action-items", {
        "title": "Alert on flapping ports", "kind": "Detection", "owner": "Network team", "due_date": "2025-07-01",
        "link": "https://tracker.example.com/NET-7"})
    [item] = body["action_items"]
    assert (item["kind"], item["state"], item["due_date"]) == ("Detection", "open", "2025-07-01")
    body = author_api.call("PATCH", f"{pm}/action-items/{item['id']}", {"state": "in_progress"})
    assert body["action_items"][0]["state"] == "in_progress"

    body = author_api.call("POST", f"{pm}/request-review", {})
    assert body["status"] == "in_review"
    refused = author_api.request("POST", f"{pm}/approve")
    assert refused.status_code == 422
    assert errors(refused) == {"approved_by": "an author cannot approve their own postmortem"}
    body = reviewer_api.call("POST", f"{pm}/approve")
    assert body["status"] == "approved" and body["approved_by"] == "rita"
    assert body["approved_version"] == body["version"]
    assert client.get(f"/postmortems/{draft['id']}").status_code == 404  # approved is not published
    body = author_api.call("POST", f"{pm}/publish")
    assert body["status"] == "published" and body["url"] == f"http://127.0.0.1:8000/postmortems/{draft['id']}"
    page = client.get(f"/postmortems/{draft['id']}")
    assert page.status_code == 200 and "Alert on flapping ports" in page.content.decode()

    versions = author_api.call("GET", f"{pm}/versions")
    assert [v["number"] for v in versions] == list(range(1, body["version"] + 1))
    diff = author_api.call("GET", f"{pm}/diff?from=1&to=2")
    assert [d["part"] for d in diff] == ["details", "root_cause"]
    assert "+A failed switch." in diff[1]["diff"]
    assert author_api.call("GET", f"{pm}/versions/1")["content"]["root_cause"] == ""
    assert author_api.call("GET", f"{pm}/markdown")["markdown"].startswith("# ZH1 connectivity\n")


def test_it_lists_postmortems_by_status_and_incident(author_api, draft, incident, make_token, client):
    reader = ApiCaller(client, make_token("read"))
    listed = reader.call("GET", BASE)
    assert listed["count"] == 1 and listed["items"][0]["id"] == draft["id"]
    assert reader.call("GET", f"{BASE}?status=published")["count"] == 0
    assert reader.call("GET", f"{BASE}?incident={incident.public_id}")["items"][0]["title"] == "ZH1 connectivity"
    assert reader.call("GET", f"{BASE}/{draft['id']}")["summary"] == "A switch failed."
    assert reader.request("GET", f"{BASE}?status=done").status_code == 422
    assert reader.request("GET", f"{BASE}/nosuchthing0").json() == {"detail": 'no postmortem with id "nosuchthing0"'}


def test_a_read_token_cannot_write(draft, make_token, client):
    reader = ApiCaller(client, make_token("read"))
    for method, path, payload in [("POST", BASE, {"incidents": []}), ("PATCH", f"{BASE}/{draft['id']}", {}),
                                  ("POST", f"{BASE}/{draft['id']}/publish", None),
                                  ("POST", f"{BASE}/action-item-kinds", {"name": "X"})]:
        assert reader.request(method, path, payload).status_code == 403, (method, path)
    writer = ApiCaller(client, make_token("write"))
    assert writer.request("POST", f"{BASE}/action-item-kinds", {"name": "X"}).status_code == 403  # the team's list


@pytest.mark.parametrize(("payload", "expected"), [
    ({"incidents": []}, {"incidents": "name at least one incident or maintenance"}),
    ({"incidents": ["nosuchthing0"]}, {"incidents": 'no incident or maintenance with id "nosuchthing0"'}),
    ({"incidents": "{incident}", "title": " "}, {"title": "must not be empty"}),
    ({"incidents": "{incident}", "timeline_zone": "Mars/Olympus"},
     {"timeline_zone": '"Mars/Olympus" is not a known time zone (e.g. "Europe/Zurich")'}),
    ({"incidents": "{incident}", "first_signal_at": "2025-06-02T07:52:00"},
     {"first_signal_at": "must include a time zone offset (e.g. 2026-11-25T14:00:00Z)"}),
    ({"incidents": "{incident}", "first_signal_at": "2025-06-02T08:30:00Z"},
     {"first_signal_at": "is after the problem was detected (2025-06-02 08:00 UTC); set detected_at too if "
                         "detection came later"}),
    ({"incidents": "{incident}", "sumary": "typo"}, {"sumary": "is not a known field"}),
    ({"title": "No incidents"}, {"incidents": "is required"}),
])
def test_it_refuses_a_bad_postmortem_and_saves_nothing(author_api, incident, payload, expected):
    if payload.get("incidents") == "{incident}":
        payload = {**payload, "incidents": [incident.public_id]}
    before = AuditEvent.objects.count()
    response = author_api.request("POST", BASE, payload)
    assert response.status_code == 422
    assert errors(response) == expected
    assert not Postmortem.objects.exists() and AuditEvent.objects.count() == before


def test_it_refuses_bad_parts_and_changes_nothing(author_api, draft):
    pm = f"{BASE}/{draft['id']}"
    def counts() -> tuple:
        return tuple(model.objects.count() for model in
                     (TimelineEntry, ImpactFigure, ActionItem, PostmortemVersion, AuditEvent))

    before = counts()
    cases = [
        ("PUT", f"{pm}/timeline", {"entries": [{"at": "2025-06-02T08:00:00Z", "text": ""}]},
         {"entries[0].text": "must not be empty"}),
        ("PUT", f"{pm}/timeline", {"entries": [{"at": "yesterday", "text": "x"}]},
         {"entries[0].at": "must be an ISO-8601 date and time with an offset (e.g. 2026-11-25T14:00:00Z)"}),
        ("PUT", f"{pm}/figures", {"figures": [{"label": "Deploys affected", "value": " "}]},
         {"figures[0].value": "must not be empty"}),
        ("POST", f"{pm}/action-items", {"title": "Fix it", "kind": "Hope"},
         {"kind": '"Hope" is not a kind of action item (one of: Preventive (process), Preventive (tooling), '
                  'Detection, Mitigation, Improving recovery)'}),
        ("POST", f"{pm}/action-items", {"title": "Fix it", "kind": "Detection", "link": "ftp://x"},
         {"link": "must be an http:// or https:// address (the item in your tracker)"}),
        ("POST", f"{pm}/action-items", {"title": "Fix it", "kind": "Detection", "state": "later"},
         {"state": "must be one of: open, in_progress, done or wont_do"}),
        ("POST", f"{pm}/action-items", {"title": "Fix it", "kind": "Detection", "due_date": "31.12.2025"},
         {"due_date": "must be an ISO-8601 date (e.g. 2026-11-25)"}),
        ("PATCH", pm, {"title": None}, {"title": "must be a string"}),
        ("PATCH", pm, {"template": ""}, {"template": "must not be empty"}),
        ("POST", f"{pm}/request-review", {"reviewer": "nobody"}, {"reviewer": 'no active user named "nobody"'}),
        ("POST", f"{pm}/publish", None, {"status": "only an approved postmortem can be published; someone other "
                                                   "than its author approves it first"}),
        ("POST", f"{pm}/approve", None, {"status": "only a postmortem in review can be approved; request a review "
                                                   "first"}),
    ]
    for method, path, payload, expected in cases:
        response = author_api.request(method, path, payload)
        assert response.status_code == 422, (method, path, payload, response.content)
        assert errors(response) == expected, (method, path, payload)
    assert counts() == before
    assert author_api.request("PATCH", f"{pm}/timeline/nosuchthing0", {"text": "x"}).status_code == 404
    assert author_api.request("DELETE", f"{pm}/action-items/nosuchthing0").status_code == 404


def test_the_kinds_of_action_item_are_the_teams(author_api, draft):
    kinds = author_api.call("GET", f"{BASE}/action-item-kinds")
    assert [k["name"] for k in kinds][:2] == ["Preventive (process)", "Preventive (tooling)"]
    made = author_api.call("POST", f"{BASE}/action-item-kinds", {"name": "Communication"})
    assert made["position"] == len(kinds) + 1
    assert author_api.call("PATCH", f"{BASE}/action-item-kinds/{made['id']}", {"name": "Telling readers"})["name"] \
        == "Telling readers"
    author_api.call("POST", f"{BASE}/{draft['id']}/action-items", {"title": "Post sooner", "kind": "Telling readers"})
    refused = author_api.request("DELETE", f"{BASE}/action-item-kinds/{made['id']}")
    assert errors(refused) == {"kind": '"Telling readers" groups 1 action item; move them to another kind first'}
    detection = next(k for k in kinds if k["name"] == "Detection")
    left = author_api.call("DELETE", f"{BASE}/action-item-kinds/{detection['id']}")
    assert "Detection" not in [k["name"] for k in left] and "Telling readers" in [k["name"] for k in left]


def test_a_retried_publication_with_an_idempotency_key_is_answered_once(author_api, reviewer_api, draft):
    pm = f"{BASE}/{draft['id']}"
    author_api.call("POST", f"{pm}/request-review", {})
    reviewer_api.call("POST", f"{pm}/approve")
    before = AuditEvent.objects.count()
    headers = {"Authorization": f"Bearer {author_api.token}", "Idempotency-Key": "publish-zh1-review"}
    first = author_api.client.post(f"{pm}/publish", content_type="application/json", headers=headers)
    again = author_api.client.post(f"{pm}/publish", content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json()["status"] == "published"
    assert AuditEvent.objects.count() == before + 1


def test_it_lists_postmortems_in_a_bounded_number_of_queries(author_api, components, django_assert_max_num_queries):
    from datetime import timedelta

    def add(n: int) -> None:
        for k in range(n):
            started = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=Postmortem.objects.count() + k)
            incident = status.backfill_incident(name=f"Outage {k}", started_at=started,
                                                resolved_at=started + timedelta(hours=1))
            author_api.call("POST", BASE, {"incidents": [incident.public_id], "title": f"Outage {k}"})

    def queries() -> int:
        with django_assert_max_num_queries(8) as captured:
            assert author_api.call("GET", BASE)["count"] == Postmortem.objects.count()
        return len(captured)

    add(1)
    few = queries()
    add(6)
    assert queries() == few


@pytest.mark.parametrize(("published_at", "message"), [
    ("2025-06-02T09:00:00Z", 'is before "Connectivity issues in ZH1" ended'),
    ("2199-01-01T00:00:00Z", "is in the future"),
    ("2025-06-03T10:00:00", "must include a time zone offset"),
])
def test_a_published_time_that_cannot_be_is_refused_and_it_stays_approved(author_api, reviewer_api, draft,
                                                                        published_at, message):
    pm = f"{BASE}/{draft['id']}"
    author_api.call("POST", f"{pm}/request-review", {})
    reviewer_api.call("POST", f"{pm}/approve", None)
    response = author_api.request("POST", f"{pm}/publish", {"published_at": published_at})
    assert response.status_code == 422
    [(field, said)] = errors(response).items()
    assert field == "published_at" and message in said
    assert author_api.call("GET", pm)["status"] == "approved"


def test_a_postmortem_entered_after_the_fact_keeps_its_published_time_in_the_page_zone(
        author_api, reviewer_api, draft, client):
    pm = f"{BASE}/{draft['id']}"
    author_api.call("POST", f"{pm}/request-review", {})
    reviewer_api.call("POST", f"{pm}/approve", None)
    body = author_api.call("POST", f"{pm}/publish", {"published_at": "2025-06-03T07:15:00+02:00"})
    assert (body["status"], body["published_at"], body["first_published_at"]) == (
        "published", "2025-06-03T05:15:00Z", "2025-06-03T05:15:00Z")
    assert AuditEvent.objects.filter(action="postmortem.publish").get().after["published_at"] == (
        "2025-06-03T05:15:00+00:00")
    status.update_page(time_zone="America/New_York")
    page = client.get(f"/postmortems/{draft['id']}").content.decode()
    assert 'Published <time class="pm-time" datetime="2025-06-03T05:15:00Z">Jun 3, 2025 01:15 EDT</time>' in page


# --- four eyes, whichever way the approval comes -----------------------------------------------------


def _console_token(person, name: str, scope: str = "write") -> str:
    """A token as an admin creates it on the console's API tokens page."""
    from django.test import Client

    console = Client()
    console.force_login(person)
    page = console.post("/console/tokens/new", {"name": name, "scope": scope}, follow=True).content.decode()
    return re.search(r"sp_[A-Za-z0-9_-]{20,}", page).group(0)


def test_an_author_cannot_approve_their_own_postmortem_through_a_token(client, incident, people):
    olga = people["olga"]  # an owner, who may create tokens in the console
    writing = ApiCaller(client, _console_token(olga, "olga's editor"))
    approving = ApiCaller(client, _console_token(olga, "olga's chat-ops bot"))
    pm = writing.call("POST", BASE, {"incidents": [incident.public_id], "title": "ZH1 connectivity"})
    assert pm["author"] == "olga"  # the token acts for the person who made it
    writing.call("POST", f"{BASE}/{pm['id']}/request-review", {})

    refused = approving.request("POST", f"{BASE}/{pm['id']}/approve")
    assert refused.status_code == 422
    assert errors(refused) == {"approved_by": "an author cannot approve their own postmortem"}
    from django.test import Client

    console = Client()
    console.force_login(olga)
    console.post(f"/console/postmortems/{pm['id']}/approve")
    assert Postmortem.objects.get(public_id=pm["id"]).status == "in_review"  # nor in the console

    reviewer = get_user_model().objects.create_user("rosa")
    Profile.objects.create(user=reviewer, role="admin")
    body = ApiCaller(client, _console_token(reviewer, "rosa's script")).call("POST", f"{BASE}/{pm['id']}/approve")
    assert body["status"] == "approved" and body["approved_by"] == "rosa"


def test_a_console_author_cannot_approve_through_a_token_either(client, incident, people):
    olga = people["olga"]
    from django.test import Client

    console = Client()
    console.force_login(olga)
    pm = services_create(incident, olga)
    refused = ApiCaller(client, _console_token(olga, "olga's bot")).request("POST", f"{BASE}/{pm.public_id}/approve")
    assert refused.status_code == 422
    assert errors(refused) == {"approved_by": "an author cannot approve their own postmortem"}


def test_a_token_made_on_the_server_acts_for_no_one_and_cannot_approve(client, incident, people, capsys):
    from signalpost.cli import main

    pm = services_create(incident, people["alice"])
    assert main(["token", "create", "--scope", "write", "--name", "server script"]) == 0
    no_one = capsys.readouterr().out.strip()
    refused = ApiCaller(client, no_one).request("POST", f"{BASE}/{pm.public_id}/approve")
    assert refused.status_code == 422
    assert errors(refused) == {"approved_by": "approving needs a person: use the console, or a token created by a "
                                              "responder or higher in the console"}

    assert main(["token", "create", "--scope", "write", "--name", "alice's script", "--for", "alice"]) == 0
    alices = capsys.readouterr().out.strip()
    refused = ApiCaller(client, alices).request("POST", f"{BASE}/{pm.public_id}/approve")
    assert errors(refused) == {"approved_by": "an author cannot approve their own postmortem"}

    assert main(["token", "create", "--scope", "write", "--name", "bob's script", "--for", "bob"]) == 0
    bobs = capsys.readouterr().out.strip()
    assert ApiCaller(client, bobs).call("POST", f"{BASE}/{pm.public_id}/approve")["approved_by"] == "bob"

    assert main(["token", "create", "--scope", "write", "--for", "nobody"]) == 1
    assert capsys.readouterr().err.strip() == 'signalpost: --for: no active user "nobody"'


def services_create(incident, author) -> Postmortem:
    from signalpost.postmortems import services

    pm = services.create_postmortem(incidents=[incident], title="ZH1 connectivity", author=author)
    return services.request_review(pm, user=author)
