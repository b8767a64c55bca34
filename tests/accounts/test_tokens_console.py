"""API tokens in the console: created and shown once, used against /api/v1, revoked."""

import re

import pytest

from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import digest

from .helpers import field_error, messages_of


def create(client, name="chat-ops bot", scope="write") -> tuple[ApiToken, str, object]:
    page = client.post("/console/tokens/new", {"name": name, "scope": scope})
    assert page.status_code == 200, page.content.decode()[:2000]
    plain = re.search(r'value="(sp_[^"]+)"', page.content.decode()).group(1)
    return ApiToken.objects.get(name=name), plain, page


def row_of(console, name: str) -> str:
    """The token's row in the console's list."""
    listing = console.get("/console/tokens/").content.decode()
    return listing.split(f'<th scope="row">{name}</th>')[1].split("</tr>")[0]


def test_a_token_is_created_and_shown_once(admin, login, audit_count):
    client = login(admin)
    counter = audit_count()
    token, plain, page = create(client)
    assert page["Cache-Control"] == "no-store"
    assert "it is shown only this once" in page.content.decode()
    assert (token.scope, token.created_by, token.prefix) == ("write", admin, plain[:10])
    assert token.digest == digest(plain)
    assert plain not in str(list(ApiToken.objects.values()))
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("token.create", "adam", "127.0.0.1")
    assert event.after == {"name": "chat-ops bot", "scope": "write"}
    again = client.get(f"/console/tokens/{token.pk}/created")
    assert plain not in again.content.decode()
    assert "cannot be shown again" in again.content.decode()


def test_a_console_token_works_against_the_api_until_it_is_revoked(admin, login, client, components, audit_count):
    console = login(admin)
    token, plain, _ = create(console, scope="write")
    bearer = {"Authorization": f"Bearer {plain}"}
    assert "never" in row_of(console, "chat-ops bot")
    assert client.get("/api/v1/components", headers=bearer).status_code == 200
    opened = client.post("/api/v1/incidents", {"name": "Database failover", "impact": "major",
                                               "components": {components["zh1"].public_id: "major_outage"}},
                         content_type="application/json", headers=bearer)
    assert opened.status_code == 201, opened.content
    row = row_of(console, "chat-ops bot")
    assert "never" not in row and row.count("<time") == 2  # created, and last used
    counter = audit_count()
    response = console.post(f"/console/tokens/{token.pk}/revoke")
    assert response.status_code == 302
    assert "is revoked" in " ".join(messages_of(console.get(response["Location"])))
    [event] = counter.new()
    assert (event.action, event.actor, event.after) == ("token.revoke", "adam", {"revoked": True})
    assert client.get("/api/v1/components", headers=bearer).status_code == 401
    assert "revoked" in row_of(console, "chat-ops bot")
    again = console.post(f"/console/tokens/{token.pk}/revoke", follow=True)
    assert "was already revoked" in " ".join(messages_of(again))
    assert counter.new() == [event]


def test_a_read_token_cannot_write(admin, login, client, page):
    _, plain, _ = create(login(admin), name="dashboard", scope="read")
    response = client.post("/api/v1/incidents", {"name": "x", "impact": "minor"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 403


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "scope": "read"}, "name", "This field is required."),
    ({"name": "   ", "scope": "read"}, "name", "This field is required."),
    ({"name": "x" * 201, "scope": "read"}, "name", "at most 200 characters"),
    ({"name": "bot", "scope": "root"}, "scope", "Select a valid choice"),
    ({"name": "bot"}, "scope", "This field is required."),
])
def test_bad_input_on_the_token_form_saves_nothing(admin, login, audit_count, data, field, message):
    counter = audit_count()
    response = login(admin).post("/console/tokens/new", data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert not ApiToken.objects.exists()
    assert counter.new() == []


def test_revoking_is_a_post(admin, login, make_token):
    make_token("read", name="ci")
    token = ApiToken.objects.get(name="ci")
    client = login(admin)
    assert client.get(f"/console/tokens/{token.pk}/revoke").status_code == 405
    assert client.post("/console/tokens/999999/revoke").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def _in_any_session(secret: str) -> bool:
    from django.contrib.sessions.models import Session

    return any(secret in str(session.get_decoded()) or secret in session.session_data
               for session in Session.objects.all())


def test_a_new_token_is_shown_on_the_answer_that_creates_it_and_kept_in_no_session(admin, db):
    from django.test import Client

    console = Client()
    console.force_login(admin)
    response = console.post("/console/tokens/new", {"name": "chat-ops bot", "scope": "write"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    plain = re.search(r'value="(sp_[^"]+)"', response.content.decode()).group(1)
    assert not _in_any_session(plain)  # the session table never holds it, not even until the next page
