"""The events the status verbs record: one per change, inside its transaction, carrying what the
consumers need without deriving it again (the publisher's pages, the notifier's messages).

Kinds:
  incident.opened, incident.updated, incident.resolved, incident.reopened, incident.edited,
  incident.update_edited, incident.backfilled;
  maintenance.scheduled, maintenance.updated, maintenance.started, maintenance.overran,
  maintenance.completed, maintenance.cancelled (called off before it started), maintenance.edited,
  maintenance.update_edited;
  component.created, component.changed, component.hidden, component.shown, component.removed,
  component.override_set, component.override_cleared, component.signal_changed (a monitor's verdict);
  the same for group.*;
  page.changed (settings, branding, order).

Every incident and maintenance event names the subject "incident:<id>" (maintenance is an incident
of kind maintenance, as in Statuspage), so a consumer sees one incident's events in order.
"""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from signalpost.events.record import record as record_event

from . import derive
from .models import Component, ComponentGroup, Incident, IncidentUpdate, Kind


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class ComponentWatch:
    """The derived status of some components before a change, to record with the change what it did
    to each of them (before and after, as readers and subscribers see it)."""

    def __init__(self, components: Iterable[Component], now: datetime):
        ids = [c.pk for c in components]
        self.components = Component.objects.select_related("group").in_bulk(ids) if ids else {}
        self.now = now
        self.before = derive.current_statuses(ids, now) if ids else {}

    def changes(self, given: dict[Component, str] | None = None) -> dict[str, dict]:
        """{component id: {name, group, before, after, given}}: `given` is the status the incident's
        update set for it, `before`/`after` the component's derived status around the change."""
        if not self.components:
            return {}
        after = derive.current_statuses(list(self.components), self.now)
        given_by_pk = {c.pk: s for c, s in (given or {}).items()}
        return {
            c.public_id: {
                "name": c.name, "group": c.group.public_id if c.group_id else None,
                "before": self.before.get(pk), "after": after.get(pk), "given": given_by_pk.get(pk),
            }
            for pk, c in self.components.items()
        }


def incident_subject(incident: Incident) -> str:
    return f"incident:{incident.public_id}"


def record_incident(kind: str, incident: Incident, *, update: IncidentUpdate | None = None,
                    status_before: str | None = None, impact_before: str | None = None,
                    components: dict | None = None, notify: bool = False,
                    occurred_at: datetime | None = None, extra: dict | None = None) -> None:
    """An incident or maintenance event. It may notify only when asked to, and never for an incident
    recorded after the fact or a window that lay wholly in the past when it was entered."""
    notify = notify and not incident.retroactive and not entered_in_the_past(incident)
    record_event(
        kind, incident_subject(incident),
        occurred_at=occurred_at or (update.display_at if update is not None else timezone.now()),
        notify=notify,
        data={
            "incident": incident.public_id,
            "incident_kind": incident.kind,
            "name": incident.name,
            "update": update.public_id if update is not None else None,
            "status": [status_before, incident.status],
            "impact": [impact_before, incident.impact],
            "components": components or {},
            "began_at": _iso(incident.begins_at),
            "started_at": _iso(incident.started_at),
            "resolved_at": _iso(incident.resolved_at),
            "scheduled_for": _iso(incident.scheduled_for),
            "scheduled_until": _iso(incident.scheduled_until),
            "retroactive": incident.retroactive,
            **(extra or {}),
        },
    )


def entered_in_the_past(incident: Incident) -> bool:
    """A maintenance entered after its window had ended: a record, not news."""
    return (incident.kind == Kind.MAINTENANCE and incident.scheduled_until is not None
            and incident.scheduled_until <= incident.created_at)


def record_component(kind: str, component: Component, *, before: dict | None = None, after: dict | None = None,
                     statuses: dict | None = None, notify: bool = False) -> None:
    record_event(kind, f"component:{component.public_id}", notify=notify, data={
        "component": component.public_id, "name": component.name,
        "group": component.group.public_id if component.group_id else None,
        "fields": {"before": before, "after": after}, "statuses": statuses or {},
    })


def record_group(kind: str, group: ComponentGroup, *, before: dict | None = None, after: dict | None = None,
                 components: Iterable[Component] = ()) -> None:
    record_event(kind, f"group:{group.public_id}", data={
        "group": group.public_id, "name": group.name, "fields": {"before": before, "after": after},
        "components": [c.public_id for c in components],
    })


def record_page(what: str, *, before: dict | None = None, after: dict | None = None) -> None:
    record_event("page.changed", "page", data={"what": what, "fields": {"before": before, "after": after}})
