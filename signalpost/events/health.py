"""How far each consumer is behind, what it failed on, and whether the worker jobs are alive: what
/healthz and the console's dashboard say."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from .models import Handling, HandlingState, JobBeat

# A job whose last beat is older than this is shown as stalled (a job beats at least every few seconds).
STALLED_AFTER = timedelta(seconds=30)


@dataclass
class Failure:
    handling_id: int
    event_id: int
    kind: str
    subject: str
    attempts: int
    error: str
    set_aside: bool
    recorded_at: datetime
    details: dict | None  # what the consumer kept with the failure (the publisher: the pages that failed)


@dataclass
class LongTask:
    """A piece of work done in steps (a republication of every page), and how far it got."""

    kind: str
    recorded_at: datetime
    progress: dict


@dataclass
class Backlog:
    consumer: str
    pending: int = 0
    lag_seconds: float = 0.0  # age of the oldest event not yet handled; 0 when caught up
    oldest_at: datetime | None = None
    failing: list[Failure] = field(default_factory=list)  # retrying now, or set aside
    # Under way in steps: not counted in the lag (readers have every change; the pages are being
    # rendered again, an upgrade's new templates say).
    long_tasks: list[LongTask] = field(default_factory=list)

    @property
    def set_aside(self) -> int:
        return sum(1 for f in self.failing if f.set_aside)


def backlog(consumer: str, now: datetime | None = None, failures: int = 20) -> Backlog:
    now = now or timezone.now()
    mine = Handling.objects.filter(consumer=consumer)
    waiting = mine.filter(state=HandlingState.PENDING)
    under_way = waiting.filter(progress__isnull=False, last_error="")
    pending = waiting.exclude(pk__in=under_way.values("pk")).aggregate(n=Count("id"), oldest=Min("event__recorded_at"))
    result = Backlog(consumer, pending=pending["n"], oldest_at=pending["oldest"])
    result.long_tasks = [LongTask(h.event.kind, h.event.recorded_at, h.progress)
                         for h in under_way.select_related("event").order_by("event_id")[:5]]
    if pending["oldest"] is not None:
        result.lag_seconds = max(0.0, (now - pending["oldest"]).total_seconds())
    failing = (mine.filter(Q(state=HandlingState.SET_ASIDE) | Q(state=HandlingState.PENDING) & ~Q(last_error=""))
               .select_related("event").order_by("-event_id")[:failures])
    result.failing = [
        Failure(h.pk, h.event_id, h.event.kind, h.subject, h.attempts, h.last_error,
                h.state == HandlingState.SET_ASIDE, h.event.recorded_at, h.progress)
        for h in failing
    ]
    return result


@dataclass
class JobHealth:
    job: str
    worker: str
    beat_at: datetime
    started_at: datetime
    detail: str
    stalled: bool
    stopped: bool = False  # the last process that ran it stopped, and none runs it now


def jobs(now: datetime | None = None) -> list[JobHealth]:
    """Each job that has run (in the last day): its running process with the latest beat, or, when no
    process runs it any more, the last one that stopped."""
    now = now or timezone.now()
    beats = JobBeat.objects.order_by("job", F("stopped_at").asc(nulls_first=True), "-beat_at")  # running first
    latest: dict[str, JobBeat] = {}
    for beat in beats:
        latest.setdefault(beat.job, beat)
    return [JobHealth(b.job, b.worker, b.beat_at, b.started_at, b.detail,
                      b.stopped_at is None and now - b.beat_at > STALLED_AFTER, stopped=b.stopped_at is not None)
            for b in latest.values()]


def beat(job: str, worker: str, detail: str = "", now: datetime | None = None) -> None:
    now = now or timezone.now()
    updated = JobBeat.objects.filter(job=job, worker=worker).update(beat_at=now, detail=detail[:300], stopped_at=None)
    if not updated:
        JobBeat.objects.update_or_create(job=job, worker=worker, defaults={
            "beat_at": now, "started_at": now, "detail": detail[:300], "stopped_at": None})


def stopped(job: str, worker: str) -> None:
    JobBeat.objects.filter(job=job, worker=worker).update(stopped_at=timezone.now())


def forget_old_beats(older_than: timedelta = timedelta(days=1)) -> None:
    """Beats of processes gone for a day are history, not health."""
    JobBeat.objects.filter(beat_at__lt=timezone.now() - older_than).delete()
