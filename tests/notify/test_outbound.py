"""Outbound requests to addresses users give: the address rules (after DNS, on the address connected
to), SIGNALPOST_OUTBOUND_ALLOW, and what each kind of receiver gives as a Result. Real receivers on
loopback; no other network."""

import ipaddress
import os
import ssl
import subprocess
import sys

import pytest

from signalpost.notify.outbound import CHAT_HOSTS, Refused, Request, check_url, parse_url, post_all_sync
from tests.notify.receivers import Receiver
from tests.servers import free_port

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOW = LOOPBACK


def _post(*urls: str, **kw):
    return post_all_sync([Request(f"r{i}", url, b'{"hello": 1}', {}) for i, url in enumerate(urls)], **kw)


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/hook", "refused: 127.0.0.1 is a loopback address"),
    ("http://[::1]:8080/hook", "refused: ::1 is a loopback address"),
    ("https://10.1.2.3/hook", "refused: 10.1.2.3 is a private address"),
    ("https://192.168.0.10/hook", "refused: 192.168.0.10 is a private address"),
    ("https://[fd12::1]/hook", "refused: fd12::1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a cloud metadata address"),
    ("http://[fd00:ec2::254]/", "refused: fd00:ec2::254 is a cloud metadata address"),
    ("http://100.100.100.200/", "refused: 100.100.100.200 is a cloud metadata address"),
    ("http://169.254.1.1/", "refused: 169.254.1.1 is a link-local address"),
    ("http://[fe80::1]/", "refused: fe80::1 is a link-local address"),
    ("http://100.64.0.7/", "refused: 100.64.0.7 is a shared (CGNAT) address"),
    ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
    ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
    ("http://255.255.255.255/", "refused: 255.255.255.255 is a broadcast address"),
    ("http://240.0.0.1/", "refused: 240.0.0.1 is a reserved address"),
    ("http://192.0.2.10/", "refused: 192.0.2.10 is a reserved address"),
    ("http://[2001:db8::1]/", "refused: 2001:db8::1 is a reserved address"),
    ("http://[::ffff:127.0.0.1]/", "(that is 127.0.0.1) is a loopback address"),
    ("http://[2002:a00:1::]/", "(that is 10.0.0.1) is a private address"),
    ("http://[64:ff9b::a9fe:a9fe]/", "(that is 169.254.169.254) is a cloud metadata address"),
    ("http://localhost:8000/hook", "refused: localhost resolves to "),
])
def test_check_url_refuses_addresses_only_this_server_reaches_and_says_why(url, reason):
    with pytest.raises(Refused) as refused:
        check_url(url)
    assert reason in str(refused.value)
    assert str(refused.value).endswith("(allow it with SIGNALPOST_OUTBOUND_ALLOW)")


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/x", "must start with https://"),
    ("file:///etc/passwd", "must start with https://"),
    ("https:///hook", "has no host"),
    ("https://user:secret@example.com/hook", "must not carry a user name or password"),
    ("https://example.com:99999/hook", "not a valid URL"),
    ("http://2130706433/", "2130706433 is an address written in an unusual form; write it as 127.0.0.1"),
    ("http://0x7f.1/", "0x7f.1 is an address written in an unusual form; write it as 127.0.0.1"),
    ("http://8.8.2056/", "8.8.2056 is an address written in an unusual form; write it as 8.8.8.8"),
])
def test_check_url_refuses_what_is_not_a_web_address(url, reason):
    with pytest.raises(Refused, match=reason):
        check_url(url)


@pytest.mark.parametrize("tool, url", [
    ("slack", "https://hooks.slack.com.attacker.example/services/T0/B0/x"),
    ("slack", "https://attacker.example/services/T0/B0/x"),
    ("slack", "http://hooks.slack.com/services/T0/B0/x"),
    ("discord", "https://discord.com.attacker.example/api/webhooks/1/x"),
    ("discord", "https://hooks.slack.com/services/T0/B0/x"),
    ("teams", "https://webhook.office.com.attacker.example/webhookb2/x"),
    ("teams", "https://logic.azure.com/workflows/x"),
    ("teams", "https://127.0.0.1/workflows/x"),
])
def test_chat_tools_accept_only_their_own_hosts(tool, url):
    with pytest.raises(Refused) as refused:
        check_url(url, hosts=CHAT_HOSTS[tool])
    assert "refused: " in str(refused.value)


@pytest.mark.parametrize("tool, url", [
    ("slack", "https://hooks.slack.com/services/T000/B000/XXXX"),
    ("discord", "https://discord.com/api/webhooks/1234/abcd"),
    ("discord", "https://discordapp.com/api/webhooks/1234/abcd"),
    ("teams", "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi"),
    ("teams", "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"),
    ("teams", "https://default1234.56.environment.api.powerplatform.com:443/powerautomate/automations/direct/x"),
])
def test_chat_tools_own_hosts_pass_the_host_rule(tool, url):
    # The host rule alone (no DNS: the test reaches no network but loopback).
    assert parse_url(url, hosts=CHAT_HOSTS[tool]).scheme == "https"


def test_a_loopback_receiver_is_refused_without_the_allow_setting(receiver):
    results = _post(receiver.url("/ok"), receiver.url("/ok", host="localhost"))
    assert [r.ok for r in results] == [False, False]
    assert results[0].error.startswith("refused: 127.0.0.1 is a loopback address")
    assert results[1].error.startswith("refused: localhost resolves to ")
    assert "a loopback address (allow it with SIGNALPOST_OUTBOUND_ALLOW)" in results[1].error
    assert receiver.received == []


def test_the_allow_setting_lets_a_receiver_on_the_same_machine_be_reached(receiver, allow_loopback):
    check_url(receiver.url("/ok"))
    results = _post(receiver.url("/ok"), receiver.url("/ok", host="localhost"))
    assert [(r.ok, r.status, r.error) for r in results] == [(True, 200, ""), (True, 200, "")]
    assert [r.body for r in receiver.received] == [b'{"hello": 1}'] * 2
    # The name is kept for the Host header (and TLS SNI) although the address was resolved beforehand.
    # (The two requests are sent at once: they may arrive in either order.)
    hosts = sorted(r.headers["Host"] for r in receiver.received)
    assert hosts == sorted([f"127.0.0.1:{receiver.port}", f"localhost:{receiver.port}"])
    assert all(r.headers["Content-Type"] == "application/json" for r in receiver.received)


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "https://[2606:4700:4700::1111]/hook",
                                 "https://[::ffff:8.8.8.8]/hook", "https://172.32.0.1/hook"])
def test_public_addresses_pass(url):
    check_url(url)


def test_an_allowed_range_allows_only_itself(receiver, settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]
    with pytest.raises(Refused, match="127.0.0.1 is a loopback address"):
        check_url(receiver.url("/ok"))
    check_url("http://10.9.8.7/hook")


def test_a_redirect_is_a_failure_that_names_where_it_pointed_and_is_not_followed(allow_loopback):
    with Receiver() as public, Receiver() as elsewhere:
        results = _post(public.url("/redirect?to=http://10.0.0.1/"),
                        public.url(f"/redirect?to={elsewhere.url('/ok')}"), public.url("/redirect?to=/moved"))
    assert [(r.ok, r.status) for r in results] == [(False, 302)] * 3
    assert results[0].error == "redirected (302) to http://10.0.0.1/"
    assert results[1].error == f"redirected (302) to {elsewhere.url('/ok')}"
    assert results[2].error == f"redirected (302) to {public.url('/moved')}"
    assert len(public.received) == 3 and elsewhere.received == []


def test_each_kind_of_failure_is_its_own_result_and_says_what_happened(receiver, allow_loopback):
    closed = f"http://127.0.0.1:{free_port()}/hook"
    results = _post(receiver.url("/ok"), receiver.url("/fail"), closed, "http://10.0.0.1/hook", "not a url")
    ok, failing, refused_port, private, bad = results
    assert (ok.ok, ok.status, ok.error) == (True, 200, "")
    assert (failing.ok, failing.status, failing.error) == (False, 500, "HTTP 500 Internal Server Error")
    assert (refused_port.ok, refused_port.status) == (False, None)
    assert refused_port.error == f"connection refused by 127.0.0.1:{refused_port_port(closed)}"
    assert private.error.startswith("refused: 10.0.0.1 is a private address")
    assert bad.error.startswith("refused: ")
    assert [r.key for r in results] == [f"r{i}" for i in range(5)]


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(receiver, allow_loopback):
    [hanging] = _post(receiver.url("/hang"), timeout=0.5)
    assert (hanging.ok, hanging.status, hanging.error) == (False, None, "timed out after 0.5 s")


def refused_port_port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_two_thousand_requests_to_one_receiver_are_all_sent_and_reported(receiver, allow_loopback):
    requests = [Request(f"d{i}", receiver.url(f"/ok?n={i}"), b"{}", {}) for i in range(2000)]
    results = post_all_sync(requests, concurrency=64, per_host=8)
    assert len(results) == 2000 and all(r.ok for r in results)
    assert [r.key for r in results] == [r.key for r in requests]
    assert sorted(int(r.path.split("=")[1]) for r in receiver.received) == list(range(2000))
    assert receiver.most_in_flight <= 8  # per_host bounds what one receiver gets at once


def test_a_bad_allow_setting_stops_the_start_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "signalpost", "migrate"], capture_output=True, text=True,
                            env={**os.environ, "SIGNALPOST_DATA_DIR": str(tmp_path),
                                 "SIGNALPOST_OUTBOUND_ALLOW": "127.0.0.1/32, localhost"}, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "signalpost: SIGNALPOST_OUTBOUND_ALLOW: 'localhost' is not a CIDR range (e.g. 127.0.0.1/32)"]


def test_other_spellings_of_loopback_are_refused_too(receiver):
    port = receiver.port
    results = _post(f"http://2130706433:{port}/ok", f"http://127.1:{port}/ok", f"http://0x7f.0.0.1:{port}/ok",
                    f"http://[::ffff:127.0.0.1]:{port}/ok", f"http://LOCALHOST.:{port}/ok")
    assert all(not r.ok for r in results)
    assert [r.error.split(" ", 2)[:2] for r in results[:4]] == [["refused:", host] for host in (
        "2130706433", "127.1", "0x7f.0.0.1", "::ffff:7f00:1")]
    assert receiver.received == []


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for the name localhost (not for 127.0.0.1)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_tls_is_spoken_to_the_name_although_the_address_was_resolved_first(certificate, allow_loopback):
    trusted = ssl.create_default_context(cafile=certificate[0])
    with Receiver(tls=certificate) as receiver:
        by_name, by_address = post_all_sync([
            Request("name", receiver.url("/ok", host="localhost"), b"{}", {}),
            Request("address", receiver.url("/ok"), b"{}", {}),
        ], tls=trusted)
    assert (by_name.ok, by_name.status) == (True, 200)
    # SNI and Host name localhost (no SNI is sent for an address).
    assert sorted(receiver.server_names, key=str) == [None, "localhost"]
    assert receiver.received[0].headers["Host"] == f"localhost:{receiver.port}"
    # The certificate names localhost, not 127.0.0.1: it is checked against what the URL says.
    assert not by_address.ok and by_address.error.startswith(f"TLS certificate of 127.0.0.1:{receiver.port} not accepted")
    assert len(receiver.received) == 1
