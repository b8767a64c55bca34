"""Durations in the reliability report, where nothing at all must read differently from a few seconds."""

from datetime import timedelta

from django import template

from signalpost.postmortems.report_charts import span_text

register = template.Library()


@register.filter
def span(value: timedelta | None, empty: str = "—") -> str:
    """{{ downtime|span }}: "none" for zero, "—" (or the argument) for unknown, else "2 hours 5 minutes"."""
    return span_text(value, empty)
