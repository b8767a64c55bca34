from django import template

from signalpost.status.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

register = template.Library()

LABELS = {**dict(Impact.choices), **dict(IncidentStatus.choices), **dict(MaintenanceStatus.choices),
          **dict(ComponentStatus.choices)}


@register.filter
def label(value: str) -> str:
    """The words for a status or impact value ("partial_outage" → "Partial outage")."""
    return LABELS.get(value, str(value).replace("_", " ").capitalize())
