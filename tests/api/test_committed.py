"""A write that committed is reported as done, even when the connection to the database is lost right
after the commit: the response is built from what was written, inside the write's transaction."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection

from signalpost.status.models import Component, Incident


@contextmanager
def _lost_after_commit():
    """From the first commit on, every statement fails as if the database server had gone away."""
    committed = []
    commit = connection.commit

    def commit_then_lose():
        commit()
        committed.append(True)

    def fail_after_commit(execute, sql, params, many, context):
        if committed:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with mock.patch.object(connection, "commit", commit_then_lose), connection.execute_wrapper(fail_after_commit):
        yield committed


def _post(client, token, path, body):
    client.raise_request_exception = False
    return client.post(path, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("path,body", [
    ("/api/v1/incidents", {"name": "Down", "components": {"zh1.single": "major_outage"}}),
    ("/api/v1/maintenance", {"name": "Upgrade", "scheduled_for": "2030-01-01T10:00:00Z",
                             "scheduled_until": "2030-01-01T11:00:00Z"}),
    ("/api/v1/components", {"name": "api"}),
])
def test_a_committed_write_is_answered_as_done(transactional_db, client, make_token, components, path, body):
    token = make_token("admin")
    with _lost_after_commit() as committed:
        response = _post(client, token, path, body)
    assert committed, "the write committed"
    assert response.status_code == 201, response.content
    assert response.json()["name"] == body["name"]
    assert Incident.objects.filter(name=body["name"]).exists() or Component.objects.filter(name="api").exists()


def test_a_committed_incident_update_is_answered_as_done(transactional_db, client, make_token, components):
    token = make_token("write")
    incident = _post(client, token, "/api/v1/incidents", {"name": "Down"}).json()
    with _lost_after_commit() as committed:
        response = _post(client, token, f"/api/v1/incidents/{incident['id']}/updates",
                         {"status": "resolved", "body": "Fixed."})
    assert committed
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "resolved"
    assert Incident.objects.get().status == "resolved"
