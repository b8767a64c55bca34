"""A monitor (what to check, how often, what counts as down) and what its checks produced: raw results
(kept a few days), each location's run of verdicts, the monitor's state changes, per-minute roll-ups
(kept a few days) and per-hour roll-ups (kept over a year)."""

from django.db import models
from django.utils import timezone

from signalpost.status.models import Component, ComponentStatus, new_public_id


class MonitorKind(models.TextChoices):
    HTTP = "http", "HTTP(S)"
    TCP = "tcp", "TCP port"
    DNS = "dns", "DNS"
    ICMP = "icmp", "ICMP ping"
    HEARTBEAT = "heartbeat", "Heartbeat"  # pushed: a job calls /ping/<uuid>, nothing is checked


class Verdict(models.TextChoices):
    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


class State(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"  # not checked yet (or not enough checks to say)
    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DNS_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "PTR", "CAA")


def default_expected_statuses() -> list:
    return ["2xx", "3xx"]


class IncidentMode(models.TextChoices):
    """What a monitor going down does about an incident."""

    OFF = "off", "No incident"
    DRAFT = "draft", "A draft for a responder to publish"
    PUBLISH = "publish", "An incident published at once"


# The automatic incident's texts; {monitor}, {reason}, {components} and {since} are filled in.
DEFAULT_INCIDENT_TITLE = "{components} unavailable"
DEFAULT_INCIDENT_BODY = "Our monitoring reports a problem with {components} since {since}: {reason}. We are investigating."
DEFAULT_INCIDENT_RESOLUTION = "{components} work again: the monitor '{monitor}' sees them answering as expected."


class Monitor(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=MonitorKind.choices, default=MonitorKind.HTTP)
    target = models.CharField(max_length=2000, blank=True)  # a URL (http), host:port (tcp), a name (dns), a host (icmp)
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.FloatField(default=10.0)
    # HTTP only.
    method = models.CharField(max_length=8, default="GET")
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, default="")
    expected_statuses = models.JSONField(default=default_expected_statuses)  # codes and "2xx" classes
    keyword = models.CharField(max_length=500, blank=True, default="")  # must be in the body
    keyword_absent = models.CharField(max_length=500, blank=True, default="")  # must not be
    degraded_above_ms = models.PositiveIntegerField(null=True, blank=True)
    follow_redirects = models.BooleanField(default=True)
    verify_tls = models.BooleanField(default=True)
    tls_expiry_days = models.PositiveIntegerField(default=14)  # warn this many days ahead; 0: never
    json_path = models.CharField(max_length=500, blank=True, default="")  # a JSONPath into the body
    json_expected = models.TextField(blank=True, default="")  # the value it must find, as JSON; "": any
    # DNS only.
    record_type = models.CharField(max_length=8, default="A")
    dns_expected = models.JSONField(default=list, blank=True)  # answers that must all be among those given
    resolver = models.CharField(max_length=64, blank=True, default="")  # ip[:port]; "": the system's
    # Heartbeat only: the secret in its ping URL, its schedule (interval_seconds, or a cron expression in a
    # time zone) and the grace time after each expected ping.
    heartbeat_key = models.UUIDField(null=True, blank=True, unique=True)
    cron = models.CharField(max_length=200, blank=True, default="")
    cron_zone = models.CharField(max_length=64, blank=True, default="UTC")
    grace_seconds = models.PositiveIntegerField(default=300)
    # Verdicts.
    paused = models.BooleanField(default=False)
    failures_to_down = models.PositiveIntegerField(default=3)
    successes_to_up = models.PositiveIntegerField(default=2)
    locations_needed = models.PositiveIntegerField(null=True, blank=True)  # null: a majority of those reporting
    components = models.ManyToManyField(Component, through="MonitorComponent", related_name="monitors")
    # The automatic incident (off by default): opened when it goes down, resolved when it recovers.
    incident_mode = models.CharField(max_length=8, choices=IncidentMode.choices, default=IncidentMode.OFF)
    incident_title = models.CharField(max_length=300, default=DEFAULT_INCIDENT_TITLE)
    incident_body = models.TextField(default=DEFAULT_INCIDENT_BODY)
    incident_resolution = models.TextField(default=DEFAULT_INCIDENT_RESOLUTION)
    incident_notify = models.BooleanField(default=False)  # whether subscribers are told of it
    # The monitor's current verdict, as its checks made it (not configuration: never exported).
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.CharField(max_length=500, blank=True, default="")
    # A heartbeat's pings as they came (not configuration either): the last one, when the next must have
    # come (the expected time plus the grace), when a /start must have been followed by a success, and
    # the pings counted in the current minute (a flood of pings is refused, not written).
    last_ping_at = models.DateTimeField(null=True, blank=True)
    ping_due_at = models.DateTimeField(null=True, blank=True)
    start_due_at = models.DateTimeField(null=True, blank=True)
    ping_minute = models.DateTimeField(null=True, blank=True)
    pings_in_minute = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """The name its verdicts carry in the status core's signals."""
        return f"monitor:{self.public_id}"


class MonitorComponent(models.Model):
    """A component a monitor's verdict is reported on, with the status each verdict gives it."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="links")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    down_status = models.CharField(max_length=32, choices=ComponentStatus.choices,
                                   default=ComponentStatus.MAJOR_OUTAGE)
    degraded_status = models.CharField(max_length=32, choices=ComponentStatus.choices,
                                       default=ComponentStatus.DEGRADED_PERFORMANCE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "component"], name="monitor_component_unique")]


class CheckResult(models.Model):
    """One check, as taken: kept SIGNALPOST_MONITOR_RAW_DAYS, then pruned (roll-ups and state changes stay)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=64)
    at = models.DateTimeField()
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        # No index on `at` alone: pruning walks (monitor, at), and a second index would be a quarter of the table.
        indexes = [models.Index(fields=["monitor", "at"])]


class LocationState(models.Model):
    """A monitor's verdict at one location and the runs of checks that lead to the next one."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="locations")
    location = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    down_run = models.PositiveIntegerField(default=0)  # consecutive checks down
    bad_run = models.PositiveIntegerField(default=0)  # consecutive checks degraded or down
    up_run = models.PositiveIntegerField(default=0)  # consecutive checks up
    ok_run = models.PositiveIntegerField(default=0)  # consecutive checks up or degraded
    last_at = models.DateTimeField(null=True, blank=True)
    last_verdict = models.CharField(max_length=8, blank=True, default="")
    last_reason = models.CharField(max_length=300, blank=True, default="")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "location"], name="monitor_location_unique")]


class StateChange(models.Model):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField()
    from_state = models.CharField(max_length=8, choices=State.choices)
    to_state = models.CharField(max_length=8, choices=State.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    # Going down (or degraded): the first failed check of the run that made it so. From there to `at` is
    # the time it took to detect.
    first_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["monitor", "at"])]


class MinuteRollup(models.Model):
    """A monitor's checks at one location in one minute: what uptime and response-time charts read."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=64)
    minute = models.DateTimeField()
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)  # down verdicts
    degraded = models.PositiveIntegerField(default=0)
    latency_p50_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_p95_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_max_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "location", "minute"], name="rollup_minute_unique")]


class HourlyRollup(models.Model):
    """A monitor's checks at one location hour by hour, a UTC day to a row (hourly.py packs and reads the
    24 hours), kept SIGNALPOST_MONITOR_HOURLY_DAYS: what uptime's coverage ("was anything watching?") and
    the response-time charts read. Each hour is computed again from its raw results as they arrive, so its
    percentiles are exact. No surrogate id: the key is the row's identity and its only index."""

    pk = models.CompositePrimaryKey("monitor", "location", "day")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=64)
    day = models.DateField()
    hours = models.BinaryField()


class ProbeLease(models.Model):
    """Which process probes a location now: one at a time, so that several workers running the probe job
    check each monitor once, not once each. A holder renews its lease every few seconds; one whose lease
    ran out (its process died) is replaced."""

    location = models.CharField(max_length=64, unique=True)
    holder = models.CharField(max_length=200)
    until = models.DateTimeField()


class ProbeLocation(models.Model):
    """A place results come from over the API (`signalpost probe --server`): known from its first batch
    on, with when it last sent one, how many results it sent and the token it used last."""

    name = models.CharField(max_length=64, unique=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    results_received = models.PositiveBigIntegerField(default=0)
    token_name = models.CharField(max_length=200, blank=True, default="")  # as named when it was used
    token_prefix = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AcceptedBatch(models.Model):
    """A batch of results a location sent and the server recorded, by the id the probe gave it: the
    same batch sent again (its acknowledgement was lost) is acknowledged without being recorded twice.
    Kept BATCHES_KEPT_HOURS (see locations.py), far longer than a probe retries a batch."""

    location = models.CharField(max_length=64)
    batch_id = models.UUIDField()
    accepted_at = models.DateTimeField(default=timezone.now)
    results = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "batch_id"], name="accepted_batch_unique")]
        indexes = [models.Index(fields=["location", "accepted_at"])]


class AutoIncidentState(models.TextChoices):
    DRAFT = "draft", "Draft, not published"
    OPEN = "open", "Published, open"
    RESOLVED = "resolved", "Resolved"
    DROPPED = "dropped", "Draft dropped: the monitor recovered before it was published"


class AutoIncident(models.Model):
    """The incident a monitor's going down made: a draft (its texts, ready to publish) or the published
    incident, resolved when the monitor recovers. One per going down (`down_event`), so that the event
    handled twice opens nothing twice; one open at a time per monitor."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="auto_incidents")
    down_event = models.BigIntegerField(unique=True)  # the monitor.state_changed event that opened it
    state = models.CharField(max_length=8, choices=AutoIncidentState.choices)
    title = models.CharField(max_length=300)
    body = models.TextField()
    components = models.JSONField(default=dict)  # component public id: the status the incident gives it
    notify = models.BooleanField(default=False)
    down_at = models.DateTimeField()  # the state change: when it was detected
    first_failure_at = models.DateTimeField(null=True, blank=True)  # when the problem first showed
    incident = models.ForeignKey("status.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    up_event = models.BigIntegerField(null=True, blank=True)  # the event that resolved it
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-down_at", "-id"]
        indexes = [models.Index(fields=["monitor", "state"])]


class AlertMessage(models.Model):
    """One message to the team's channels, listing the alerts gathered in it; sent at least once,
    each channel that took it remembered (`sent_to`) so that a retry tells only the others."""

    title = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.IntegerField(default=0)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list)  # ids of the team channels that took it
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["sent_at", "due_at"])]


class AlertKind(models.TextChoices):
    CHANGE = "change", "State change"
    REMINDER = "reminder", "Still down"


class MonitorAlert(models.Model):
    """One thing the team is told about a monitor: a state change, or a reminder that it is still down.
    Its key makes it once only (the event's id, or the reminder's slot); alerts waiting together are
    gathered into one message. One for a monitor whose components are all under maintenance is kept,
    silenced, and never sent."""

    key = models.CharField(max_length=100, unique=True)
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    at = models.DateTimeField()
    from_state = models.CharField(max_length=8, choices=State.choices)
    to_state = models.CharField(max_length=8, choices=State.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    silenced = models.BooleanField(default=False)
    message = models.ForeignKey(AlertMessage, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="alerts")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["message", "silenced", "at"]), models.Index(fields=["monitor", "at"])]
