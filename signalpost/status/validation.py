"""Checks on the input of the services: each refusal names the field at fault. The accepted ranges
are in ranges.py."""

from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from signalpost.errors import InvalidInput
from .models import Component, ComponentStatus, Impact
from .ranges import (  # noqa: F401 - the ranges, for the services and faces that check through this module
    EARLIEST,
    INT_MAX,
    INT_MIN,
    LATEST,
    MAX_OFFSET,
    PAGE_MAX,
    RANGE_TEXT,
    day_problem,
    instant_problem,
    integer_problem,
    text_problem,
)

# Tolerated clock difference between a client and the server for display times.
CLOCK_SKEW = timedelta(seconds=60)


def in_range(field: str, value: datetime | None) -> datetime | None:
    """An aware instant inside the accepted range, in UTC; refused otherwise."""
    if value is None:
        return None
    if timezone.is_naive(value):
        raise InvalidInput(field, "must include a time zone offset (e.g. 2026-11-25T14:00:00Z)")
    problem = instant_problem(value)
    if problem is not None:
        raise InvalidInput(field, problem)
    return value.astimezone(UTC)


def text(field: str, value: str | None) -> str | None:
    if value is not None:
        problem = text_problem(value)
        if problem is not None:
            raise InvalidInput(field, problem)
    return value


def integer(field: str, value: int | None, low: int = INT_MIN, high: int = INT_MAX) -> int | None:
    if value is not None:
        problem = integer_problem(value, low, high)
        if problem is not None:
            raise InvalidInput(field, problem)
    return value


def validate_time_zone(name: str, field: str = "time_zone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field, f'"{name}" is not a known time zone (e.g. "Europe/Zurich")') from None
    return name


def required_text(field: str, value: str | None, max_length: int) -> str:
    value = (text(field, value) or "").strip()
    if not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    return value


def choice(field: str, value: str, choices: type) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise InvalidInput(field, f'"{value}" is not one of: {allowed}')
    return value


def aware(field: str, value: datetime | None) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise InvalidInput(field, "must be a date and time with an offset (e.g. 2026-11-25T14:00:00Z)")
    return in_range(field, value)


def not_future(field: str, value: datetime | None, now: datetime) -> datetime | None:
    value = aware(field, value)
    if value is not None and value > now + CLOCK_SKEW:
        raise InvalidInput(field, "is in the future; an update can only be shown as posted now or earlier")
    # A client clock slightly ahead counts as now: stored as is, the update would stay invisible to the
    # derived status (and the page would say all is well) until that moment came.
    return min(value, now) if value is not None else None


def moment(field: str, value: datetime | date | None, now: datetime,
           zone: ZoneInfo) -> tuple[datetime | None, date | None]:
    """A time as entered: a date and time, or a date alone when the time is unknown. A date becomes its
    first instant in the page's zone (so that it sorts among the others) and is kept as the date shown."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        return not_future(field, value, now), None
    if not isinstance(value, date):
        raise InvalidInput(field, "must be a date and time (2026-11-25T14:00:00Z), or a date alone (2026-11-25)")
    problem = day_problem(value)
    if problem is not None:
        raise InvalidInput(field, problem)
    start = datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(dt_timezone.utc)
    if start > now + CLOCK_SKEW:
        raise InvalidInput(field, "is in the future; an update can only be shown as posted now or earlier")
    return min(start, now), value


def impact_window(start: datetime | None, end: datetime | None, now: datetime) -> None:
    """When customers were affected: both ends in the past, the end after the start, no end alone."""
    start = not_future("impact_started_at", start, now)
    end = aware("impact_ended_at", end)
    if end is not None and end > now + CLOCK_SKEW:
        raise InvalidInput("impact_ended_at", "is in the future; give it once the impact has ended")
    if end is not None and start is None:
        raise InvalidInput("impact_started_at", "is required with impact_ended_at")
    if start is not None and end is not None and end < start:
        raise InvalidInput("impact_ended_at", "is before impact_started_at")


def component_statuses(field: str, components: Mapping | None) -> dict[Component, str]:
    result: dict[Component, str] = {}
    for component, status in (components or {}).items():
        if not isinstance(component, Component):
            raise InvalidInput(field, f'unknown component "{component}"')
        result[component] = choice(f"{field}.{component.public_id}", status, ComponentStatus)
    return result


def incident_impact(impact: str) -> str:
    if impact == Impact.MAINTENANCE:
        raise InvalidInput("impact", '"maintenance" is the impact of scheduled maintenance, not of an incident')
    if impact not in Impact.values:
        raise InvalidInput("impact", f'"{impact}" is not one of: none, minor, major, critical')
    return impact
