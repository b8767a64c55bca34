"""Times as readers see them: absolute in the page's zone with its abbreviation, relative, and
durations. The public pages, the console and postmortems all word times through these.

Every time on a page is a <time datetime="…Z"> in UTC (see templatetags/presentation.py); public.js
rewrites the text into the reader's own zone and keeps relative times current. The wording of
relative times is mirrored in public.js.
"""

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def iso_utc(value: datetime) -> str:
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_text(value: datetime, tz: ZoneInfo) -> str:
    """"Sep 12, 2017 22:53 CEST" (month names fixed in English: the page's language, not the locale's)."""
    local = value.astimezone(tz)
    return f"{MONTHS[local.month - 1]} {local.day}, {local.year} {local:%H:%M} {local.tzname()}"


def short_date(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def long_date(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def month_title(year: int, month: int) -> str:
    return f"{MONTH_NAMES[month - 1]} {year}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def relative_text(value: datetime, now: datetime) -> str:
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    minutes = seconds / 60
    if minutes < 45:
        span = _plural(max(1, round(minutes)), "minute")
    elif minutes < 90:
        span = "1 hour"
    elif minutes < 24 * 60:
        span = _plural(round(minutes / 60), "hour")
    elif minutes < 42 * 60:
        span = "1 day"
    elif minutes < 30 * 24 * 60:
        span = _plural(round(minutes / 1440), "day")
    elif minutes < 45 * 24 * 60:
        span = "1 month"
    elif minutes < 365 * 24 * 60:
        span = _plural(round(minutes / 43200), "month")
    else:
        span = _plural(int(minutes // 525600), "year")
    return f"in {span}" if future else f"{span} ago"


def duration_text(span: timedelta) -> str:
    """The two largest units: "45 minutes", "2 hours 15 minutes", "3 days 4 hours"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    shown = [_plural(n, unit) for n, unit in parts[:2] if n]
    return " ".join(shown) or "less than a minute"


def uptime_text(percent: float) -> str:
    return f"{percent:.2f}".rstrip("0").rstrip(".") + "%"
