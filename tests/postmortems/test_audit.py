"""Every postmortem write leaves exactly one audit entry naming who made it; a write that changes nothing
leaves none (and no version). The API's postmortem operations are held to the tables of route_tables.py."""

import json
from types import SimpleNamespace

import pytest

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent
from signalpost.api.tokens import create_token
from signalpost.postmortems import services
from signalpost.postmortems.models import PostmortemVersion
from tests.routes import api_operations

from . import route_tables

OPERATIONS = [op for op in api_operations() if op.path.startswith("/postmortems")]
WRITES = [op for op in OPERATIONS if op.method in {"POST", "PATCH", "PUT", "DELETE"}]


def test_each_postmortem_operation_has_its_scope_and_each_write_a_scenario():
    assert {op.key: op.scope for op in OPERATIONS} == route_tables.EXPECTED_API
    assert sorted(op.key for op in WRITES) == sorted(route_tables.API_SCENARIOS)


@pytest.mark.parametrize("op", WRITES, ids=[op.key for op in WRITES])
def test_an_api_write_records_one_entry_naming_the_token(client, components, op):
    token, plain = create_token("chat-ops bot", "admin")
    params, body = route_tables.API_SCENARIOS[op.key](SimpleNamespace(components=components))
    before = AuditEvent.objects.count()
    response = client.generic(op.method, op.url(**params), b"" if body is None else json.dumps(body),
                              content_type="application/json", headers={"Authorization": f"Bearer {plain}"})
    assert 200 <= response.status_code < 300, f"{op.key}: {response.status_code} {response.content[:300]!r}"
    entries = list(AuditEvent.objects.order_by("id")[before:])
    assert len(entries) == 1, f"{op.key} recorded {[e.action for e in entries]}"
    assert entries[0].actor_token_id == token.pk and entries[0].source == "api"


def test_a_write_that_changes_nothing_records_nothing(components):
    pm = route_tables._draft(SimpleNamespace(components=components))
    item = services.add_action_item(pm, title="Alert on attach failures", kind="Detection", owner="Storage")
    services.set_figures(pm, [("Volumes affected", "7%")])
    kind = services.find_kind("Detection")
    before = (AuditEvent.objects.count(), PostmortemVersion.objects.count())
    services.update_postmortem(pm, summary=pm.summary, title=pm.title)
    services.update_action_item(item, owner="Storage", state="open")
    services.set_figures(pm, [("Volumes affected", "7%")])
    services.update_kind(kind, name="Detection")
    assert services.prefill_timeline(pm) == 0
    assert (AuditEvent.objects.count(), PostmortemVersion.objects.count()) == before


def test_the_entry_says_what_changed(components):
    pm = route_tables._draft(SimpleNamespace(components=components))
    with audit.acting(audit.Actor(kind="user", name="alice", source="console")):
        services.update_postmortem(pm, root_cause="A full metadata disk.")
    entry = AuditEvent.objects.order_by("-id").first()
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        "postmortem.update", "alice", "postmortem", pm.public_id)
    assert (entry.before, entry.after) == ({"root_cause": ""}, {"root_cause": "A full metadata disk."})
    assert PostmortemVersion.objects.filter(postmortem=pm).last().saved_by == "alice"
