"""The reliability report: incidents per month, downtime per component, and how long detection and
resolution took, over a period chosen by month (the last twelve by default), in the page's zone.

Every chart is inline SVG drawn on the server (postmortems/report_charts.py), with a table of the same
numbers next to it. The numbers come from postmortems/report.py."""

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from signalpost.accounts.roles import role_required
from signalpost.postmortems import report
from signalpost.postmortems.report_charts import (
    Series,
    bar_chart,
    line_chart,
    stacked_bars,
)
from signalpost.public.pages import page_zone
from signalpost.public.templatetags.public_tags import duration_text
from signalpost.status import services as status_services
from signalpost.status.errors import InvalidInput

from .templatetags.report_tags import span_text


class PeriodForm(forms.Form):
    start = forms.CharField(label="From (month)", required=False,
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}))
    end = forms.CharField(label="To (month, included)", required=False,
                          widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}))


def _unit(durations: list[timedelta]) -> tuple[str, float]:
    """The unit a duration axis reads best in: minutes for short ones, hours, then days."""
    longest = max((d.total_seconds() for d in durations), default=0)
    if longest < 3 * 3600:
        return "minutes", 60.0
    if longest < 3 * 86400:
        return "hours", 3600.0
    return "days", 86400.0


def _in(value: timedelta | None, per: float) -> float | None:
    return None if value is None else round(value.total_seconds() / per, 2)


def _charts(built: report.Report) -> dict:
    labels = [m.short_label for m in built.months]
    years = [str(m.year) for m in built.months]
    period = f"{built.months[0].label} to {built.months[-1].label}"
    counts = [c.incidents for c in built.counts]
    busiest = max(built.counts, key=lambda c: c.incidents)
    incidents_chart = bar_chart(
        "chart-incidents", "Incidents per month",
        f"{built.incidents} incidents from {period}"
        + (f"; the most in {busiest.month.label} ({busiest.incidents})." if built.incidents else "."),
        labels, counts, unit="incidents", years=years)

    down = built.downtime
    rows = [c for c in down.components if c.total] or down.components[:0]
    unit, per = _unit([c.total for c in rows])
    downtime_chart = stacked_bars(
        "chart-downtime", "Downtime per component",
        f"Time in major outage and in partial outage per component, {period}, in {unit}: "
        + ("; ".join(f"{c.label} {span_text(c.major)} major, {span_text(c.partial)} partial" for c in rows)
           or "no downtime") + ".",
        [c.label for c in rows], [_in(c.major, per) or 0 for c in rows], [_in(c.partial, per) or 0 for c in rows],
        unit=unit)

    def times_chart(chart_id: str, title: str, attr: str) -> str:
        spreads = [getattr(t, attr) for t in built.times]
        unit, per = _unit([s.worst for s in spreads if s.worst is not None])
        known = [f"{t.month.label}: median {duration_text(s.median)}, worst {duration_text(s.worst)}"
                 for t, s in zip(built.times, spreads, strict=True) if s.count]
        return line_chart(
            chart_id, title, f"Median and worst per month, in {unit}. " + ("; ".join(known) or "No data.") + ".",
            labels, [Series("Median", [_in(s.median, per) for s in spreads], "median"),
                     Series("Worst", [_in(s.worst, per) for s in spreads], "worst", square=True)],
            unit=unit, years=years)

    return {
        "incidents": incidents_chart, "downtime": downtime_chart, "downtime_rows": rows,
        "detect": times_chart("chart-detect", "Time to detect", "detect"),
        "resolve": times_chart("chart-resolve", "Time to resolve", "resolve"),
    }


@role_required("viewer")
@require_safe
def reliability(request: HttpRequest) -> HttpResponse:
    zone = page_zone(status_services.get_page())
    now = timezone.now()
    first, last = report.default_period(now, zone)
    form = PeriodForm(request.GET or None, initial={"start": f"{first[0]:04d}-{first[1]:02d}",
                                                      "end": f"{last[0]:04d}-{last[1]:02d}"})
    status = 200
    if form.is_bound and form.is_valid():
        try:
            if form.cleaned_data["start"]:
                first = report.parse_month("start", form.cleaned_data["start"])
            if form.cleaned_data["end"]:
                last = report.parse_month("end", form.cleaned_data["end"])
            months = report.period(first, last, zone)
        except InvalidInput as refusal:
            form.add_error(refusal.field, refusal.message)
    if form.errors:
        status = 400
        first, last = report.default_period(now, zone)
    months = report.period(first, last, zone)
    built = report.build(months, zone, now)
    return render(request, "console/reliability.html", {
        "form": form, "report": built, "charts": _charts(built), "zone": zone,
        "period_ongoing": months[-1].end > now, "period_label": f"{months[0].label} to {months[-1].label}",
    }, status=status)
