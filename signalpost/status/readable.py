"""Rows the pages and the lists can show: every instant inside the accepted range, every status known.

The services refuse an instant outside it (validation.py), but a row stored before they did, or by
hand, may hold one: year 9999 cannot be shown in a zone east of UTC, and PostgreSQL keeps year 1 at
+01:00 as 1 BC, which no Python datetime can hold. Such a row is left out of what readers and API
clients list, in the query itself, so that it cannot stop the page of anything else. A component
status no version knows is read as operational (models.ComponentStatusField); a manual override
holding one is left out, so that it forces nothing.
"""

from django.db.models import Q

from .models import ComponentStatus
from .ranges import EARLIEST, LATEST

INCIDENT_INSTANTS = ("started_at", "monitoring_at", "resolved_at", "scheduled_for", "scheduled_until", "created_at",
                     "updated_at", "impact_started_at", "impact_ended_at")
UPDATE_INSTANTS = ("display_at", "created_at", "updated_at", "edited_at", "scheduled_until")


def within(names: tuple[str, ...], prefix: str = "") -> Q:
    """Rows whose instants `names` (each may be null) are in range: for other packages' rows too."""
    condition = Q()
    for name in names:
        field = prefix + name
        condition &= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": EARLIEST, f"{field}__lte": LATEST})
    return condition


def incidents(prefix: str = "") -> Q:
    """Incidents and maintenance (`prefix`: the path to one, e.g. "incident__")."""
    return within(INCIDENT_INSTANTS, prefix)


def updates(prefix: str = "", with_incident: bool = False) -> Q:
    """Updates whose own instants (and their incident's, `with_incident`) are in range."""
    condition = within(UPDATE_INSTANTS, prefix)
    return condition & within(INCIDENT_INSTANTS, prefix + "incident__") if with_incident else condition


def overrides(prefix: str = "") -> Q:
    """Manual overrides whose status is one Signalpost knows."""
    return Q(**{f"{prefix}status__in": ComponentStatus.values})
