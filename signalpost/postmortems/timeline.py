"""A postmortem's timeline as the record has it: the incidents' status changes (with the components
they changed) and the text of their updates, oldest first. The author then trims and adds to it."""

from datetime import date, datetime

from signalpost.status.models import (
    ComponentStatus,
    Incident,
    IncidentStatus,
    MaintenanceStatus,
)

from .models import TimelineEntry

STATUS_LABELS = {**dict(IncidentStatus.choices), **dict(MaintenanceStatus.choices)}
COMPONENT_LABELS = dict(ComponentStatus.choices)


def _state_text(incident: Incident, status: str, changes: list[str], several: bool) -> str:
    """ "Status: Identified (zh1.single: major outage)"; named by incident when there are several."""
    label = STATUS_LABELS.get(status, status.replace("_", " ").capitalize())
    text = f"{incident.name}: status {label}" if several else f"Status: {label}"
    return text + (f" ({', '.join(changes)})" if changes else "")


def prefilled_entries(incidents: list[Incident]) -> list[tuple[datetime, str, str, date | None]]:
    """(at, text, source, on) for each status change and each update text (on: the date alone, for an
    update whose time is not known). `incidents` come with their updates prefetched oldest first
    (services.incidents_of); component changes are read per update."""
    several = len(incidents) > 1
    entries = []
    for incident in incidents:
        previous = None
        for update in incident.updates.all():
            if update.status != previous:
                changes = [
                    f"{change.component.name}: {COMPONENT_LABELS.get(change.new_status, change.new_status).lower()}"
                    for change in update.component_changes.select_related("component__group").order_by("id")
                    if change.component.is_visible and change.old_status != change.new_status
                ]
                entries.append((update.display_at, _state_text(incident, update.status, changes, several),
                                TimelineEntry.Source.STATE, update.display_on))
                previous = update.status
            if update.body.strip():
                entries.append((update.display_at, update.body.strip(), TimelineEntry.Source.UPDATE,
                                update.display_on))
    entries.sort(key=lambda entry: entry[0])  # stable: a state change stays before its update's text
    return entries
