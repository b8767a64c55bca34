"""The reminders before a maintenance window: offsets such as "24h" or "30m" as written by people, the
seconds they are stored as, and which apply to a window (its own, or the page's when it has none)."""

from collections.abc import Iterable

from django.conf import settings

from signalpost.errors import InvalidInput

UNITS = {"h": 3600, "m": 60}
LONGEST = 30 * 24 * 3600  # a reminder more than 30 days ahead is a typo, not a plan
MOST = 10


def parse(field: str, values: Iterable[str | int] | str | None) -> list[int] | None:
    """Offsets such as ["24h", "1h"] or "24h,30m" as seconds, longest first, each once; None stays None
    (the page's default) and an empty list means no reminders. Each refusal names `field`."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [part for part in (p.strip() for p in values.split(",")) if part]
    values = list(values)
    if len(values) > MOST:
        raise InvalidInput(field, f"at most {MOST} reminders")
    seconds = set()
    for value in values:
        part = str(value).strip()
        unit = UNITS.get(part[-1:].lower())
        number = part[:-1]
        if unit is None or not (number.isascii() and number.isdigit()) or int(number) <= 0:
            raise InvalidInput(field, f'"{part}" is not a time before the start such as 24h or 30m')
        if int(number) * unit > LONGEST:
            raise InvalidInput(field, f'"{part}" is more than 30 days before the start')
        seconds.add(int(number) * unit)
    return sorted(seconds, reverse=True)


def text(seconds: int) -> str:
    """One offset as it is written: "24h", "90m"."""
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def texts(offsets: list[int] | None) -> list[str] | None:
    return None if offsets is None else [text(s) for s in offsets]


def default() -> list[int]:
    """The page's reminders, for a window that has none of its own."""
    return list(settings.NOTIFY_REMINDERS)


def of(window) -> list[int]:
    """The reminders a window gets: its own, else the page's."""
    return default() if window.reminders is None else list(window.reminders)


def described(offsets: list[int]) -> str:
    """For people: "24h, 1h before it starts", or "none"."""
    return ", ".join(text(s) for s in offsets) + " before it starts" if offsets else "none"
