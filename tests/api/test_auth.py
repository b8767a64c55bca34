from django.test import Client

from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import create_token, revoke_token


def test_it_refuses_a_request_without_a_token(as_scope, components):
    response = as_scope(None).get("/api/v1/components")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_an_unknown_token(client, components):
    response = client.get("/api/v1/components", headers={"Authorization": "Bearer sp_not-a-real-token"})
    assert response.status_code == 401
    assert response.json() == {"detail": "this token is not valid, or has been revoked"}


def test_it_refuses_a_token_sent_with_another_scheme(client, make_token):
    response = client.get("/api/v1/page", headers={"Authorization": f"Token {make_token('read')}"})
    assert response.status_code == 401


def test_it_refuses_a_revoked_token(client, components):
    token, plain = create_token("ci", "admin")
    revoke_token(token)
    response = client.get("/api/v1/components", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401


def test_it_refuses_a_write_with_a_read_token_and_says_which_scope_is_needed(reader, components):
    response = reader.post("/api/v1/incidents", {"name": "Down"})
    assert response.status_code == 403
    assert response.json() == {"detail": "this token's scope is read; this needs write"}


def test_it_refuses_component_changes_with_a_write_token(writer, components):
    response = writer.post("/api/v1/components", {"name": "zh3.single"})
    assert response.status_code == 403
    assert response.json()["detail"] == "this token's scope is write; this needs admin"
    assert writer.patch("/api/v1/page", {"name": "X"}).status_code == 403
    assert writer.post("/api/v1/groups", {"name": "France"}).status_code == 403


def test_it_lets_a_read_token_read_everything(reader, incident):
    for path in ("/api/v1/page", "/api/v1/status", "/api/v1/groups", "/api/v1/components",
                 "/api/v1/incidents", f"/api/v1/incidents/{incident.public_id}", "/api/v1/maintenance"):
        assert reader.get(path).status_code == 200, path


def test_it_records_when_a_token_was_last_used(client, components):
    token, plain = create_token("status bot", "read")
    assert token.last_used_at is None
    client.get("/api/v1/status", headers={"Authorization": f"Bearer {plain}"})
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_it_needs_no_csrf_token_for_bearer_requests(make_token, components):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/api/v1/incidents", {"name": "Down"}, content_type="application/json",
        headers={"Authorization": f"Bearer {make_token('write')}"},
    )
    assert response.status_code == 201
