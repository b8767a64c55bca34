"""The engine's other kinds against real targets on loopback: a JSON path into an HTTP answer, DNS
questions to a DNS server the test controls (answering, NXDOMAIN-ing, silent), and ICMP ping where this
machine allows unprivileged ping sockets."""

import ipaddress

import jsonpath
import pytest

from signalpost.monitors.engine import Check
from signalpost.monitors.kinds import PING_FORBIDDEN, ping_allowed
from tests.monitors.targets import DnsTarget, HttpTarget
from tests.monitors.test_engine_checks import first, run_checks

ALLOW = "127.0.0.1/32"


@pytest.fixture
def target():
    server = HttpTarget().start()
    yield server
    server.stop()


@pytest.fixture
def dns_server():
    server = DnsTarget().start()
    yield server
    server.stop()


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network(ALLOW)]


def json_check(id_: int, url: str, path: str, expected: str = "") -> Check:
    return Check(id=id_, public_id=f"mon{id_:09}", kind="http", target=url, interval=1.0, timeout=2.0,
                 json_path=jsonpath.compile(path), json_path_text=path, json_expected=expected)


def dns_check(id_: int, name: str, record_type: str = "A", expected=(), resolver: str = "", timeout=2.0) -> Check:
    return Check(id=id_, public_id=f"mon{id_:09}", kind="dns", target=name, interval=1.0, timeout=timeout,
                 record_type=record_type, dns_expected=tuple(expected), resolver=resolver)


# --- JSON path -----------------------------------------------------------------------------------


def test_a_json_path_finding_the_expected_value_is_up_and_another_value_is_down(target, allow_loopback):
    target.body = '{"status": "ok", "database": {"replicas": 3, "primary": true}, "queues": [{"ok": true}, {"ok": true}]}'
    results = run_checks(json_check(1, target.url(), "$.status", '"ok"'),
                         json_check(2, target.url(), "$.database.replicas", "3.0"),
                         json_check(3, target.url(), "$.queues[*].ok", "true"),
                         json_check(4, target.url(), "$.database.primary"))
    assert [first(results, n) for n in (1, 2, 3, 4)] == [("up", 200, "")] * 4

    target.body = '{"status": "degraded", "database": {"replicas": "3", "primary": 1}, "queues": [{"ok": true}, {"ok": false}]}'
    results = run_checks(json_check(1, target.url(), "$.status", '"ok"'),
                         json_check(2, target.url(), "$.database.replicas", "3"),
                         json_check(3, target.url(), "$.queues[*].ok", "true"),
                         json_check(4, target.url(), "$.database.primary", "true"))
    assert first(results, 1) == ("down", 200, 'JSON path $.status is "degraded", expected "ok"')
    assert first(results, 2)[2] == 'JSON path $.database.replicas is "3", expected 3'  # a string is not a number
    assert first(results, 3)[2] == "JSON path $.queues[*].ok is false, expected true"  # every value it finds
    assert first(results, 4)[2] == "JSON path $.database.primary is 1, expected true"  # 1 is not true


def test_a_body_that_is_not_json_or_a_path_that_finds_nothing_is_down(target, allow_loopback):
    target.body = "<html>maintenance</html>"
    results = run_checks(json_check(1, target.url(), "$.status", '"ok"'))
    assert first(results, 1) == ("down", 200, "body is not JSON, so JSON path $.status cannot be read")
    target.body = '{"state": "ok"}'
    results = run_checks(json_check(1, target.url(), "$.status", '"ok"'), json_check(2, target.url(), "$.status"))
    assert first(results, 1)[2] == first(results, 2)[2] == "JSON path $.status matches nothing"


def test_the_http_status_is_checked_before_the_json_path(target, allow_loopback):
    target.status, target.body = 503, '{"status": "ok"}'
    results = run_checks(json_check(1, target.url(), "$.status", '"ok"'))
    assert first(results, 1) == ("down", 503, "HTTP 503 Service Unavailable")


# --- DNS -------------------------------------------------------------------------------------------


def test_a_name_with_the_expected_answers_is_up_and_a_wrong_one_is_down(dns_server, allow_loopback):
    dns_server.records = {
        ("api.example.test", "A"): ["192.0.2.10", "192.0.2.11"],
        ("api.example.test", "AAAA"): ["2001:db8::10"],
        ("example.test", "MX"): ["10 mail.example.test."],
        ("example.test", "TXT"): ['"v=spf1 -all"'],
        ("www.example.test", "CNAME"): ["api.example.test."],
    }
    at = dns_server.address
    results = run_checks(
        dns_check(1, "api.example.test", "A", ["192.0.2.10"], at),  # among those given
        dns_check(2, "api.example.test", "AAAA", ["2001:db8:0::10"], at),  # any spelling of the address
        dns_check(3, "example.test", "MX", ["mail.example.test"], at),
        dns_check(4, "example.test", "TXT", ["v=spf1 -all"], at),
        dns_check(5, "www.example.test", "CNAME", ["API.example.test."], at),
        dns_check(6, "api.example.test", "A", [], at),  # any answer
        dns_check(7, "api.example.test", "A", ["192.0.2.10", "192.0.2.99"], at))
    assert [first(results, n)[0] for n in range(1, 7)] == ["up"] * 6
    assert first(results, 7) == ("down", None, "DNS A api.example.test is 192.0.2.10, 192.0.2.11, expected "
                                               f"192.0.2.10, 192.0.2.99 (asking {at})")


def test_nxdomain_no_record_and_no_answer_are_each_down_with_their_reason(dns_server, allow_loopback):
    dns_server.records = {("api.example.test", "A"): ["192.0.2.10"]}
    at = dns_server.address
    results = run_checks(dns_check(1, "gone.example.test", "A", resolver=at),
                         dns_check(2, "api.example.test", "MX", resolver=at))
    assert first(results, 1) == ("down", None, f"DNS: gone.example.test does not exist (NXDOMAIN) (asking {at})")
    assert first(results, 2) == ("down", None, f"DNS: api.example.test has no MX record (asking {at})")
    dns_server.silent = True
    results = run_checks(dns_check(1, "api.example.test", "A", resolver=at, timeout=1.0))
    assert first(results, 1) == ("down", None, f"DNS: no answer for api.example.test A within 1 s (asking {at})")
    assert dns_server.queries >= 3


def test_a_resolver_at_an_internal_address_must_be_allowed(dns_server):
    dns_server.records = {("api.example.test", "A"): ["192.0.2.10"]}
    results = run_checks(dns_check(1, "api.example.test", "A", resolver=dns_server.address))
    assert first(results, 1) == ("down", None, "resolver refused: 127.0.0.1 is a loopback address "
                                               "(allow it with SIGNALPOST_OUTBOUND_ALLOW)")
    assert dns_server.queries == 0


# --- ICMP ping -------------------------------------------------------------------------------------


def ping_check(id_: int, host: str) -> Check:
    return Check(id=id_, public_id=f"mon{id_:09}", kind="icmp", target=host, interval=1.0, timeout=1.0)


def test_a_ping_to_an_internal_address_must_be_allowed():
    results = run_checks(ping_check(1, "127.0.0.1"))
    assert first(results, 1) == ("down", None, "refused: 127.0.0.1 is a loopback address "
                                               "(allow it with SIGNALPOST_OUTBOUND_ALLOW)")


@pytest.mark.skipif(not ping_allowed(), reason="this machine does not allow unprivileged ping sockets "
                    "(net.ipv4.ping_group_range leaves out this process's group)")
def test_a_host_that_answers_ping_is_up(allow_loopback):
    results = run_checks(ping_check(1, "127.0.0.1"), ping_check(2, "localhost"))
    assert first(results, 1) == ("up", None, "")
    assert first(results, 2) == ("up", None, "")


@pytest.mark.skipif(ping_allowed(), reason="this machine allows unprivileged ping: the check pings for real")
def test_where_the_machine_does_not_allow_unprivileged_ping_the_reason_says_so(allow_loopback):
    results = run_checks(ping_check(1, "127.0.0.1"))
    assert first(results, 1) == ("down", None, PING_FORBIDDEN)


NAMESPACED_PING = """
import asyncio, json, django
django.setup()
from signalpost.monitors.engine import Check\nfrom signalpost.monitors.kinds import check_icmp, ping_allowed
check = Check(id=1, public_id="mon000000001", kind="icmp", target="127.0.0.1", interval=1.0, timeout=2.0)
print(json.dumps([ping_allowed(), list(asyncio.run(check_icmp(check)))]))
"""


def _can_make_a_network_namespace() -> bool:
    import os
    import shutil

    return os.geteuid() == 0 and shutil.which("unshare") is not None and shutil.which("ip") is not None


@pytest.mark.skipif(ping_allowed() or not _can_make_a_network_namespace(),
                    reason="unprivileged ping is allowed here (the test above pings), or this is not root with "
                           "unshare and ip to make a network namespace that allows it")
def test_a_host_that_answers_ping_is_up_where_unprivileged_ping_is_allowed(tmp_path):
    """ping_group_range belongs to the network namespace: a new one that allows it, with its own
    loopback, shows the real check working on a machine whose own setting forbids it."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "SIGNALPOST_OUTBOUND_ALLOW": ALLOW, "DJANGO_SETTINGS_MODULE": "signalpost.settings",
           "SIGNALPOST_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    script = (f'ip link set lo up && sysctl -qw net.ipv4.ping_group_range="0 2147483647" && '
              f'exec {sys.executable} -c "$0"')
    done = subprocess.run(["unshare", "--net", "sh", "-c", script, NAMESPACED_PING], env=env, capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"no network namespace could be made here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True, ["up", None, ""]]
