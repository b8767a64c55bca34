"""The core of a status page: components, incidents, maintenance and what happened to them.

Component status is never stored on the component: it is derived (see derive.py) from open incidents,
running maintenance and manual overrides, each of which keeps its own history as rows.
"""

import secrets
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_public_id() -> str:
    """A 12-character lowercase id, the shape Statuspage uses (e.g. 'kctbh9vrtdwd')."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


# Worst last: the status shown when several causes apply at once.
SEVERITY = {status: rank for rank, status in enumerate(ComponentStatus.values)}


class ComponentStatusField(models.CharField):
    """A component status column. The forms, the API and the services only ever store one of
    ComponentStatus, but a row written by an older version or by hand may hold any text; read back, such
    a value is operational (it stands for no outage), so that one row cannot break every page that
    derives a status from it. A manual override holding one is also left out of the causes (see
    readable.overrides), so that it forces nothing. Stored as a plain CharField: only reading differs."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("choices", ComponentStatus.choices)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value in SEVERITY:
            return value
        return ComponentStatus.OPERATIONAL.value


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"  # called off before it started: it never ran


# A maintenance in one of these takes no more updates and is no longer shown as running or upcoming.
MAINTENANCE_FINISHED = (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED)


class Kind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    MAINTENANCE = "maintenance", "Maintenance"


# The logo formats a page accepts, with the extension it is published under. No SVG: it can carry script.
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


class Page(models.Model):
    """The one status page this installation publishes (row id 1)."""

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    name = models.CharField(max_length=200, default="Status")
    url = models.CharField(max_length=300, blank=True, default="")
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Branding, published as /brand.css and /brand/logo.<ext> (the public pages allow no inline style).
    accent_color = models.CharField(max_length=7, blank=True, default="")  # "#rrggbb": links
    header_color = models.CharField(max_length=7, blank=True, default="")  # "#rrggbb": header background
    custom_css = models.TextField(blank=True, default="")  # already sanitized (status/branding.py)
    footer_links = models.JSONField(blank=True, default=list)  # [{"label": ..., "url": ...}]
    logo_type = models.CharField(max_length=32, blank=True, default="")  # "" when there is no logo
    logo_digest = models.CharField(max_length=64, blank=True, default="")  # sha256 of the image

    def __str__(self) -> str:
        return self.name

    @property
    def logo_path(self) -> str:
        """Where the published logo lives, or "" without one."""
        return f"/brand/logo.{LOGO_TYPES[self.logo_type]}" if self.logo_type in LOGO_TYPES else ""

    @property
    def logo_url(self) -> str:
        """The logo's path, versioned so that a cache never shows the old image."""
        return f"{self.logo_path}?v={self.logo_digest[:10]}" if self.logo_path else ""

    @property
    def brand_css_url(self) -> str:
        """The branding stylesheet's URL, or "" when the page has no branding to apply."""
        import hashlib

        if not (self.accent_color or self.header_color or self.custom_css):
            return ""
        version = hashlib.sha256(f"{self.accent_color}{self.header_color}{self.custom_css}".encode()).hexdigest()
        return f"/brand.css?v={version[:10]}"


class PageLogo(models.Model):
    """The logo's bytes, kept apart from Page so that reading the page (every request) never loads them."""

    page = models.OneToOneField(Page, on_delete=models.CASCADE, primary_key=True, related_name="logo")
    content_type = models.CharField(max_length=32)
    body = models.BinaryField()
    uploaded_at = models.DateTimeField(default=timezone.now)


class ComponentGroup(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    position = models.IntegerField(default=0)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


def visible_q(prefix: str = "") -> Q:
    """What readers see, as a filter: a component that is not hidden, in no group or in a group that is
    not hidden. `prefix` reaches it through a relation ("affected__component__"). Every public page,
    feed and payload filters with this rule (or `Component.is_visible`, its Python twin)."""
    return Q(**{f"{prefix}hidden": False}) & (
        Q(**{f"{prefix}group__isnull": True}) | Q(**{f"{prefix}group__hidden": False})
    )


class ComponentQuerySet(models.QuerySet):
    def visible(self) -> "ComponentQuerySet":
        return self.filter(visible_q())


class Component(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="components"
    )
    position = models.IntegerField(default=0)
    hidden = models.BooleanField(default=False)
    third_party = models.BooleanField(default=False)
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ComponentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="component_name_unique_in_group"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(group__isnull=True), name="ungrouped_component_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group.name} / {self.name}" if self.group_id else self.name

    @property
    def is_visible(self) -> bool:
        """`visible_q` for a component at hand (its group loaded)."""
        return not self.hidden and not (self.group_id and self.group.hidden)


class StatusOverride(models.Model):
    """A status set by hand on a component, from set_at until cleared_at (open while null)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="overrides")
    status = ComponentStatusField()
    reason = models.CharField(max_length=500, blank=True, default="")
    set_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["set_at"]
        indexes = [models.Index(fields=["component", "set_at"])]


class Incident(models.Model):
    """An incident, or a scheduled maintenance (kind), as Statuspage models both."""

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    name = models.CharField(max_length=300)
    status = models.CharField(max_length=32)
    impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.NONE)
    components = models.ManyToManyField(Component, through="IncidentComponent", related_name="incidents")
    retroactive = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Maintenance only.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    auto_start = models.BooleanField(default=True)
    auto_complete = models.BooleanField(default=True)
    # The reminders before the window starts, as seconds before it, longest first: null for the page's
    # (SIGNALPOST_NOTIFY_REMINDERS), an empty list for none.
    reminders = models.JSONField(null=True, blank=True, default=None)
    # When they were last changed: a reminder whose time had passed by then is not sent late.
    reminders_changed_at = models.DateTimeField(null=True, blank=True)
    # When customers were affected, apart from when the incident was opened and resolved or when the
    # maintenance ran: the computed figures (uptime, downtime, durations) read this window when it is set.
    impact_started_at = models.DateTimeField(null=True, blank=True)
    impact_ended_at = models.DateTimeField(null=True, blank=True)  # null while the impact lasts, or unknown
    # Only the date is known: started_at / resolved_at hold that day's first instant in the page's zone
    # (for ordering), and the pages show the date as written, with no clock time.
    started_on = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["kind", "started_at"]),
            models.Index(fields=["kind", "scheduled_for"]),
            models.Index(fields=["resolved_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_maintenance(self) -> bool:
        return self.kind == Kind.MAINTENANCE

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def public_path(self) -> str:
        prefix = "maintenance" if self.is_maintenance else "incidents"
        return f"/{prefix}/{self.public_id}"

    @property
    def begins_at(self):
        """When the event began for the reader: its start, or for maintenance not yet begun, its window."""
        if self.is_maintenance:
            return self.started_at or self.scheduled_for
        return self.started_at or self.created_at

    @property
    def impact_window(self) -> tuple[datetime | None, datetime | None]:
        """When customers were affected: the impact window where given, else when it began and ended."""
        return (self.impact_started_at or self.begins_at, self.impact_ended_at or self.resolved_at)

    @property
    def impact_known(self) -> bool:
        """Whether the impact's span is known to the minute (not bounded by a date-only time)."""
        start_vague = self.impact_started_at is None and self.started_on is not None
        end_vague = self.impact_ended_at is None and self.resolved_on is not None
        return not (start_vague or end_vague)


class IncidentComponent(models.Model):
    """A component affected by an incident, with the status the incident currently gives it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="+")
    status = ComponentStatusField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "component"], name="incident_component_unique"),
        ]


# An update shown as posted earlier than it was written (a backfill, a late note) says when it was
# written, on the public page and in the console alike.
POSTED_LATE = timedelta(minutes=5)


class IncidentUpdate(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=32)
    body = models.TextField(blank=True, default="")
    display_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)  # when it was actually posted
    updated_at = models.DateTimeField(default=timezone.now)
    deliver_notifications = models.BooleanField(default=True)
    edited_at = models.DateTimeField(null=True, blank=True)  # the text was corrected after posting
    # Maintenance: the window's end as this update set it (scheduling, or an overrun extending it).
    scheduled_until = models.DateTimeField(null=True, blank=True)
    # Only the date of the update is known: display_at is that day's first instant in the page's zone.
    display_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-display_at", "-id"]
        indexes = [models.Index(fields=["incident", "display_at"])]

    @property
    def posted_late(self) -> bool:
        if self.display_on is not None:  # shown as a day: late only when written after that day
            return self.created_at - (self.display_at + timedelta(days=1)) > POSTED_LATE
        return self.created_at - self.display_at > POSTED_LATE


class AffectedComponent(models.Model):
    """A component's status as of one update: the rows a component's status timeline is built from."""

    update = models.ForeignKey(IncidentUpdate, on_delete=models.CASCADE, related_name="component_changes")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="+")
    old_status = ComponentStatusField()
    new_status = ComponentStatusField()

    class Meta:
        indexes = [models.Index(fields=["component"])]


class ComponentSignal(models.Model):
    """A status an automatic source (a monitor, "monitor:<public id>") reports for a component, from start
    until end (open while null). One more cause of the derived status, beside incidents, maintenance and
    overrides; the status core owns these rows, whoever reports them."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="signals")
    source = models.CharField(max_length=64)
    status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    start = models.DateTimeField(default=timezone.now)
    end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["component", "start"]), models.Index(fields=["source", "end"])]
