"""Wall-clock times typed into the console, in a zone the responder names, as exact instants.

A <input type="datetime-local"> carries no zone, and twice a year a wall-clock time is not one instant:
when clocks go forward an hour of times never happens, when they go back an hour happens twice.
Guessing there would move a maintenance window by an hour without anyone noticing, so both are refused
with words that say what happened and what to type instead.
"""

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from signalpost.status.ranges import RANGE_TEXT, instant_problem

# Files in the zone database that name no place: the machine's own setting, and a placeholder.
NOT_ZONES = {"UTC", "localtime", "Factory", "posixrules"}


class LocalTimeError(ValueError):
    pass


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, UTC first, then alphabetically."""
    return ("UTC", *sorted(name for name in available_timezones() if name not in NOT_ZONES))


def _hhmm(value: datetime) -> str:
    return f"{value:%H:%M}"


def aware_in_zone(local: datetime, zone_name: str) -> datetime:
    """`local` (naive, as typed) read as a wall-clock time in `zone_name`, returned in UTC."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LocalTimeError(f'"{zone_name}" is not a known time zone') from None
    local = local.replace(tzinfo=None)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    # The accepted range first: near year 1 or 9999 a time cannot even be moved to UTC.
    if instant_problem(first) is not None:
        raise LocalTimeError(f"must be from {RANGE_TEXT}")
    typed = f"{local:%Y-%m-%d} {_hhmm(local)}"
    # A time in the skipped hour does not survive the trip to UTC and back unchanged.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        # In a gap, fold=0 reads the time with the offset before the change, fold=1 with the one after.
        skipped = second.utcoffset() - first.utcoffset()
        minutes = int(skipped.total_seconds() // 60)
        span = "an hour" if minutes == 60 else f"{minutes} minutes"
        raise LocalTimeError(
            f"{typed} does not exist in {zone_name}: the clocks go forward {span} that night "
            f"({first.tzname()} to {second.tzname()}) and skip this time. Choose a time before or after the change."
        )
    if first.utcoffset() != second.utcoffset():
        once, twice = first.astimezone(UTC), second.astimezone(UTC)
        raise LocalTimeError(
            f"{typed} happens twice in {zone_name}, because the clocks go back that night: first at "
            f"{_hhmm(once)} UTC ({first.tzname()}), then at {_hhmm(twice)} UTC ({second.tzname()}). "
            f"Choose UTC as the time zone and enter the one you mean."
        )
    return first.astimezone(UTC)


def local_input_value(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An instant as the naive wall-clock time a datetime-local input shows for `zone`."""
    if value is None:
        return None
    return value.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
