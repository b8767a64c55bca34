"""Every postmortem write leaves exactly one audit entry naming who made it (each API write operation is
held to that by tests/test_audit_coverage.py); a write that changes nothing leaves none, and no version."""

from datetime import timedelta

from django.utils import timezone

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.postmortems.models import Postmortem, PostmortemVersion
from signalpost.status import services as status


def _draft(components) -> Postmortem:
    now = timezone.now()
    incident = status.backfill_incident(
        name="Volumes unreachable in ZH1", started_at=now - timedelta(hours=3), resolved_at=now - timedelta(hours=2),
        body="Volumes cannot be attached.", components={components["zh1"]: "major_outage"})
    return services.create_postmortem(incidents=[incident], title="Volumes unreachable in ZH1",
                                      summary="Volumes could not be attached for an hour.")


def test_a_write_that_changes_nothing_records_nothing(components):
    pm = _draft(components)
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
    pm = _draft(components)
    with audit.acting(audit.Actor(kind="user", name="alice", source="console")):
        services.update_postmortem(pm, root_cause="A full metadata disk.")
    entry = AuditEvent.objects.order_by("-id").first()
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        "postmortem.update", "alice", "postmortem", pm.public_id)
    assert (entry.before, entry.after) == ({"root_cause": ""}, {"root_cause": "A full metadata disk."})
    assert PostmortemVersion.objects.filter(postmortem=pm).last().saved_by == "alice"
