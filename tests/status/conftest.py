"""Fixtures for the domain tests: a fixed clock, so every time an assertion names is exact."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from signalpost.status import derive


@pytest.fixture
def now() -> datetime:
    # Whole seconds: SQLite and PostgreSQL both keep microseconds, but round numbers read better.
    return datetime.now(dt_timezone.utc).replace(microsecond=0)


@pytest.fixture
def statuses_at(components):
    """The derived status of every fixture component at one instant, by fixture key."""

    def read(at: datetime) -> dict[str, str]:
        by_pk = derive.current_statuses(components.values(), at=at)
        return {key: by_pk[c.pk] for key, c in components.items()}

    return read


def timeline(component, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    return [(s.start, s.end, s.status) for s in derive.component_status_timeline(component, start, end)]


HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
