"""The switch of the reliability report on the public page (/reliability, drawn by public/): off until
an admin switches it on, then the same report as the console's, over the last N months, for the
components readers see.

Like every public page it is rendered into the published snapshot (public/snapshot.py asks
`public_paths` and `retired_paths`). Its numbers move with time and with the record, so it is
re-rendered by every publication that is not about particular incidents: the worker's every ten
minutes and at midnight, a change of the page, and a change of this switch (which also adds or removes
the link in every page's footer). Switched off, its address stops answering: the snapshot drops it.
"""


from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .changes import record_report_changed
from . import report
from .models import ReliabilitySettings

PUBLIC_PATH = "/reliability"
SETTINGS_FIELDS = ["public", "months"]


def report_settings() -> ReliabilitySettings:
    """The switch as it is (off and 12 months until an admin changes it); reading never writes."""
    return ReliabilitySettings.objects.filter(pk=1).first() or ReliabilitySettings(pk=1)


def is_public() -> bool:
    return ReliabilitySettings.objects.filter(pk=1, public=True).exists()


def set_public_report(*, public: bool, months: int) -> ReliabilitySettings:
    """Show the report to readers (or stop), over the last `months` months."""
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= report.MAX_MONTHS:
        raise InvalidInput("months", f"must be a whole number of months from 1 to {report.MAX_MONTHS}")
    with transaction.atomic():
        ReliabilitySettings.objects.get_or_create(pk=1)
        settings = ReliabilitySettings.objects.select_for_update().get(pk=1)
        before = audit.snapshot(settings, SETTINGS_FIELDS)
        settings.public, settings.months = bool(public), months
        after = audit.snapshot(settings, SETTINGS_FIELDS)
        if after == before:
            return settings
        settings.updated_at = timezone.now()
        settings.save()
        audit.record("reliability.public_report", settings, before=before, after=after,
                     object_repr="Public reliability report")
        record_report_changed(before, after)
    return settings


def public_paths(incident_ids=(), everything: bool = False) -> list[str]:
    """The report's address when it is public and this publication is not about particular incidents
    (those change it too, but it is not worth rebuilding on every update of an outage: the worker's
    next pass, within ten minutes, does)."""
    if list(incident_ids) and not everything:
        return []
    return [PUBLIC_PATH] if is_public() else []


def retired_paths() -> list[str]:
    """Addresses the snapshot must stop serving: the report's, once switched off."""
    return [] if is_public() else [PUBLIC_PATH]
