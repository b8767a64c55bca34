"""{% load presentation %}: the time tags, durations, uptime and Markdown, for every face's templates."""

from datetime import datetime, timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from signalpost.presentation.markdown import render_markdown
from signalpost.presentation.times import duration_text, iso_utc, local_text, relative_text, uptime_text

register = template.Library()


@register.simple_tag(takes_context=True)
def timestamp(context: template.Context, value: datetime | None) -> SafeString | str:
    if value is None:
        return ""
    return format_html('<time class="ts" datetime="{}">{}</time>', iso_utc(value), local_text(value, context["page_tz"]))


@register.simple_tag(takes_context=True)
def timeago(context: template.Context, value: datetime | None) -> SafeString | str:
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
