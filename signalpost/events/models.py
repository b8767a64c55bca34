"""Events, and each consumer's handling of them.

An Event is appended by a service verb inside the transaction of the change it records, so a change
and its event commit together or not at all. In the same transaction every consumer that takes the
event's kind gets a Handling row: that row is the consumer's queue entry, its claim, its retries and
its dead letter. Writing the handlings with the event (rather than letting consumers scan the event
table from a cursor) is what makes "at least once" hold on PostgreSQL, whose ids commit out of order.
"""

from django.db import models
from django.utils import timezone


class Event(models.Model):
    kind = models.CharField(max_length=64)  # "incident.opened", "maintenance.started", "clock.day"...
    subject = models.CharField(max_length=80)  # "incident:kctbh9vrtdwd": consumers keep each subject's order
    occurred_at = models.DateTimeField()  # when it happened on the record (an update's display time)
    recorded_at = models.DateTimeField(default=timezone.now)  # when it was written
    notify = models.BooleanField(default=False)  # whether subscribers may be told of it
    data = models.JSONField(default=dict)  # what consumers need: statuses before and after, components...
    # A producer that may say the same thing twice (the clock, an upgrade) names it; the second is dropped.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        indexes = [models.Index(fields=["subject", "id"]), models.Index(fields=["recorded_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} ({self.pk})"


class HandlingState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    SET_ASIDE = "set_aside", "Set aside"  # its attempts ran out; a person may retry it


class Handling(models.Model):
    """One consumer's work on one event. A worker claims it by marking `claimed_by`/`claimed_until` in
    the claiming UPDATE; a claim that expires (the worker died) is taken again."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="handlings")
    consumer = models.CharField(max_length=32)
    subject = models.CharField(max_length=80)  # the event's, copied so that the claim needs no join
    state = models.CharField(max_length=16, choices=HandlingState.choices, default=HandlingState.PENDING)
    attempts = models.IntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)  # not before: the back-off of a failed attempt
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    done_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(null=True, blank=True)  # how far a long piece of work got (a republish)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "consumer"], name="one_handling_per_consumer")]
        indexes = [
            models.Index(fields=["consumer", "state", "due_at"]),
            models.Index(fields=["consumer", "subject", "event"]),
        ]


class JobBeat(models.Model):
    """A worker job's heartbeat: one row per job and process, refreshed every pass."""

    job = models.CharField(max_length=32)
    worker = models.CharField(max_length=100)  # host:pid
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True, default="")  # what it did last

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "worker"], name="one_beat_per_job_and_worker")]
