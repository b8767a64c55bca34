"""Generated requests over /api/v1/openapi.json (schemathesis): whatever a client sends within the
document, and much that is outside it, the API never answers with a server error, answers only with
status codes the document lists, and its JSON bodies match the document's schemas.

Bounded so that it stays a small part of `make test`: about 20 cases for each of the API's operations
(about 1,100 requests), derandomized so that every run (and both databases in CI) sends the same ones.
The requests go through Django's WSGI handler in this process, on the test database, with an admin token.

So that the generated requests reach the paths that succeed, not only the refusals:
- real objects of every kind are made first, with fixed ids, and most generated cases name them in
  their path (the rest keep the generated id, which finds nothing);
- every case carries the token: a case generated without the Authorization header (the refusal is
  tested in test_auth.py) is not sent.
How many requests succeeded is printed at the end of the run, by status code.
"""

from datetime import UTC, datetime

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from signalpost.monitors.models import Monitor, MonitorComponent
from signalpost.postmortems import services as postmortems
from signalpost.postmortems.models import (
    ActionItem,
    ActionItemKind,
    Postmortem,
    PostmortemTemplate,
    TimelineEntry,
)
from signalpost.status import services
from signalpost.status.models import Component, ComponentGroup, Incident

from .conftest import GENERATED_ANSWERS

CASES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The path parameters of the document, and the object each names in the seeded database.
KNOWN_IDS = {
    "group_id": "grp000000001", "component_id": "cmp000000001", "incident_id": "inc000000001",
    "maintenance_id": "mnt000000001", "template_id": "tpl000000001", "kind_id": "knd000000001",
    "postmortem_id": "pmt000000001", "entry_id": "ent000000001", "item_id": "itm000000001", "number": 1,
    "monitor_id": "mon000000001",
}
# What a DELETE names instead: an object that nothing else holds on to (an empty group, a component no
# incident names, a kind no action item has), so that removing it can succeed.
SPARE_IDS = {"group_id": "grp000000002", "component_id": "cmp000000002", "kind_id": "knd000000002",
             "monitor_id": "mon000000002"}
# Of every four cases, three name the seeded objects and one keeps its generated path.
SEEDED_SHARE = 3

def _load_schema():
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


# Loaded when the module is collected: the document needs no database.
schema = _load_schema()


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    spares = SPARE_IDS if context.operation.method.upper() == "DELETE" else {}
    known = {name: spares.get(name, KNOWN_IDS.get(name, value)) for name, value in path_parameters.items()}
    return st.sampled_from([known] * SEEDED_SHARE + [path_parameters])


@schema.hook
def filter_case(context, case):
    """Only cases that send the token: one generated without the Authorization header would be sent
    without it, whatever the test adds."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return getattr(data, "parameter", None) != "Authorization"


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


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One object of every kind the paths name, each under its id in KNOWN_IDS: made once for the
    module, in a transaction rolled back at its end (each test's own changes are rolled back to it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        _seed()
        yield
        transaction.set_rollback(True)


def _seed() -> None:
    began = datetime(2026, 2, 2, 17, 20, tzinfo=UTC)
    services.update_page(name="Example Status", url="https://status.example.com", time_zone="Europe/Zurich")
    group = services.create_group(name="Switzerland")
    zh1 = services.create_component(name="zh1.single", group=group)
    zh2 = services.create_component(name="zh2.cluster", group=group)
    services.create_component(name="Mail delivery", third_party=True)
    spare_group = services.create_group(name="Spare")
    spare_component = services.create_component(name="spare.single")
    spare_kind = postmortems.create_kind(name="Spare kind")
    incident = services.open_incident(name="Connectivity issues", impact="major", display_at=began,
                                      components={zh1: "major_outage"})
    services.post_update(incident, status="identified", body="A switch failed.")
    maintenance = services.schedule_maintenance(
        name="Storage firmware", scheduled_for=datetime(2030, 1, 1, 22, tzinfo=UTC),
        scheduled_until=datetime(2030, 1, 2, 0, tzinfo=UTC), components=[zh2])
    template = postmortems.create_template(name="Our review")
    kind = ActionItemKind.objects.order_by("id").first()
    pm = postmortems.create_postmortem(incidents=[incident], title="Connectivity issues", prefill=False,
                                       summary="A switch failed.")
    entry = postmortems.add_timeline_entry(pm, at=began, text="Alerts fired.")
    item = postmortems.add_action_item(pm, title="Spare switch", kind=kind)
    postmortems.request_review(pm)
    # Monitors at addresses that need no name lookup (a generated target may still name a host).
    monitor = Monitor.objects.create(name="API health", target="https://192.0.2.10/health")
    MonitorComponent.objects.create(monitor=monitor, component=zh1)
    spare_monitor = Monitor.objects.create(name="Spare", kind="tcp", target="192.0.2.11:25")
    for model, obj, key in [(ComponentGroup, group, "group_id"), (Component, zh1, "component_id"),
                            (Incident, incident, "incident_id"), (Incident, maintenance, "maintenance_id"),
                            (PostmortemTemplate, template, "template_id"), (ActionItemKind, kind, "kind_id"),
                            (Postmortem, pm, "postmortem_id"), (TimelineEntry, entry, "entry_id"),
                            (ActionItem, item, "item_id"), (Monitor, monitor, "monitor_id")]:
        model.objects.filter(pk=obj.pk).update(public_id=KNOWN_IDS[key])
    for model, obj, key in [(ComponentGroup, spare_group, "group_id"), (Component, spare_component, "component_id"),
                            (ActionItemKind, spare_kind, "kind_id"), (Monitor, spare_monitor, "monitor_id")]:
        model.objects.filter(pk=obj.pk).update(public_id=SPARE_IDS[key])


@pytest.fixture
def token(seeded, make_token):
    return make_token("admin")


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, derandomize=True, deadline=None, database=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
def test_the_api_answers_generated_requests_as_its_document_says(case, token):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    GENERATED_ANSWERS[response.status_code] += 1
