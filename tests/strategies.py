"""Hypothesis strategies shared by the tests: instants at and beyond the edges of the accepted range
(signalpost/status/ranges.py), and text the databases can or cannot keep."""

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from signalpost.status.ranges import EARLIEST, LATEST, MAX_OFFSET

_MINUTE = timedelta(minutes=1)


def offsets(within: bool = True) -> st.SearchStrategy[timezone]:
    """Fixed offsets: within ±15:59, or beyond it (up to ±23:59, all Python allows)."""
    limit = int(MAX_OFFSET / _MINUTE)
    minutes = st.integers(-limit, limit) if within else st.one_of(st.integers(limit + 1, 24 * 60 - 1),
                                                                 st.integers(-(24 * 60 - 1), -(limit + 1)))
    return minutes.map(lambda m: timezone(timedelta(minutes=m)))


def instants_in_range() -> st.SearchStrategy[datetime]:
    """Any instant from EARLIEST to LATEST, written with any accepted offset, the edges included."""
    utc = st.one_of(
        st.sampled_from([EARLIEST, LATEST, EARLIEST + _MINUTE, LATEST - _MINUTE]),
        st.datetimes(min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None))
        .map(lambda d: d.replace(tzinfo=timezone.utc)),
    )
    return st.tuples(utc, offsets()).map(lambda pair: pair[0].astimezone(pair[1]))


def instants_out_of_range() -> st.SearchStrategy[datetime]:
    """Instants before EARLIEST or after LATEST (down to year 1, up to 9999, with offsets that make the UTC
    instant unrepresentable), and instants inside the range written with an offset beyond ±15:59."""
    before = st.datetimes(max_value=(EARLIEST - timedelta(days=1)).replace(tzinfo=None))
    after = st.datetimes(min_value=(LATEST + timedelta(days=1)).replace(tzinfo=None))
    outside = st.tuples(st.one_of(before, after), offsets()).map(lambda pair: pair[0].replace(tzinfo=pair[1]))
    edges = st.sampled_from([EARLIEST - timedelta(seconds=1), LATEST + timedelta(seconds=1),
                             datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
                             datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)])
    badly_offset = st.tuples(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)), offsets(within=False),
    ).map(lambda pair: pair[0].replace(tzinfo=pair[1]))
    return st.one_of(edges, outside, badly_offset)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def storable_texts(min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[str]:
    """Any text the databases keep as written: every character but NUL and the surrogates (emoji, RTL
    marks, combining accents and the rest of Unicode included)."""
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                   min_size=min_size, max_size=max_size)


def unstorable_texts() -> st.SearchStrategy[str]:
    """Text with a NUL character or a lone surrogate somewhere in it."""
    bad = st.one_of(st.just("\x00"), st.characters(categories=["Cs"]))
    return st.tuples(storable_texts(max_size=10), bad, storable_texts(max_size=10)).map("".join)
