"""The reliability report: incidents per month, downtime per component, and how long detection and
resolution took, over a period chosen by month (the last twelve by default), in the page's zone.

Every chart is inline SVG drawn on the server (postmortems/report_charts.py), with a table of the same
numbers next to it. The numbers come from postmortems/report.py.

An admin can show the same report to readers at /reliability (postmortems/public_report.py): the
switch is a small form on this page."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.postmortems import public_report, report
from signalpost.postmortems.report_charts import report_charts
from signalpost.presentation.zone import page_zone
from signalpost.status import services as status_services
from signalpost.errors import InvalidInput

from .forms import show_refusal


class PeriodForm(forms.Form):
    start = forms.CharField(label="From (month)", required=False,
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}))
    end = forms.CharField(label="To (month, included)", required=False,
                          widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}))


class PublicReportForm(forms.Form):
    public = forms.BooleanField(label="Show this report on the public page", required=False,
                                help_text="Readers find it at /reliability, linked from every page's footer. "
                                          "Hidden components are left out.")
    months = forms.IntegerField(label="Months shown", min_value=1, max_value=report.MAX_MONTHS,
                                help_text="The last months, this one included.")

    def __init__(self, *args, **kwargs):
        settings = public_report.report_settings()
        super().__init__(*args, initial={"public": settings.public, "months": settings.months}, prefix="public",
                         **kwargs)


def _page(request: HttpRequest, *, public_form: PublicReportForm | None = None, status: int = 200) -> HttpResponse:
    zone = page_zone(status_services.get_page())
    now = timezone.now()
    first, last = report.default_period(now, zone)
    form = PeriodForm(request.GET or None, initial={"start": f"{first[0]:04d}-{first[1]:02d}",
                                                      "end": f"{last[0]:04d}-{last[1]:02d}"})
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
    settings = public_report.report_settings()
    return render(request, "console/reliability.html", {
        "form": form, "report": built, "charts": report_charts(built), "zone": zone,
        "period_ongoing": months[-1].end > now, "period_label": f"{months[0].label} to {months[-1].label}",
        "public_settings": settings, "public_path": public_report.PUBLIC_PATH,
        "public_form": public_form or (PublicReportForm() if has_role(request.user, "admin") else None),
    }, status=status)


@role_required("viewer")
@require_safe
def reliability(request: HttpRequest) -> HttpResponse:
    return _page(request)


@role_required("admin")
@require_POST
def reliability_public(request: HttpRequest) -> HttpResponse:
    form = PublicReportForm(request.POST)
    if form.is_valid():
        try:
            settings = public_report.set_public_report(public=form.cleaned_data["public"],
                                                       months=form.cleaned_data["months"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"The public page shows the report of the last {settings.months} months "
                                      f"at {public_report.PUBLIC_PATH}." if settings.public else
                             "The report is not on the public page.")
            return redirect("console:reliability")
    return _page(request, public_form=form, status=400)
