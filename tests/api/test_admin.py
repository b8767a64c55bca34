import pytest
from django.contrib.auth import get_user_model

from signalpost.api.models import ApiToken
from signalpost.api.tokens import authenticate, create_token


@pytest.fixture
def superuser_client(client, db):
    user = get_user_model().objects.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_it_creates_a_token_in_the_admin_and_shows_it_once(superuser_client):
    response = superuser_client.post("/admin/api/apitoken/add/", {"name": "chat-ops", "scope": "write"}, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "not shown again" in str(m)]
    plain = message.rsplit(" ", 1)[-1]
    token = ApiToken.objects.get(name="chat-ops")
    assert authenticate(plain) == token and token.scope == "write"


def test_it_revokes_tokens_from_the_admin(superuser_client):
    token, plain = create_token("old laptop", "admin")
    superuser_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert authenticate(plain) is None


def test_it_shows_status_objects_read_only(superuser_client, incident):
    assert superuser_client.get("/admin/status/incident/").status_code == 200
    page = superuser_client.get(f"/admin/status/incident/{incident.pk}/change/")
    assert page.status_code == 200 and incident.name in page.content.decode()
    assert superuser_client.get("/admin/status/component/").status_code == 200
    assert superuser_client.get("/admin/status/incident/add/").status_code == 403
