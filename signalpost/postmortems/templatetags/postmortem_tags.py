"""What the incident pages and the history need to link a published postmortem: one query per page."""

from collections.abc import Iterable

from django import template

from signalpost.postmortems import services
from signalpost.postmortems.models import Postmortem

register = template.Library()


@register.simple_tag
def published_postmortem(incident) -> Postmortem | None:
    """{% published_postmortem e.incident as pm %}"""
    return services.published_for_incidents([incident.pk]).get(incident.pk)


@register.simple_tag
def published_postmortems(days: Iterable) -> dict[int, Postmortem]:
    """{% published_postmortems days as postmortems %}: for every event of a history page at once."""
    return services.published_for_incidents(e.incident.pk for day in days for e in day.events)


@register.filter
def postmortem_of(postmortems: dict[int, Postmortem], incident) -> Postmortem | None:
    """{% with pm=postmortems|postmortem_of:e.incident %}"""
    return postmortems.get(incident.pk) if postmortems else None


@register.filter
def span(value, empty: str = "\u2014") -> str:
    """{{ downtime|span }} in the public reliability report: "none" for zero, "—" for unknown."""
    from signalpost.postmortems.report_charts import span_text

    return span_text(value, empty)


@register.simple_tag
def reliability_report_public() -> bool:
    """{% reliability_report_public as shown %}: whether the footer links the public reliability report."""
    from signalpost.postmortems.public_report import is_public

    return is_public()
