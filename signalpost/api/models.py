from django.db import models
from django.utils import timezone

from signalpost.accounts.models import ApiToken


class IdempotentRequest(models.Model):
    """The response to a POST made with an Idempotency-Key, replayed when the same key comes again."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_digest = models.CharField(max_length=64)
    status_code = models.IntegerField()
    response_body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_unique_per_token")]
