"""A component's monthly SLA report: each month's uptime from its monitors' checks with maintenance
windows left out, the formula on the page, and the same rows as CSV. Reads only."""

import csv
import io
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from signalpost.accounts.roles import role_required
from signalpost.monitors import uptime
from signalpost.presentation.times import uptime_text
from signalpost.presentation.zone import page_zone

from .components import find_component

MONTHS = 12  # the report's months, the current one included


def _months(today: date, count: int = MONTHS) -> list[date]:
    index = today.year * 12 + today.month - 1
    return [date((i // 12), i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _minutes(value) -> str:
    return f"{value.total_seconds() / 60:.2f}".rstrip("0").rstrip(".")


def _report(public_id: str) -> tuple:
    component = find_component(public_id)
    tz = page_zone()
    now = timezone.now()
    rows = uptime.sla_months(component.pk, _months(now.astimezone(tz).date()), tz, now)
    watched = bool(uptime.watched_components([component.pk]))
    return component, list(reversed(rows)), watched


@role_required("viewer")
@require_safe
def sla_report(request: HttpRequest, public_id: str) -> HttpResponse:
    component, rows, watched = _report(public_id)
    shown = [{
        "month": row.month, "watched": _minutes(row.watched), "maintenance": _minutes(row.maintenance),
        "down": _minutes(row.down), "uptime": "No data" if row.percent is None else uptime_text(row.percent),
    } for row in rows]
    return render(request, "console/sla.html", {
        "component": component, "rows": shown, "watched": watched, "formula": uptime.SLA_FORMULA,
    })


@role_required("viewer")
@require_safe
def sla_report_csv(request: HttpRequest, public_id: str) -> HttpResponse:
    component, rows, _ = _report(public_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "minutes_watched", "minutes_in_maintenance", "minutes_down_outside_maintenance",
                     "uptime_percent"])
    for row in rows:
        writer.writerow([row.month.strftime("%Y-%m"), _minutes(row.watched), _minutes(row.maintenance),
                         _minutes(row.down), "" if row.percent is None else f"{row.percent:.2f}"])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="signalpost-sla-{component.public_id}.csv"'
    response["Cache-Control"] = "no-store"
    return response
