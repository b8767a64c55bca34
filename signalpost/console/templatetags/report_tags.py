"""Durations in the reliability report, where nothing at all must read differently from a few seconds."""

from datetime import timedelta

from django import template

from signalpost.public.templatetags.public_tags import duration_text

register = template.Library()


def span_text(span: timedelta | None, empty: str = "—") -> str:
    if span is None:
        return empty
    if span <= timedelta(0):
        return "none"
    return duration_text(span)


@register.filter
def span(value: timedelta | None, empty: str = "—") -> str:
    """{{ downtime|span }}: "none" for zero, "—" (or the argument) for unknown, else "2 hours 5 minutes"."""
    return span_text(value, empty)
