"""What Signalpost accepts, written once; every face (the API's schemas and query parameters, the console's
forms, the CLI) refuses with these, and the services check them again (validation.py):

- an instant from EARLIEST to LATEST with an offset of at most ±15:59 (what PostgreSQL keeps; an instant
  near year 1 or 9999 cannot even be shown in another zone);
- a whole number that fits the 32-bit columns (positions);
- text without NUL characters or lone surrogates (neither database can keep them).

No Django import here: the CLI reads it before Django is set up.
"""

import re
from datetime import UTC, date, datetime, timedelta

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=15, minutes=59)
RANGE_TEXT = "1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z"
# Integer columns (positions) are 32-bit on both databases.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# Page numbers of the lists: the offset they make must stay far inside a 64-bit integer.
PAGE_MAX = 1_000_000

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def instant_problem(value: datetime) -> str | None:
    """Why an aware instant is outside the accepted range, or None. Never converts the value, since an
    instant near year 1 or 9999 cannot be moved to another zone."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return "has a time zone offset beyond ±15:59"
    if not EARLIEST <= value <= LATEST:
        return f"must be from {RANGE_TEXT}"
    return None


def day_problem(value: date) -> str | None:
    """Why a date given alone (its time unknown) is outside the accepted range, or None: its every
    instant must be in range, in any zone."""
    if not EARLIEST.date() <= value < LATEST.date():
        return f"must be from {EARLIEST.date().isoformat()} to {(LATEST.date() - timedelta(days=1)).isoformat()}"
    return None


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored as written, or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters (\\u0000)"
    return "must not contain lone surrogates (\\ud800 to \\udfff): send the character itself"


def integer_problem(value: int, low: int = INT_MIN, high: int = INT_MAX) -> str | None:
    if value < low:
        return f"must be at least {low}"
    if value > high:
        return f"must be at most {high}"
    return None
