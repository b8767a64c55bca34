import pytest
from django.contrib.auth import get_user_model

from signalpost.accounts.models import Profile
from signalpost.status import services


@pytest.fixture
def viewer_client(client, db):
    user = get_user_model().objects.create_user("vera", password="correct horse battery")
    Profile.objects.create(user=user, role="viewer")
    client.force_login(user)
    return client


def test_it_sends_a_visitor_to_the_login_page(client, db):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login?next=%2Fconsole%2F"


def test_it_shows_why_each_component_has_its_status(viewer_client, components):
    services.open_incident(name="Database failover", impact="major",
                           components={components["zh1"]: "major_outage"})
    services.set_override(components["de1"], "degraded_performance", reason="Provider reports slowness")
    response = viewer_client.get("/console/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Database failover" in html
    assert "Provider reports slowness" in html
    assert "Major outage" in html
