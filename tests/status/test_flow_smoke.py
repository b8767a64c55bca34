from datetime import timedelta
from django.utils import timezone
from signalpost.status import services, derive
def test_flow(components):
    now = timezone.now()
    zh1 = components["zh1"]
    inc = services.open_incident(name="Down", impact="major", components={zh1: "major_outage"}, display_at=now - timedelta(hours=2), now=now)
    assert derive.component_status(zh1) == "major_outage"
    services.post_update(inc, status="identified", components={zh1: "partial_outage"}, display_at=now - timedelta(hours=1), now=now)
    assert derive.page_indicator() == ("major", "Partial System Outage")
    services.resolve_incident(inc, now=now)
    assert derive.component_status(zh1) == "operational"
    tl = derive.component_status_timeline(zh1, now - timedelta(hours=3), now + timedelta(minutes=1))
    print(tl)
    assert [s.status for s in tl] == ["operational", "major_outage", "partial_outage", "operational"]
    m = services.schedule_maintenance(name="M", scheduled_for=now - timedelta(minutes=5), scheduled_until=now + timedelta(minutes=5), components=[zh1])
    services.run_due_transitions()
    assert derive.component_status(zh1) == "under_maintenance"
    assert derive.page_indicator()[0] == "maintenance"
    services.run_due_transitions(now + timedelta(minutes=6))
    m.refresh_from_db(); assert m.status == "completed"
