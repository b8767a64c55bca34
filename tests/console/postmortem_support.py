"""Fixtures for the postmortem, action item and reliability screens: a team (author, reviewer, viewer,
admin), a resolved incident with a few updates, and a client signed in as any of them."""

from datetime import UTC, datetime

import pytest

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.status import services as status
from tests.routes import make_user


@pytest.fixture
def team(db) -> dict:
    return {name: make_user(role, name) for name, role in
            [("alice", "responder"), ("bob", "responder"), ("vera", "viewer"), ("adam", "admin")]}


@pytest.fixture
def signed_in(client, team):
    def sign_in(name: str):
        client.force_login(team[name])
        return client
    return sign_in


def at(text: str) -> datetime:
    """"2026-02-02 17:17" as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def incident(components):
    """An outage of zh1 on Feb 2, 2026: opened 17:20 UTC, identified 17:35, resolved 18:40."""
    opened = status.open_incident(name="Deploys fail on the origin", impact="major", body="Sites fail to load.",
                                  components={components["zh1"]: "major_outage"}, display_at=at("2026-02-02 17:20"))
    status.post_update(opened, status="identified", body="A migration overwrote deploy metadata.",
                       display_at=at("2026-02-02 17:35"))
    status.resolve_incident(opened, display_at=at("2026-02-02 18:40"))
    opened.refresh_from_db()
    return opened


@pytest.fixture
def draft(incident, team):
    with audit.acting(audit.user_actor(team["alice"])):
        return services.create_postmortem(incidents=[incident], title="Origin outage", template="learning_review",
                                          author=team["alice"], timeline_zone="America/Los_Angeles",
                                          summary="Deploy metadata was overwritten.")


def entries_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])
