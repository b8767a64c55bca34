"""Fixtures for the management API: clients holding a token of a given scope, and a few incidents."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.status import services


class TokenClient:
    """The Django test client, sending one bearer token (or none) and JSON bodies."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, extra: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, data: dict | None = None, headers: dict | None = None):
        return self.client.get(path, data, headers=self._headers(headers))

    def post(self, path: str, data=None, headers: dict | None = None):
        return self.client.post(path, data, content_type="application/json", headers=self._headers(headers))

    def patch(self, path: str, data=None, headers: dict | None = None):
        return self.client.patch(path, data, content_type="application/json", headers=self._headers(headers))

    def delete(self, path: str, headers: dict | None = None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture
def as_scope(client, make_token):
    def make(scope: str | None) -> TokenClient:
        return TokenClient(client, make_token(scope) if scope else None)

    return make


@pytest.fixture
def writer(as_scope):
    return as_scope("write")


@pytest.fixture
def reader(as_scope):
    return as_scope("read")


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def incident(components):
    """An open incident on zh1, begun an hour ago."""
    now = timezone.now()
    return services.open_incident(
        name="Connectivity issues in ZH1", impact="major", body="We are investigating.",
        components={components["zh1"]: "major_outage"}, display_at=now - timedelta(hours=1), now=now,
    )


@pytest.fixture
def admin(as_scope):
    return as_scope("admin")


# Status codes of the generated requests (test_schemathesis.py), reported once the run ends.
GENERATED_ANSWERS: Counter[int] = Counter()


def pytest_terminal_summary(terminalreporter) -> None:
    total = sum(GENERATED_ANSWERS.values())
    if total:
        succeeded = sum(count for code, count in GENERATED_ANSWERS.items() if 200 <= code < 300)
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(GENERATED_ANSWERS.items()))
        terminalreporter.write_line(f"generated requests (schemathesis): {total} sent, {succeeded} succeeded (2xx); "
                                    f"by status {codes}")
