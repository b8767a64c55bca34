from django.db import models
from django.utils import timezone


class LoginFailure(models.Model):
    """A failed console login, kept briefly to throttle password guessing (shared by all instances)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
