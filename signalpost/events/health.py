"""How far each consumer is behind, what it failed on, and whether the worker jobs are alive: what
/healthz and the console's dashboard say."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
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
class Backlog:
    consumer: str
    pending: int = 0
    lag_seconds: float = 0.0  # age of the oldest event not yet handled; 0 when caught up
    oldest_at: datetime | None = None
    failing: list[Failure] = field(default_factory=list)  # retrying now, or set aside

    @property
    def set_aside(self) -> int:
        return sum(1 for f in self.failing if f.set_aside)


def backlog(consumer: str, now: datetime | None = None, failures: int = 20) -> Backlog:
    now = now or timezone.now()
    mine = Handling.objects.filter(consumer=consumer)
    pending = mine.filter(state=HandlingState.PENDING).aggregate(n=Count("id"), oldest=Min("event__recorded_at"))
    result = Backlog(consumer, pending=pending["n"], oldest_at=pending["oldest"])
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


def jobs(now: datetime | None = None) -> list[JobHealth]:
    """The latest beat of every job that has run and not stopped cleanly."""
    now = now or timezone.now()
    beats = JobBeat.objects.filter(stopped_at__isnull=True).order_by("job", "-beat_at")
    latest: dict[str, JobBeat] = {}
    for beat in beats:
        latest.setdefault(beat.job, beat)
    return [JobHealth(b.job, b.worker, b.beat_at, b.started_at, b.detail, now - b.beat_at > STALLED_AFTER)
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
