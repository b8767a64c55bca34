"""The engine against real targets on loopback: what each kind of failure becomes, and that one bad
target holds back no other. The engine runs in the test with its results collected (no database)."""

import asyncio
import time

import pytest

from signalpost.monitors.engine import Check, Engine, next_due, offset, status_expected
from tests.monitors.targets import HttpTarget, TcpListener, closed_port, self_signed_context

ALLOW = "127.0.0.1/32"


@pytest.fixture
def target():
    server = HttpTarget().start()
    yield server
    server.stop()


@pytest.fixture
def allow_loopback(settings):
    import ipaddress

    settings.OUTBOUND_ALLOW = [ipaddress.ip_network(ALLOW)]


def run_checks(*checks: Check, until=None) -> dict[int, list]:
    """Run the engine over `checks` until each has at least one result (or `until` says so)."""
    results: dict[int, list] = {c.id: [] for c in checks}

    def sink(batch):
        for outcome in batch:
            results[outcome.monitor_id].append(outcome)

    done = (lambda: until(results)) if until else (lambda: all(results[c.id] for c in checks))

    async def main():
        engine = Engine(lambda: list(checks), sink)
        deadline = time.monotonic() + 30
        await engine.run(lambda: done() or time.monotonic() > deadline)
        await engine.close(grace=0.1)

    # Settings overridden by the test are read on the engine's own thread too.
    asyncio.run(main())
    return results


def http(id_: int, url: str, **kw) -> Check:
    return Check(id=id_, public_id=f"mon{id_:09}", kind="http", target=url, interval=kw.pop("interval", 1.0),
                 timeout=kw.pop("timeout", 2.0), **kw)


def first(results, check_id):
    outcome = results[check_id][0]
    return outcome.verdict, outcome.status_code, outcome.reason


def test_an_answer_as_expected_is_up_and_a_503_is_down(target, allow_loopback):
    results = run_checks(http(1, target.url()))
    assert first(results, 1) == ("up", 200, "")
    target.status = 503
    results = run_checks(http(1, target.url()))
    assert first(results, 1) == ("down", 503, "HTTP 503 Service Unavailable")


def test_keywords_present_and_absent(target, allow_loopback):
    target.body = "status: degraded database"
    results = run_checks(http(1, target.url(), keyword="status: ok"), http(2, target.url(), keyword_absent="degraded"),
                         http(3, target.url(), keyword="database"))
    assert first(results, 1)[2] == "keyword 'status: ok' missing"
    assert first(results, 2)[2] == "keyword 'degraded' present"
    assert first(results, 3)[0] == "up"


def test_a_slow_answer_is_degraded_and_one_past_the_timeout_is_down(target, allow_loopback):
    target.delay = 0.3
    results = run_checks(http(1, target.url(), degraded_above_ms=100), http(2, target.url(), timeout=0.1))
    verdict, _, reason = first(results, 1)
    assert verdict == "degraded" and reason.startswith("slow: ") and reason.endswith("(above 100 ms)")
    assert first(results, 2) == ("down", None, "timed out after 0.1 s")


def test_a_slow_drip_times_out_and_a_huge_body_is_read_only_up_to_the_cap(target, allow_loopback):
    results = run_checks(http(1, target.url("/drip"), timeout=1.0), http(2, target.url("/huge"), keyword="needle"),
                         http(3, target.url("/huge")))
    assert first(results, 1) == ("down", None, "timed out after 1 s")
    assert first(results, 2) == ("down", 200, "keyword 'needle' missing")  # past the first 64 KiB
    assert first(results, 3)[0] == "up"


def test_refused_reset_and_dns_failures_have_their_reasons(target, allow_loopback):
    port = closed_port()
    results = run_checks(http(1, f"http://127.0.0.1:{port}/"), http(2, target.url("/reset")),
                         http(3, "http://no-such-host.invalid/"))
    assert first(results, 1) == ("down", None, f"connection refused by 127.0.0.1:{port}")
    assert first(results, 2)[2] == f"127.0.0.1:{target.port} closed the connection without answering"
    assert first(results, 3)[2] == "DNS failure: no-such-host.invalid does not resolve"


def test_redirects_are_followed_or_not_as_asked(target, allow_loopback):
    url = target.url(f"/redirect?to={target.url()}")
    results = run_checks(http(1, url), http(2, url, follow_redirects=False, expected=("200",)))
    assert first(results, 1) == ("up", 200, "")
    assert first(results, 2) == ("down", 302, "HTTP 302 Found")


def test_an_internal_address_is_refused_unless_the_setting_allows_it(target):
    results = run_checks(http(1, target.url()))
    verdict, _, reason = first(results, 1)
    assert verdict == "down"
    assert reason == "refused: 127.0.0.1 is a loopback address (allow it with SIGNALPOST_OUTBOUND_ALLOW)"
    assert target.hits == 0


def test_a_redirect_to_an_internal_address_is_refused(target, settings):
    import ipaddress

    # Allowed: the target's own address (given as ::ffff: mapped) but not the loopback it redirects to.
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("::ffff:127.0.0.1/128")]
    results = run_checks(http(1, f"http://[::ffff:127.0.0.1]:{target.port}/redirect?to=http://127.0.0.1:{target.port}/health"))
    assert first(results, 1)[2].startswith("refused: 127.0.0.1 is a loopback address")


def test_tcp_open_and_closed_ports(allow_loopback):
    listener = TcpListener()
    port = closed_port()
    try:
        results = run_checks(
            Check(id=1, public_id="tcp000000001", kind="tcp", target=f"127.0.0.1:{listener.port}", interval=1, timeout=2),
            Check(id=2, public_id="tcp000000002", kind="tcp", target=f"127.0.0.1:{port}", interval=1, timeout=2))
    finally:
        listener.close()
    assert first(results, 1)[0] == "up"
    assert first(results, 2) == ("down", None, f"connection refused by 127.0.0.1:{port}")


def test_one_hanging_target_holds_back_no_other(target, allow_loopback):
    hanging = http(1, target.url("/drip"), timeout=30.0, interval=60.0)
    healthy = http(2, target.url(), interval=1.0)
    results = run_checks(hanging, healthy, until=lambda found: len(found[2]) >= 3)
    assert [o.verdict for o in results[2][:3]] == ["up", "up", "up"]
    assert results[1] == [] or results[1][0].reason == "timed out after 30 s"


def test_checks_fall_on_the_monitor_s_own_slot_of_its_interval():
    slot = offset("kctbh9vrtdwd", 60)
    assert 0 <= slot < 60 and slot == offset("kctbh9vrtdwd", 60)
    due = next_due(1_000_000.0, 60, slot)
    assert 1_000_000.0 < due <= 1_000_060.0 and (due - slot) % 60 == 0
    slots = {offset(f"monitor{n:05}", 60) for n in range(1000)}
    assert len({int(s) for s in slots}) == 60  # spread over every second of the minute


def test_expected_statuses_take_codes_classes_and_ranges():
    assert status_expected(204, ["2xx"]) and not status_expected(301, ["2xx"])
    assert status_expected(418, [200, "400-499"]) and status_expected(200, [200])


def test_a_self_signed_certificate_is_refused_unless_verification_is_off(tmp_path, allow_loopback):
    server = HttpTarget(self_signed_context(tmp_path, days=200)).start()
    try:
        results = run_checks(http(1, server.url()), http(2, server.url(), verify_tls=False))
    finally:
        server.stop()
    verdict, _, reason = first(results, 1)
    assert verdict == "down" and reason.startswith(f"TLS certificate of 127.0.0.1:{server.port} not accepted: ")
    assert first(results, 2) == ("up", 200, "")


def test_a_certificate_expiring_within_the_warning_days_is_said_on_an_up_check(tmp_path, allow_loopback):
    server = HttpTarget(self_signed_context(tmp_path, days=3)).start()
    try:
        results = run_checks(http(1, server.url(), verify_tls=False),
                             http(2, server.url(), verify_tls=False, tls_expiry_days=2),
                             http(3, server.url(), verify_tls=False, tls_expiry_days=0))
    finally:
        server.stop()
    verdict, _, reason = first(results, 1)
    assert verdict == "up" and reason.startswith("TLS certificate expires in 3 days (on ")
    assert first(results, 2) == ("up", 200, "")
    assert first(results, 3) == ("up", 200, "")


def test_results_wait_in_memory_while_the_database_is_away(target, allow_loopback):
    written, failing = [], [3]

    def sink(batch):
        if failing[0]:
            failing[0] -= 1
            raise OSError("the database is away")
        written.extend(batch)

    async def main():
        engine = Engine(lambda: [http(1, target.url(), interval=0.2)], sink)
        deadline = time.monotonic() + 30
        await engine.run(lambda: len(written) >= 3 or time.monotonic() > deadline)
        await engine.close(grace=0.1)
        return engine

    engine = asyncio.run(main())
    assert len(written) >= 3 and failing == [0]
    assert engine.checked == len(written)  # nothing was lost while the writes failed
    ats = [o.at for o in written]
    assert ats == sorted(ats)
