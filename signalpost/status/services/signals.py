"""Statuses reported by automatic sources (monitors): each a `ComponentSignal` interval, one more cause of
a component's derived status. A source reports a change; this closes its open interval and opens the
next, with the audit entry and the event in the same transaction."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit

from ..changes import ComponentWatch, record_component
from ..models import Component, ComponentSignal, ComponentStatus
from ..validation import choice
from .common import touch_page

OPERATIONAL = ComponentStatus.OPERATIONAL.value


def set_signal(component: Component, source: str, status: str, reason: str = "",
               now: datetime | None = None, audited: bool = True) -> bool:
    """Record that `source` now says `status` for `component` (operational: it reports no problem, and
    its open interval is closed). Returns whether anything changed; the same status and reason again
    is no change. `audited=False`: the write that caused it has its own audit entry (a monitor paused,
    changed or removed by a person), and this is part of it."""
    choice("status", status, ComponentStatus)
    now = now or timezone.now()
    reason = reason[:500]
    with transaction.atomic():
        open_ = list(ComponentSignal.objects.select_for_update().filter(component=component, source=source,
                                                                       end__isnull=True))
        previous = open_[0] if open_ else None
        before_status = previous.status if previous else OPERATIONAL
        if before_status == status and (previous is None or previous.reason == reason):
            return False
        watch = ComponentWatch([component], now)
        ComponentSignal.objects.filter(pk__in=[s.pk for s in open_]).update(end=now)
        if status != OPERATIONAL:
            ComponentSignal.objects.create(component=component, source=source, status=status, reason=reason,
                                           start=now)
        before = {"source": source, "status": before_status}
        after = {"source": source, "status": status, "reason": reason}
        if audited:
            audit.record("component.signal", component, before=before, after=after, diff=False)
        Component.objects.filter(pk=component.pk).update(updated_at=now)
        record_component("component.signal_changed", component, statuses=watch.changes(), before=before,
                         after=after)
        touch_page(now)
    return True


def forget_source(source: str, now: datetime | None = None, audited: bool = True) -> int:
    """Close every open interval of a source that no longer reports (a monitor removed or paused)."""
    now = now or timezone.now()
    closed = 0
    for component in Component.objects.filter(signals__source=source, signals__end__isnull=True).distinct():
        closed += set_signal(component, source, OPERATIONAL, now=now, audited=audited)
    return closed
