import pytest

from .events_support import signed_in


@pytest.fixture
def responder(client, db):
    return signed_in(client, "rita", "responder")


@pytest.fixture
def viewer(client, db):
    return signed_in(client, "vera", "viewer")
