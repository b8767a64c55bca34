"""Consumers work through events at least once, in order for each subject, idempotently: a failing event
is retried with back-off without holding back other subjects, set aside when its attempts run out
(and retried by hand), and a claim left by a worker that died is taken again once it expires."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from signalpost.events import consumers, health
from signalpost.events.models import Handling
from signalpost.events.record import OutsideTransaction, record
from signalpost.events.work import Failed, claim, drain, retry, work_once

handled: list[tuple[int, str]] = []  # (event id, worker), what the test consumer did
failures: dict[str, int] = {}  # subject -> how many more attempts fail


def tally(work) -> Failed | None:
    subject = work.event.subject
    if failures.get(subject, 0) > 0:
        failures[subject] -= 1
        return Failed(f"{subject} is not ready")
    handled.append((work.event.pk, work.event.data.get("n")))
    return None


@pytest.fixture
def consumer(db, monkeypatch, settings):
    settings.EVENTS_BACKOFF_SECONDS = 60  # back-off is moved by hand in these tests
    handled.clear()
    failures.clear()
    tallying = consumers.Consumer(name="tally", handler="tests.events.test_work.tally", kinds=("test.",),
                                  max_attempts=3, batch_size=10, lease_seconds=30)
    monkeypatch.setitem(consumers._registry, "tally", tallying)
    return tallying


def emit(subject: str, n: int, key: str | None = None):
    with transaction.atomic():
        return record("test.thing", subject, data={"n": n}, key=key)


def due_now() -> None:
    """The back-off has passed."""
    Handling.objects.filter(consumer="tally").update(due_at=timezone.now())


def test_it_records_only_inside_a_transaction(consumer, transactional_db):
    with pytest.raises(OutsideTransaction):
        record("test.thing", "a")


def test_a_key_records_an_event_once(consumer):
    assert emit("clock", 1, key="clock.day:2026-12-03") is not None
    assert emit("clock", 2, key="clock.day:2026-12-03") is None
    drain(consumer)
    assert [n for _, n in handled] == [1]


def test_only_the_consumers_that_take_a_kind_get_it(consumer):
    with transaction.atomic():
        record("other.thing", "a")
    assert not Handling.objects.filter(consumer="tally").exists()


def test_a_failing_event_holds_back_its_own_subject_only(consumer):
    emit("incident:a", 1)
    emit("incident:b", 2)
    emit("incident:a", 3)
    failures["incident:a"] = 1
    drain(consumer)
    assert [n for _, n in handled] == [2]  # a's second event waits for its first
    first = Handling.objects.get(consumer="tally", event__data__n=1)
    assert (first.state, first.attempts, first.last_error) == ("pending", 1, "incident:a is not ready")
    assert first.due_at > timezone.now() + timedelta(seconds=50)  # backing off

    due_now()
    drain(consumer)
    assert [n for _, n in handled] == [2, 1, 3]  # then in order
    assert set(Handling.objects.filter(consumer="tally").values_list("state", flat=True)) == {"done"}


def test_an_event_whose_attempts_run_out_is_set_aside_and_the_subject_moves_on(consumer):
    emit("incident:a", 1)
    emit("incident:a", 2)
    failures["incident:a"] = 99
    for _ in range(3):
        drain(consumer)
        due_now()
    poison = Handling.objects.get(consumer="tally", event__data__n=1)
    assert (poison.state, poison.attempts) == ("set_aside", 3)
    failures["incident:a"] = 0
    drain(consumer)
    assert [n for _, n in handled] == [2]  # no longer holding its subject back
    backlog = health.backlog("tally")
    assert backlog.pending == 0 and [f.set_aside for f in backlog.failing] == [True]
    assert backlog.failing[0].error == "incident:a is not ready"

    with transaction.atomic():
        assert [h.pk for h in retry([poison.pk])] == [poison.pk]  # the console's Retry
    drain(consumer)
    assert [n for _, n in handled] == [2, 1]
    assert Handling.objects.get(pk=poison.pk).state == "done"


def test_a_claim_is_marked_in_the_update_that_takes_it_and_another_worker_sees_it(consumer):
    for n in range(3):
        emit(f"incident:{n}", n)
    taken = claim(consumer, "worker-a")
    assert [h.claimed_by for h in taken] == ["worker-a"] * 3
    assert claim(consumer, "worker-b") == []  # already claimed


def test_a_claim_left_by_a_dead_worker_is_taken_again_when_it_expires(consumer):
    emit("incident:a", 1)
    [taken] = claim(consumer, "worker-that-died")
    assert claim(consumer, "worker-b") == []
    later = timezone.now() + timedelta(seconds=31)
    [again] = claim(consumer, "worker-b", now=later)
    assert (again.pk, again.claimed_by, again.attempts) == (taken.pk, "worker-b", 2)


def test_a_stopping_worker_gives_back_what_it_has_not_started(consumer):
    import threading

    for n in range(5):
        emit(f"incident:{n}", n)
    stopping = threading.Event()

    def stop_after_two(work):
        tally(work)
        if len(handled) == 2:
            stopping.set()

    assert work_once(consumer, "worker-a", stopping, handler=stop_after_two) == 5
    assert len(handled) == 2
    left = Handling.objects.filter(consumer="tally", state="pending")
    assert left.count() == 3 and not left.exclude(claimed_by="").exists()
    assert set(left.values_list("attempts", flat=True)) == {0}  # no attempt spent
    drain(consumer)
    assert len(handled) == 5
