"""/api/v1/subscribers and /api/v1/deliveries: list with search, filters and pages; add (confirmed or
asked to confirm), show, remove; CSV import (text/csv only, all or nothing, errors naming line and
column) and export, round-tripping; the dead-letter list and retry. Admin tokens only."""

import pytest

from signalpost.accounts.models import AuditEvent
from signalpost.events.models import Event
from signalpost.notify import admin
from signalpost.notify.models import Attempt, Delivery, DeliveryState, Subscriber


@pytest.fixture
def token(make_token):
    return make_token("admin")


def _headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_write_token_may_not_list_subscribers(client, make_token, components):
    response = client.get("/api/v1/subscribers", headers=_headers(make_token("write")))
    assert response.status_code == 403


def test_add_show_list_and_delete(api, components):
    response = api.post("/api/v1/subscribers", {"channel": "email", "address": "Ana@Example.com",
                                                "components": ["zh1.single"], "confirmed": True})
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["state"] == "confirmed" and added["source"] == "admin" and added["all_components"] is False
    assert [c["name"] for c in added["components"]] == ["zh1.single"]
    assert api.get(f"/api/v1/subscribers/{added['id']}").json() == added

    pending = api.post("/api/v1/subscribers", {"channel": "email", "address": "bob@example.com"}).json()
    assert pending["state"] == "pending"
    assert Event.objects.filter(kind="subscriber.confirmation_requested", subject=f"subscriber:{pending['id']}").exists()

    listed = api.get("/api/v1/subscribers", data={"q": "ana", "per_page": 1}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == added["id"]
    assert api.get("/api/v1/subscribers", data={"state": "pending"}).json()["count"] == 1
    assert api.get("/api/v1/subscribers", data={"state": "asleep"}).status_code == 422


def test_delete(client, token, components):
    subscriber = admin.add_subscriber(channel="email", address="ana@example.com", confirmed=True)
    response = client.delete(f"/api/v1/subscribers/{subscriber.public_id}", headers=_headers(token))
    assert response.status_code == 204 and not Subscriber.objects.exists()
    assert client.delete(f"/api/v1/subscribers/{subscriber.public_id}", headers=_headers(token)).status_code == 404


def test_a_bad_subscriber_is_refused_naming_the_field(api, components):
    response = api.post("/api/v1/subscribers", {"channel": "email", "address": "nope"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "address", "message": "is not an e-mail address"}]
    response = api.post("/api/v1/subscribers", {"channel": "pager", "address": "x@example.com"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "channel"
    response = api.post("/api/v1/subscribers", {"channel": "email", "address": "x@example.com", "confirmd": True})
    assert response.json()["errors"][0] == {"field": "confirmd", "message": "is not a known field"}
    response = api.post("/api/v1/subscribers", {"channel": "email", "address": "x@example.com", "components": ["nowhere"]})
    assert response.json()["errors"][0]["field"] == "components"
    assert not Subscriber.objects.exists()


def _csv(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_export_then_import_round_trips(client, token, components):
    admin.add_subscriber(channel="email", address="ana@example.com", confirmed=True,
                         components=[components["de1"].public_id])
    admin.add_subscriber(channel="email", address="bob@example.com")
    response = client.get("/api/v1/subscribers/export", headers=_headers(token))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = _csv(response)
    before = sorted((s.channel, s.address, sorted(c.name for c in s.components.all()), s.is_confirmed)
                    for s in Subscriber.objects.all())
    Subscriber.objects.all().delete()

    dry = client.post("/api/v1/subscribers/import?dry_run=true", exported, content_type="text/csv",
                      headers=_headers(token))
    assert dry.status_code == 200 and dry.json() == {"added": 2, "already_subscribed": 0, "dry_run": True}
    assert not Subscriber.objects.exists()

    done = client.post("/api/v1/subscribers/import", exported, content_type="text/csv", headers=_headers(token))
    assert done.json() == {"added": 2, "already_subscribed": 0, "dry_run": False}
    after = sorted((s.channel, s.address, sorted(c.name for c in s.components.all()), s.is_confirmed)
                   for s in Subscriber.objects.all())
    assert after == before
    again = client.post("/api/v1/subscribers/import", exported, content_type="text/csv", headers=_headers(token))
    assert again.json()["added"] == 0 and again.json()["already_subscribed"] == 2


def test_an_import_with_a_bad_line_names_it_and_writes_nothing(client, token, components):
    body = "channel,address,confirmed\nemail,ok@example.com,\nemail,bad,\nemail,c@example.com,yesterday\n"
    response = client.post("/api/v1/subscribers/import", body, content_type="text/csv", headers=_headers(token))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "line 3.address", "message": "is not an e-mail address"},
        {"field": "line 4.confirmed", "message": "must be an ISO-8601 date and time with an offset "
                                                 "(e.g. 2026-11-25T14:00:00Z), or empty"}]
    assert response.json()["detail"].startswith("Nothing was imported: line 3, address")
    assert not Subscriber.objects.exists()


def test_the_import_takes_csv_only_and_all_confirmed(client, token, components):
    response = client.post("/api/v1/subscribers/import", {"channel": "email"}, content_type="application/json",
                           headers=_headers(token))
    assert response.status_code == 415 and response.json()["errors"][0]["message"] == "must be text/csv"
    response = client.post("/api/v1/subscribers/import?confirmed=true", "channel,address\nemail,a@example.com\n",
                           content_type="text/csv", headers=_headers(token))
    assert response.status_code == 200
    assert Subscriber.objects.get().is_confirmed
    assert AuditEvent.objects.filter(action="subscriber.import").count() == 1
    # other operations still take JSON only
    response = client.post("/api/v1/subscribers", "channel,address", content_type="text/csv", headers=_headers(token))
    assert response.status_code == 415


def test_the_dead_letter_list_and_retry(client, token, components):
    subscriber = admin.add_subscriber(channel="email", address="ana@example.com", confirmed=True)
    failed = Delivery.objects.create(key="7.abc", event_id=7, event_kind="incident.opened", subject="incident:x",
                                     subscriber=subscriber, channel="email", address="ana@example.com",
                                     state=DeliveryState.FAILED, attempts=8)
    Attempt.objects.create(delivery=failed, ok=False, status=451, error="mailbox busy")
    Delivery.objects.create(key="7.def", event_id=7, event_kind="incident.opened", subject="incident:x",
                            channel="email", address="bob@example.com", state=DeliveryState.SENT)
    listed = client.get("/api/v1/deliveries?state=failed", headers=_headers(token)).json()
    assert listed["count"] == 1
    [item] = listed["items"]
    assert item["id"] == "7.abc" and item["subscriber"] == subscriber.public_id
    assert item["attempts"][0]["status"] == 451 and item["attempts"][0]["error"] == "mailbox busy"

    response = client.post("/api/v1/deliveries/7.abc/retry", content_type="application/json", headers=_headers(token))
    assert response.status_code == 200 and response.json()["state"] == "pending"
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PENDING and failed.attempts == 0
    again = client.post("/api/v1/deliveries/7.abc/retry", content_type="application/json", headers=_headers(token))
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "state"
    assert client.post("/api/v1/deliveries/nothing/retry", content_type="application/json", headers=_headers(token)).status_code == 404


def test_the_lists_take_the_same_queries_however_many_items(client, token, components):
    def make(n: int, start: int):
        for i in range(start, start + n):
            subscriber = admin.add_subscriber(channel="email", address=f"r{i}@example.com", confirmed=True,
                                              components=[components["zh1"].public_id, components["de1"].public_id])
            delivery = Delivery.objects.create(key=f"9.{subscriber.public_id}", event_id=9, event_kind="incident.opened",
                                               subject="incident:x", subscriber=subscriber, channel="email",
                                               address=subscriber.address, state=DeliveryState.FAILED)
            Attempt.objects.create(delivery=delivery, ok=False, error="refused")

    def queries(path: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, headers=_headers(token)).status_code == 200
        return len(captured)

    make(2, 0)
    queries("/api/v1/subscribers")  # the token's first use of the minute is written down: not counted
    few = (queries("/api/v1/subscribers"), queries("/api/v1/deliveries?state=failed"))
    make(20, 2)
    many = (queries("/api/v1/subscribers"), queries("/api/v1/deliveries?state=failed"))
    assert many == few, (few, many)
