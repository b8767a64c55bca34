from django.db import models

# The content type of a SnapshotFile that is a tombstone: a path published once and no longer (the
# reliability report switched off). Loaders drop it, so the address stops answering from the snapshot.
RETIRED = ""
# The snapshot's 404 page: the front answers it, with status 404, for an address in the snapshot's own
# namespace (an incident, maintenance or postmortem, a month of the history) that it does not hold; a
# static host serves it for its own 404s.
NOT_FOUND_PATH = "/404.html"


class SnapshotFile(models.Model):
    """One public URL as last published: the exact bytes readers get, and their gzip twin."""

    path = models.CharField(max_length=500, primary_key=True)
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    gzip_body = models.BinaryField()
    etag = models.CharField(max_length=64)
    version = models.BigIntegerField(db_index=True)  # the publication that last wrote it
    published_at = models.DateTimeField()


class SnapshotState(models.Model):
    """Row id 1: the latest publication's number. Web instances load the files of newer versions."""

    version = models.BigIntegerField(default=0)
    published_at = models.DateTimeField(null=True)
