import threading

import pytest
from django.db import connection
from django.test import Client

from signalpost.api.models import IdempotentRequest
from signalpost.status.models import Incident

from .conftest import TokenClient, field_errors

OPEN = {"name": "Connectivity issues", "components": {"zh1.single": "major_outage"}}


def test_it_replays_the_first_response_to_a_retry(writer, components):
    first = writer.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "chatops-42"})
    retry = writer.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "chatops-42"})
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Incident.objects.count() == 1


def test_it_compares_bodies_as_json(writer, components):
    writer.post("/api/v1/incidents", '{"name": "Down"}', headers={"Idempotency-Key": "k"})
    retry = writer.post("/api/v1/incidents", '{ "name" :  "Down" }', headers={"Idempotency-Key": "k"})
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_it_refuses_the_same_key_with_a_different_body(writer, components):
    writer.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "chatops-42"})
    response = writer.post("/api/v1/incidents", {**OPEN, "name": "Other"}, headers={"Idempotency-Key": "chatops-42"})
    assert response.status_code == 422
    assert "different request" in field_errors(response)["Idempotency-Key"]
    assert Incident.objects.count() == 1


def test_it_keeps_keys_per_token(as_scope, components):
    alice, bob = as_scope("write"), as_scope("write")
    alice.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "same"})
    response = bob.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "same"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Incident.objects.count() == 2


def test_it_stores_nothing_for_a_refused_request(writer, components):
    bad = writer.post("/api/v1/incidents", {"name": ""}, headers={"Idempotency-Key": "fix-and-retry"})
    assert bad.status_code == 422
    assert not IdempotentRequest.objects.exists()
    good = writer.post("/api/v1/incidents", {"name": "Down"}, headers={"Idempotency-Key": "fix-and-retry"})
    assert good.status_code == 201


def test_it_replays_updates_too(writer, incident):
    path = f"/api/v1/incidents/{incident.public_id}/updates"
    for _ in range(2):
        response = writer.post(path, {"status": "identified", "body": "Found it."}, headers={"Idempotency-Key": "u1"})
        assert response.status_code == 201
    assert len(response.json()["updates"]) == 2


def test_it_refuses_an_overlong_key(writer, components):
    response = writer.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422 and "Idempotency-Key" in field_errors(response)
    assert not Incident.objects.exists()


def test_it_still_refuses_a_retry_without_a_valid_token(as_scope, writer, components):
    writer.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "k"})
    assert as_scope(None).post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "k"}).status_code == 401


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_creates_one_incident_when_two_requests_race_with_one_key(make_token, components):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serializes them)")
    token = make_token("write")
    start = threading.Barrier(4)
    responses = []

    def post() -> None:
        try:
            start.wait()
            client = TokenClient(Client(), token)
            responses.append(client.post("/api/v1/incidents", OPEN, headers={"Idempotency-Key": "race"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Incident.objects.count() == 1
    assert sorted(r.status_code for r in responses) == [201, 201, 201, 201]
    assert len({r.content for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 3
