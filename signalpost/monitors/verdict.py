"""From checks to verdicts, without the database: each location's state from its runs of checks, and the
monitor's state from its locations'.

- A location goes **down** after F consecutive failed checks (`failures_to_down`, 3), **degraded** after
  F consecutive checks that were slow or failed, and back **up** (or from down to degraded) after S
  consecutive checks at least that good (`successes_to_up`, 2). A location not yet known goes up at its
  first good check: there is nothing to recover from.
- The monitor is down when at least K of the locations reporting say down (`locations_needed`; by
  default a majority of them; never more than those reporting), degraded when K say degraded or down,
  up otherwise, unknown while no location has a verdict.
- Flapping is damped: a monitor's state changes at most once per interval. A change due sooner is held
  and taken at the first result after the interval has passed (if it is still due then).
"""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

UNKNOWN, UP, DEGRADED, DOWN = "unknown", "up", "degraded", "down"
RANK = {UNKNOWN: -1, UP: 0, DEGRADED: 1, DOWN: 2}


@dataclass(frozen=True)
class Runs:
    """A location's state and the runs of checks at its tail."""

    state: str = UNKNOWN
    down_run: int = 0  # consecutive checks down
    bad_run: int = 0  # consecutive checks degraded or down
    up_run: int = 0  # consecutive checks up
    ok_run: int = 0  # consecutive checks up or degraded


def step(runs: Runs, verdict: str, failures_to_down: int = 3, successes_to_up: int = 2) -> Runs:
    """The location's runs and state after one more check."""
    if verdict not in (UP, DEGRADED, DOWN):
        raise ValueError(f"not a verdict: {verdict!r}")
    down = verdict == DOWN
    bad = verdict != UP
    runs = replace(
        runs,
        down_run=runs.down_run + 1 if down else 0,
        bad_run=runs.bad_run + 1 if bad else 0,
        up_run=runs.up_run + 1 if not bad else 0,
        ok_run=runs.ok_run + 1 if not down else 0,
    )
    f, s = max(1, failures_to_down), max(1, successes_to_up)
    state = runs.state
    # Worse: the worst level the last F checks all reached.
    if runs.down_run >= f:
        worse = DOWN
    elif runs.bad_run >= f:
        worse = DEGRADED
    else:
        worse = None
    if worse is not None and RANK[worse] > RANK[state]:
        return replace(runs, state=worse)
    if state == UNKNOWN:
        return replace(runs, state=UP) if verdict == UP else runs
    # Better: the best level the last S checks were all at least as good as.
    if runs.up_run >= s:
        better = UP
    elif runs.ok_run >= s:
        better = DEGRADED
    else:
        better = None
    if better is not None and RANK[better] < RANK[state]:
        return replace(runs, state=better)
    return runs


@dataclass(frozen=True)
class LocationView:
    """What one location says now, for combining."""

    location: str
    state: str
    reason: str = ""  # its last check's reason (for a failure: what went wrong)


@dataclass(frozen=True)
class Combined:
    state: str
    agreeing: int  # locations saying that state (or worse, for degraded)
    reporting: int  # locations with a verdict
    reason: str  # the most common reason among those agreeing


def needed(reporting: int, locations_needed: int | None) -> int:
    """K: the locations that must agree, never more than those reporting."""
    majority = reporting // 2 + 1
    return max(1, min(reporting, locations_needed or majority))


def combine(views: list[LocationView], locations_needed: int | None = None) -> Combined:
    """The monitor's state from its locations' states."""
    known = [v for v in views if v.state != UNKNOWN]
    if not known:
        return Combined(UNKNOWN, 0, 0, "")
    k = needed(len(known), locations_needed)
    for level in (DOWN, DEGRADED):
        agreeing = [v for v in known if RANK[v.state] >= RANK[level]]
        if len(agreeing) >= k:
            reasons = Counter(v.reason for v in agreeing if v.reason)
            return Combined(level, len(agreeing), len(known), reasons.most_common(1)[0][0] if reasons else "")
    return Combined(UP, sum(v.state == UP for v in known), len(known), "")


def damped(previous: str, changed_at: datetime | None, new: str, now: datetime, interval_seconds: float) -> bool:
    """Whether a change from `previous` to `new` must wait: the last change was less than an interval ago.
    Learning the first verdict (from unknown) never waits."""
    if new == previous or previous == UNKNOWN or changed_at is None:
        return False
    return now - changed_at < timedelta(seconds=interval_seconds)


def describe(name: str, combined: Combined) -> str:
    """The reason shown beside a component's status: "monitor 'API health' down: HTTP 503 from 2 of 2
    locations"."""
    if combined.state in (UP, UNKNOWN):
        return f"monitor '{name}' {combined.state}"
    where = f"from {combined.agreeing} of {combined.reporting} location{'s' if combined.reporting != 1 else ''}"
    what = f"{combined.reason} " if combined.reason else ""
    return f"monitor '{name}' {combined.state}: {what}{where}"
