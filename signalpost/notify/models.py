"""Subscribers, and the deliveries made for them.

A Subscriber is one address (an e-mail address or a URL) on one channel, for every component or for
some. A Delivery is one message for one subscriber about one event: made by the delivery consumer in one
transaction per event (its key makes a second making of it a no-op), claimed and sent by a delivery job,
retried with back-off, and kept with each Attempt so that an admin can see what happened to every update.
"""

from django.db import models
from django.utils import timezone

from signalpost.status.models import new_public_id


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    TEAMS = "teams", "Microsoft Teams"


class Source(models.TextChoices):
    SELF = "self", "Signed up on the page"
    ADMIN = "admin", "Added by an admin"
    IMPORT = "import", "Imported"


class SubscriberQuerySet(models.QuerySet):
    def active(self):
        """Those that are told: confirmed and not paused."""
        return self.filter(confirmed_at__isnull=False, paused_at__isnull=True)


class Subscriber(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=2000)  # as given: the e-mail address or the URL
    # What makes two subscriptions the same one: the address folded (an e-mail's case, a URL's host case).
    address_key = models.CharField(max_length=2000)
    secret = models.CharField(max_length=100, blank=True, default="")  # a webhook's signing secret
    owner_email = models.EmailField(max_length=320, blank=True, default="")  # told when a webhook is paused
    all_components = models.BooleanField(default=True)
    components = models.ManyToManyField("status.Component", blank=True, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SELF)
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)  # null: waiting for the double opt-in
    paused_at = models.DateTimeField(null=True, blank=True)  # a webhook that kept failing; an admin resumes it
    paused_reason = models.CharField(max_length=300, blank=True, default="")
    # Bumped to make every link sent before it stop working (a changed address, a new confirmation).
    link_generation = models.IntegerField(default=0)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "address_key"], name="one_subscriber_per_address")]
        indexes = [models.Index(fields=["confirmed_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # to be sent at due_at (a first try or a retry)
    SENT = "sent", "Sent"
    HELD = "held", "Held for the digest"  # the subscriber's hourly limit was reached
    DIGESTED = "digested", "Sent in a digest"
    FAILED = "failed", "Failed"  # its attempts ran out: the dead-letter list, where an admin retries it
    CANCELLED = "cancelled", "Cancelled"  # the subscriber left or was paused before it went


class Delivery(models.Model):
    # Stable: "<event id>.<subscriber id>" (or "digest.<subscriber id>.<hour>"). Sent along as the e-mail's
    # Message-ID and the webhook-id, so that a message sent twice is recognisably the same one.
    key = models.CharField(max_length=100, unique=True)
    event_id = models.BigIntegerField()  # events are forgotten after a while; deliveries are kept
    event_kind = models.CharField(max_length=64)
    subject = models.CharField(max_length=80)  # the event's subject ("incident:kctbh9vrtdwd")
    about = models.CharField(max_length=300, blank=True, default="")  # what it tells, for the lists
    subscriber = models.ForeignKey(Subscriber, null=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=2000)  # copied: the record outlives an unsubscribe
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="held")

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["subject", "event_id"]),
            models.Index(fields=["subscriber", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.state}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    status = models.IntegerField(null=True, blank=True)  # the HTTP status or SMTP reply code, when there was one
    error = models.TextField(blank=True, default="")
    elapsed_ms = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["delivery", "at"])]


class SignupRequest(models.Model):
    """One request to subscribe made on the public page, kept for an hour to limit how often one address
    is signed up and one client asks (shared by all instances). The address is kept as a keyed digest,
    never as given: these rows outlive a reader who leaves, for that hour."""

    address_digest = models.CharField(max_length=64, db_index=True)
    client_address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
class TemplateKind(models.TextChoices):
    INCIDENT = "incident", "Incident opened, updated, resolved"
    MAINTENANCE = "maintenance", "Maintenance scheduled, reminded, started, completed"
    POSTMORTEM = "postmortem", "Postmortem published"
    COMPONENT = "component", "Component status changed"
    DIGEST = "digest", "Digest of held messages"
    PAUSED = "paused", "Webhook paused (to its owner)"


class EmailTemplate(models.Model):
    """The team's own wording of one kind of e-mail. A field left empty uses the default file
    (signalpost/notify/templates/notify/email/<kind>.*); each field is a Django template."""

    kind = models.CharField(max_length=16, choices=TemplateKind.choices, unique=True)
    subject = models.CharField(max_length=300, blank=True, default="")
    text = models.TextField(blank=True, default="")
    html = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.get_kind_display()


class TeamAlert(models.TextChoices):
    """What the team's own channels can be told about."""

    DELIVERY_FAILED = "delivery.failed", "A delivery ran out of attempts (dead letter)"
    SUBSCRIBER_PAUSED = "subscriber.paused", "A subscriber's webhook was paused after repeated failures"
    # Sent by the monitors' own job (signalpost/monitors/alerts.py): gathered, reminded, silenced.
    MONITOR = "monitor.state_changed", "A monitor went down, degraded or recovered (and reminders while down)"


class TeamChannel(models.Model):
    """One of the team's own alert channels: an Apprise URL (Slack, Matrix, ntfy, e-mail, a JSON
    endpoint...). The URL holds the service's credentials: it is never shown back after saving (the
    console shows `shown_url`, Apprise's own form of it with the secrets elided), and is kept out of the
    audit trail and of error messages."""

    name = models.CharField(max_length=100)
    url = models.TextField()
    shown_url = models.CharField(max_length=300)  # the URL with its credentials elided
    kinds = models.JSONField(default=list)  # the TeamAlert values it takes
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def takes(self, kind: str) -> bool:
        return kind in self.kinds
