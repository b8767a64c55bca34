"""Generated requests over /api/v1/openapi.json (schemathesis): whatever a client sends within the
document, and much that is outside it, the API never answers with a server error, answers only with
status codes the document lists, and its JSON bodies match the document's schemas.

Bounded so that it stays a small part of `make test`: about 20 cases for each of the API's operations
(about 1,100 requests), derandomized so that every run (and both databases in CI) sends the same ones.
The requests go through Django's WSGI handler in this process, on the test database, with an admin token;
a few real objects are made first so that some generated requests find something.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from signalpost.status import services

CASES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _load_schema():
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


# Loaded when the module is collected: the document needs no database.
schema = _load_schema()


@pytest.fixture(autouse=True)
def connection_kept(db):
    """As Django's test client does: the test's transaction holds the connection, which a request that
    ends must not close."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(make_token, components):
    services.open_incident(name="Connectivity issues", impact="major", components={components["zh1"]: "major_outage"})
    return make_token("admin")


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, derandomize=True, deadline=None, database=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
def test_the_api_answers_generated_requests_as_its_document_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
