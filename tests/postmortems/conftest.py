"""Fixtures for postmortems: people with roles, clients of the API holding a token each, and readers'
views of the public pages."""

import html
import json
import re

import pytest
from django.contrib.auth import get_user_model

from signalpost.accounts.models import Profile


class ApiCaller:
    """The management API through Django's test client with one token, called like tests/e2e's
    ApiClient (call(method, path, payload) -> the JSON answer); a refusal fails the test."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def request(self, method: str, path: str, payload=None):
        body = b"" if payload is None else json.dumps(payload)
        return self.client.generic(method, path, body, content_type="application/json",
                                   headers={"Authorization": f"Bearer {self.token}"})

    def call(self, method: str, path: str, payload=None) -> dict:
        response = self.request(method, path, payload)
        assert 200 <= response.status_code < 300, f"{method} {path}: {response.status_code} {response.content[:500]!r}"
        return response.json() if response.content else {}


def token_of(username: str, role: str, scope: str, name: str) -> str:
    """A token created by a console user of this role (a token acts for the person who made it)."""
    from signalpost.accounts.tokens import create_token

    person = get_user_model().objects.create_user(username)
    Profile.objects.create(user=person, role=role)
    return create_token(name, scope, created_by=person)[1]


@pytest.fixture
def author_api(client, db) -> ApiCaller:
    return ApiCaller(client, token_of("arthur", "admin", "admin", "author"))


@pytest.fixture
def reviewer_api(client, db) -> ApiCaller:
    return ApiCaller(client, token_of("rita", "responder", "write", "reviewer"))


@pytest.fixture
def people(db) -> dict:
    """A console user of each role that matters here, by name."""
    made = {}
    for name, role in [("alice", "responder"), ("bob", "responder"), ("vera", "viewer"), ("olga", "owner")]:
        user = get_user_model().objects.create_user(name)  # no password: hashing one is slow, tests log in directly
        Profile.objects.create(user=user, role=role)
        made[name] = user
    return made


def text(fragment: str) -> str:
    """The words a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r"\s+([).,])", r"\1", re.sub(r"\(\s+", "(", words))


def section(page: str, labelled_by: str) -> str:
    """The HTML of the <section aria-labelledby="..."> (sections of a postmortem do not nest, except
    the action item groups inside their section, which end with it)."""
    start = page.index(f'aria-labelledby="{labelled_by}"')
    if labelled_by == "pm-actions":
        end = page.index("</article>", start)
    else:
        end = page.index("</section>", start)
    return page[start:end]


def action_groups(page: str) -> dict[str, list[str]]:
    """{kind: [item titles]} in page order, from the action items section."""
    groups = {}
    for block in re.findall(r'<section class="pm-actions__group".*?</section>', page, re.S):
        kind = text(re.search(r'<h3[^>]*>(.*?)</h3>', block, re.S).group(1))
        groups[kind] = [text(t) for t in re.findall(r'<h4 class="pm-action__title">(.*?)</h4>', block, re.S)]
    return groups


def timeline(page: str) -> list[tuple[str, str, str]]:
    """(UTC instant, time shown, entry text) per timeline entry."""
    return [(iso, clock, text(body)) for iso, clock, body in re.findall(
        r'<time class="pm-time" datetime="([^"]+)"[^>]*>([^<]+)</time></p><div class="md pm-entry__text">(.*?)</div>',
        page, re.S)]
