"""Demo data for a first start: a hosting company's page with four regions, a few past incidents and a
maintenance, a published learning review of one incident and a postmortem of the maintenance still in
review. Everything goes through the services, so the demo writes the events a real team's work would."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from signalpost.postmortems.demo import load_demo_postmortems
from signalpost.status.demo import load_status_demo


def load_demo(now: datetime | None = None) -> None:
    """Load it all in one transaction: loading again refuses (the groups exist) and changes nothing."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    with transaction.atomic():
        events = load_status_demo(now)
        load_demo_postmortems(lost_hypervisor=events["lost_hypervisor"], maintenance=events["maintenance"],
                              zone="Europe/Zurich", now=now)
