"""{% load presentation %}: the time tags, durations, uptime and Markdown, for every face's templates."""

from datetime import date, datetime, timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from signalpost.presentation.markdown import render_markdown
from signalpost.presentation.times import (
    duration_text,
    iso_utc,
    local_text,
    relative_text,
    short_date,
    uptime_text,
)

register = template.Library()


def day_text(day: date) -> SafeString:
    """A time known by its date alone: the date as written, with no clock time and no zone to convert."""
    return format_html('<time class="day" datetime="{}">{}</time>', day.isoformat(), short_date(day))


@register.simple_tag(takes_context=True)
def timestamp(context: template.Context, value: datetime | None, day: date | None = None) -> SafeString | str:
    """An instant in the page's zone; or, given `day` (the date alone is known), that date."""
    if day is not None:
        return day_text(day)
    if value is None:
        return ""
    return format_html('<time class="ts" datetime="{}">{}</time>', iso_utc(value), local_text(value, context["page_tz"]))


@register.simple_tag(takes_context=True)
def timeago(context: template.Context, value: datetime | None, day: date | None = None) -> SafeString | str:
    if day is not None:
        return format_html("on {}", day_text(day))
    if value is None:
        return ""
    return format_html(
        '<time class="ago" datetime="{}" title="{}">{}</time>',
        iso_utc(value), local_text(value, context["page_tz"]), relative_text(value, context["now"]),
    )


@register.filter
def markdown(text: str) -> SafeString:
    return render_markdown(text)


@register.filter
def duration(span: timedelta | None) -> str:
    return "" if span is None else duration_text(span)


@register.filter
def uptime(percent: float | None) -> str:
    return "—" if percent is None else uptime_text(percent)
