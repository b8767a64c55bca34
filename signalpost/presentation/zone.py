"""The page's time zone, resolved in one place."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from signalpost.status.models import Page


def zone_named(name: str) -> ZoneInfo:
    """A zone by its name; UTC for a name this machine does not know (a zone database older than the
    one that stored it), so that no page ever fails to render for it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def page_zone(page: Page | None = None) -> ZoneInfo:
    """The zone the page shows its times in."""
    if page is None:
        from signalpost.status.services import get_page

        page = get_page()
    return zone_named(page.time_zone)


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)
