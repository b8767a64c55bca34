"""The verdict rules alone: a location's state from its runs of checks, the monitor's from its locations'."""

from datetime import datetime, timedelta, timezone

import pytest

from signalpost.monitors.verdict import (
    DEGRADED, DOWN, UNKNOWN, UP, Combined, LocationView, Runs, combine, damped, describe, needed, step,
)


def run(verdicts: str, runs: Runs = Runs(), f: int = 3, s: int = 2) -> list[str]:
    """The location's state after each check of `verdicts` (u: up, d: degraded, x: down)."""
    states = []
    for letter in verdicts:
        runs = step(runs, {"u": UP, "d": DEGRADED, "x": DOWN}[letter], f, s)
        states.append(runs.state)
    return states


def test_a_new_location_is_up_at_its_first_good_check():
    assert run("u") == [UP]


def test_it_goes_down_only_after_f_consecutive_failures():
    assert run("uxx") == [UP, UP, UP]
    assert run("uxxx") == [UP, UP, UP, DOWN]
    assert run("uxxuxxx")[-1] == DOWN
    assert run("uxxuxx")[-1] == UP  # a good check in between starts the count again


def test_a_new_location_failing_from_the_start_is_unknown_until_f_failures():
    assert run("xxx") == [UNKNOWN, UNKNOWN, DOWN]


def test_it_recovers_after_s_consecutive_successes():
    assert run("uxxxu")[-1] == DOWN
    assert run("uxxxuu")[-1] == UP
    assert run("uxxxuxuu")[-3:] == [DOWN, DOWN, UP]


def test_slow_checks_make_it_degraded_and_a_mix_of_slow_and_failed_too():
    assert run("uddd")[-1] == DEGRADED
    assert run("udxd")[-1] == DEGRADED  # three bad checks, not three failures
    assert run("udddxxx")[-1] == DOWN


def test_from_down_slow_answers_lift_it_to_degraded_then_up():
    states = run("uxxxdduu")
    assert states[-4:] == [DOWN, DEGRADED, DEGRADED, UP]


def test_thresholds_of_one_follow_every_check():
    assert run("uxux", f=1, s=1) == [UP, DOWN, UP, DOWN]


def test_an_unknown_verdict_is_refused():
    with pytest.raises(ValueError):
        step(Runs(), "sideways")


def views(*states: str) -> list[LocationView]:
    return [LocationView(f"loc{i}", state, "HTTP 503" if state == DOWN else "") for i, state in enumerate(states)]


def test_one_location_of_two_failing_alone_does_not_make_it_down():
    assert combine(views(DOWN, UP)).state == UP
    assert combine(views(DOWN, DOWN)) == Combined(DOWN, 2, 2, "HTTP 503")


def test_a_majority_of_three_is_two():
    assert combine(views(DOWN, DOWN, UP)).state == DOWN
    assert combine(views(DOWN, UP, UP)).state == UP
    assert combine(views(DOWN, DEGRADED, UP)).state == DEGRADED  # two of three at least degraded


def test_k_may_be_set_but_never_above_those_reporting():
    assert combine(views(DOWN, UP, UP), locations_needed=1).state == DOWN
    assert combine(views(DOWN), locations_needed=3).state == DOWN  # one location only: it decides
    assert needed(5, None) == 3 and needed(4, None) == 3 and needed(1, None) == 1 and needed(2, 9) == 2


def test_locations_without_a_verdict_do_not_count():
    assert combine(views(DOWN, UNKNOWN)).state == DOWN
    assert combine(views(UNKNOWN, UNKNOWN)).state == UNKNOWN


def test_a_change_within_one_interval_of_the_last_waits():
    at = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    assert damped(DOWN, at, UP, at + timedelta(seconds=30), 60)
    assert not damped(DOWN, at, UP, at + timedelta(seconds=60), 60)
    assert not damped(UNKNOWN, at, DOWN, at + timedelta(seconds=1), 60)  # the first verdict never waits


def test_the_reason_names_the_monitor_what_failed_and_where():
    assert describe("API health", Combined(DOWN, 2, 2, "HTTP 503")) == \
        "monitor 'API health' down: HTTP 503 from 2 of 2 locations"
    assert describe("API", Combined(DEGRADED, 1, 1, "slow: 2300 ms")) == \
        "monitor 'API' degraded: slow: 2300 ms from 1 of 1 location"
