"""What the console keeps for itself: the message templates responders start their updates from."""

from django.db import models
from django.utils import timezone

from signalpost.status.models import IncidentStatus, Kind, MaintenanceStatus

# The statuses a template may preselect, by the kind of event it is written for.
TEMPLATE_STATUSES = {
    Kind.INCIDENT: IncidentStatus,
    Kind.MAINTENANCE: MaintenanceStatus,
}


class MessageTemplate(models.Model):
    """A ready-made update text, offered in every update form of its kind. Choosing one fills in the
    body and, when the template names one, the status it was written for."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    status = models.CharField(max_length=32, blank=True, default="")  # "" preselects nothing
    body = models.TextField()
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="message_template_name_unique_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name
