"""The public reliability report keeps to the one visibility rule: a component in a hidden group is
as hidden as a hidden component."""

from datetime import timedelta

from django.utils import timezone

from signalpost.accounts import audit
from signalpost.postmortems import public_report
from signalpost.status import services as status
from signalpost.public.models import SnapshotFile
from tests.publishing import republish_everything


def test_components_of_a_hidden_group_are_not_in_the_public_report(client, components):
    now = timezone.now()
    backstage = status.create_group(name="Backstage", hidden=True)
    builder = status.create_component(name="Image builder", group=backstage)
    status.backfill_incident(name="Builder queue stuck", started_at=now - timedelta(hours=5),
                             resolved_at=now - timedelta(hours=3), impact="major", body="Down.",
                             components={builder: "major_outage"})
    with audit.acting(audit.SYSTEM):
        public_report.set_public_report(public=True, months=3)
    republish_everything()
    published = SnapshotFile.objects.get(path="/reliability")
    for page in (client.get("/reliability").content.decode(), bytes(published.body).decode()):
        assert "Image builder" not in page and "Backstage" not in page
        summary = page[page.index('aria-labelledby="rel-summary"'):page.index('aria-labelledby="rel-incidents"')]
        assert "Major outage</dt><dd>none" in summary  # its downtime is not the page's either
        downtime = page[page.index('aria-labelledby="rel-downtime"'):page.index('aria-labelledby="rel-detect"')]
        assert "No component was in partial or major outage in this period." in downtime
