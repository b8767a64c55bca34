"""The decisions about /api/v1/postmortems written down as data, in the shape of the tables of
tests/test_routes_roles.py (EXPECTED_API: who may call what) and tests/test_audit_coverage.py
(API_SCENARIOS: a valid request that changes something). tests/postmortems/test_audit.py holds the
postmortem operations to them; the shared tables can take them in with `.update(...)`."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from signalpost.accounts import audit
from signalpost.postmortems import services
from signalpost.postmortems.models import Postmortem
from signalpost.status import services as status

# "METHOD /path" under /api/v1 -> least token scope. Reading: read; writing, reviewing and publishing
# postmortems: write (like incidents); the list of action item kinds is the team's configuration: admin.
EXPECTED_API = {
    "GET /postmortems/templates": "read",
    "GET /postmortems/action-item-kinds": "read",
    "POST /postmortems/action-item-kinds": "admin",
    "PATCH /postmortems/action-item-kinds/{kind_id}": "admin",
    "DELETE /postmortems/action-item-kinds/{kind_id}": "admin",
    "GET /postmortems": "read",
    "POST /postmortems": "write",
    "GET /postmortems/{postmortem_id}": "read",
    "PATCH /postmortems/{postmortem_id}": "write",
    "GET /postmortems/{postmortem_id}/markdown": "read",
    "PUT /postmortems/{postmortem_id}/timeline": "write",
    "POST /postmortems/{postmortem_id}/timeline": "write",
    "POST /postmortems/{postmortem_id}/timeline/prefill": "write",
    "PATCH /postmortems/{postmortem_id}/timeline/{entry_id}": "write",
    "DELETE /postmortems/{postmortem_id}/timeline/{entry_id}": "write",
    "PUT /postmortems/{postmortem_id}/figures": "write",
    "POST /postmortems/{postmortem_id}/action-items": "write",
    "PATCH /postmortems/{postmortem_id}/action-items/{item_id}": "write",
    "DELETE /postmortems/{postmortem_id}/action-items/{item_id}": "write",
    "POST /postmortems/{postmortem_id}/request-review": "write",
    "POST /postmortems/{postmortem_id}/approve": "write",
    "POST /postmortems/{postmortem_id}/publish": "write",
    "POST /postmortems/{postmortem_id}/unpublish": "write",
    "GET /postmortems/{postmortem_id}/versions": "read",
    "GET /postmortems/{postmortem_id}/versions/{number}": "read",
    "GET /postmortems/{postmortem_id}/diff": "read",
}

# Someone other than the scenario's token and the postmortems' author ("system"), who approves.
REVIEWER = audit.Actor(kind="user", name="rosa (reviewer)", source="console")


def _resolved_incident(w):
    now = timezone.now()
    return status.backfill_incident(
        name="Volumes unreachable in ZH1", started_at=now - timedelta(hours=3), resolved_at=now - timedelta(hours=2),
        body="Volumes cannot be attached.", components={w.components["zh1"]: "major_outage"})


def _draft(w) -> Postmortem:
    return services.create_postmortem(incidents=[_resolved_incident(w)], title="Volumes unreachable in ZH1",
                                       summary="Volumes could not be attached for an hour.")


def _in_review(w) -> Postmortem:
    return services.request_review(_draft(w))


def _approved(w) -> Postmortem:
    pm = _in_review(w)
    with audit.acting(REVIEWER):
        return services.approve(pm)


def _published(w) -> Postmortem:
    return services.publish(_approved(w))


def _with_item(w) -> tuple[Postmortem, str]:
    pm = _draft(w)
    return pm, services.add_action_item(pm, title="Alert on attach failures", kind="Detection").public_id


def _entry(pm: Postmortem) -> str:
    return pm.timeline.first().public_id


def _kind(name: str) -> str:
    return services.find_kind(name).public_id


def _ids(pm: Postmortem, **more) -> dict:
    return {"postmortem_id": pm.public_id, **more}


# "METHOD /path" -> (world) -> (path parameters, JSON body). `world` is tests/test_audit_coverage.World
# (or anything with .components, the conftest's components).
API_SCENARIOS: dict[str, Callable] = {
    "POST /postmortems/action-item-kinds": lambda w: ({}, {"name": "Communication"}),
    "PATCH /postmortems/action-item-kinds/{kind_id}": lambda w: ({"kind_id": _kind("Mitigation")},
                                                                  {"name": "Mitigation (during the incident)"}),
    "DELETE /postmortems/action-item-kinds/{kind_id}": lambda w: ({"kind_id": _kind("Mitigation")}, None),
    "POST /postmortems": lambda w: ({}, {"incidents": [_resolved_incident(w).public_id], "title": "Volumes"}),
    "PATCH /postmortems/{postmortem_id}": lambda w: (_ids(_draft(w)), {"root_cause": "A full metadata disk."}),
    "PUT /postmortems/{postmortem_id}/timeline": lambda w: (_ids(_draft(w)), {"entries": [
        {"at": "2025-06-02T08:00:00Z", "text": "Attach failures alert."}]}),
    "POST /postmortems/{postmortem_id}/timeline": lambda w: (_ids(_draft(w)), {
        "at": "2025-06-02T08:00:00Z", "text": "Attach failures alert."}),
    "POST /postmortems/{postmortem_id}/timeline/prefill": lambda w: (
        _ids(services.create_postmortem(incidents=[_resolved_incident(w)], title="Empty", prefill=False)), None),
    "PATCH /postmortems/{postmortem_id}/timeline/{entry_id}": lambda w: (
        (lambda pm: _ids(pm, entry_id=_entry(pm)))(_draft(w)), {"text": "The first alert."}),
    "DELETE /postmortems/{postmortem_id}/timeline/{entry_id}": lambda w: (
        (lambda pm: _ids(pm, entry_id=_entry(pm)))(_draft(w)), None),
    "PUT /postmortems/{postmortem_id}/figures": lambda w: (_ids(_draft(w)), {
        "figures": [{"label": "Volumes affected", "value": "7%"}]}),
    "POST /postmortems/{postmortem_id}/action-items": lambda w: (_ids(_draft(w)), {
        "title": "Alert on attach failures", "kind": "Detection"}),
    "PATCH /postmortems/{postmortem_id}/action-items/{item_id}": lambda w: (
        (lambda made: _ids(made[0], item_id=made[1]))(_with_item(w)), {"state": "done"}),
    "DELETE /postmortems/{postmortem_id}/action-items/{item_id}": lambda w: (
        (lambda made: _ids(made[0], item_id=made[1]))(_with_item(w)), None),
    "POST /postmortems/{postmortem_id}/request-review": lambda w: (_ids(_draft(w)), {}),
    "POST /postmortems/{postmortem_id}/approve": lambda w: (_ids(_in_review(w)), None),
    "POST /postmortems/{postmortem_id}/publish": lambda w: (_ids(_approved(w)), None),
    "POST /postmortems/{postmortem_id}/unpublish": lambda w: (_ids(_published(w)), None),
}
