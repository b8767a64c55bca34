"""The other kinds in the monitors file: DNS, ICMP ping, heartbeats and an HTTP monitor's JSON path are
applied, exported and applied again without a change; their mistakes get one line each, naming the
monitor and the field; `monitors list` shows them."""

import ipaddress
import uuid

import jsonpath
import pytest

from signalpost.cli import main
from signalpost.monitors.kinds import ping_allowed
from signalpost.monitors.models import Monitor
from signalpost.monitors.probe import load_checks

FILE = """\
monitors:
  - name: API status
    target: https://api.example.com/status
    json_path: $.status
    json_expected: ok
  - name: API replicas
    target: https://api.example.com/status
    json_path: $.database.replicas
    json_expected: 3
  - name: API DNS
    kind: dns
    target: api.example.com
    record_type: AAAA
    expected: ["2001:db8::10"]
    resolver: 9.9.9.9:5353
    components: [zh1.single]
  - name: Mail exchanger
    kind: dns
    target: example.com
    record_type: MX
  - name: Router
    kind: icmp
    target: 9.9.9.9
    paused: true
  - name: Nightly backup
    kind: heartbeat
    cron: "30 2 * * *"
    tz: Europe/Zurich
    grace: 1800
    components: [Mail delivery]
  - name: Queue worker
    kind: heartbeat
    every: 300
"""


@pytest.fixture
def signalpost(capsys, tmp_path):
    def run(*argv: str, text: str | None = None) -> tuple[int, str, str]:
        if text is not None:
            path = tmp_path / "monitors.yaml"
            path.write_text(text)
            argv = (*argv, str(path))
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_every_kind_is_applied_and_exported_and_applied_again_without_a_change(signalpost, components):
    code, out, err = signalpost("monitors", "apply", text=FILE)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "7 created"
    dns = Monitor.objects.get(name="API DNS")
    assert (dns.kind, dns.record_type, dns.dns_expected, dns.resolver) == ("dns", "AAAA", ["2001:db8::10"],
                                                                          "9.9.9.9:5353")
    status = Monitor.objects.get(name="API status")
    assert (status.json_path, status.json_expected) == ("$.status", '"ok"')
    backup, worker = Monitor.objects.get(name="Nightly backup"), Monitor.objects.get(name="Queue worker")
    assert (backup.cron, backup.cron_zone, backup.grace_seconds, backup.interval_seconds) == (
        "30 2 * * *", "Europe/Zurich", 1800, 86400)
    assert (worker.interval_seconds, worker.grace_seconds, worker.failures_to_down, worker.successes_to_up) == (
        300, 300, 1, 1)  # one missed ping is down, one ping is up again
    assert backup.heartbeat_key != worker.heartbeat_key and backup.ping_due_at is not None

    assert signalpost("monitors", "apply", text=FILE)[1] == "no change: the monitors match the file\n"
    keys = {backup.heartbeat_key, worker.heartbeat_key}
    assert set(Monitor.objects.exclude(heartbeat_key=None).values_list("heartbeat_key", flat=True)) == keys

    code, exported, _ = signalpost("monitors", "export")
    assert f"uuid: {backup.heartbeat_key}" in exported  # so that the file applied elsewhere keeps the job's URL
    assert "json_expected: ok" in exported and "json_expected: 3" in exported
    assert "target" not in exported.split("name: Nightly backup")[1].split("name:")[0]
    assert signalpost("monitors", "apply", text=exported)[1] == "no change: the monitors match the file\n"

    # On a server without them, the exported file makes the same heartbeats, with the same URLs.
    Monitor.objects.all().delete()
    assert signalpost("monitors", "apply", text=exported)[0] == 0
    assert set(Monitor.objects.exclude(heartbeat_key=None).values_list("heartbeat_key", flat=True)) == keys

    # A new uuid in the file is a change: the old URL stops working.
    fresh = str(uuid.uuid4())
    changed = exported.replace(str(worker.heartbeat_key), fresh)
    out = signalpost("monitors", "apply", text=changed)[1]
    assert f"~ change monitor 'Queue worker': uuid: '{worker.heartbeat_key}' → '{fresh}'" in out


def test_the_probe_compiles_a_json_path_once_and_leaves_heartbeats_to_their_jobs(signalpost, components):
    signalpost("monitors", "apply", text=FILE)
    checks = {c.public_id: c for c in load_checks()}
    names = dict(Monitor.objects.values_list("public_id", "name"))
    assert sorted(names[pid] for pid in checks) == ["API DNS", "API replicas", "API status", "Mail exchanger"]
    status = next(c for pid, c in checks.items() if names[pid] == "API status")
    assert isinstance(status.json_path, jsonpath.JSONPath) and status.json_expected == '"ok"'


BAD = """\
monitors:
  - name: API status
    target: https://api.example.com/status
    json_path: $.[
    record_type: A
  - name: Stray value
    target: https://api.example.com/status
    json_expected: ok
  - name: API DNS
    kind: dns
    target: https://api.example.com/
    record_type: QQ
    keyword: ok
  - name: Wrong answer
    kind: dns
    target: api.example.com
    expected: [not-an-address]
    resolver: 10.0.0.53
  - name: Router
    kind: icmp
    target: 9.9.9.9:22
  - name: Backup
    kind: heartbeat
    target: https://example.com/
    interval: 60
  - name: Cron backup
    kind: heartbeat
    cron: "every night"
  - name: Zone backup
    kind: heartbeat
    cron: "0 3 * * *"
    tz: Mars/Olympus
    uuid: nope
  - name: Both
    kind: heartbeat
    every: 300
    cron: "0 3 * * *"
"""


def test_mistakes_in_the_new_fields_get_one_line_each(signalpost, components):
    code, out, err = signalpost("monitors", "apply", text=BAD)
    assert code == 1 and out == ""
    lines = [line.split(": ", 2)[2] for line in err.splitlines()]
    assert lines == [
        "monitor 'API status': json_path: '$.[' is not a JSONPath: expected a shorthand selector",
        "monitor 'API status': record_type: is for dns monitors only (this one is http)",
        "monitor 'Stray value': json_expected: needs a json_path to compare with",
        "monitor 'API DNS': keyword: is for http monitors only (this one is dns)",
        "monitor 'API DNS': record_type: must be one of A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA",
        "monitor 'API DNS': target: must be a DNS name (www.example.com), without a scheme or a port",
        "monitor 'Wrong answer': expected: 'not-an-address' is not an IPv4 address",
        "monitor 'Wrong answer': resolver: a resolver at an internal address must be allowed by "
        "SIGNALPOST_OUTBOUND_ALLOW: refused: 10.0.0.53 is a private address (allow it with SIGNALPOST_OUTBOUND_ALLOW)",
        "monitor 'Router': target: must be a host name or an IP address (no port, no URL)",
        "monitor 'Backup': interval: is for monitors that are checked (not heartbeats) (this one is heartbeat)",
        "monitor 'Backup': target: a heartbeat has none: its job calls /ping/<uuid>",
        "monitor 'Backup': every: a heartbeat needs a schedule: every (seconds) or cron (with tz)",
        "monitor 'Cron backup': cron: 'every night' is not a cron expression: Wrong number of fields",
        "monitor 'Zone backup': uuid: must be a UUID (leave it out to have one made)",
        "monitor 'Zone backup': tz: 'Mars/Olympus' is not a time zone (e.g. UTC, Europe/Zurich)",
        "monitor 'Both': cron: give every or cron, not both",
    ]
    assert not Monitor.objects.exists()


def test_a_uuid_is_one_heartbeat_s_own(signalpost, components):
    key = str(uuid.uuid4())
    signalpost("monitors", "apply", text=f"monitors:\n  - {{name: A, kind: heartbeat, every: 60, uuid: {key}}}\n")
    code, _, err = signalpost("monitors", "apply",
                              text=f"monitors:\n  - {{name: B, kind: heartbeat, every: 60, uuid: {key}}}\n")
    assert code == 1 and err.splitlines()[0].endswith("monitor 'B': uuid: is the uuid of another monitor, 'A'")


def test_a_resolver_and_a_ping_target_on_an_allowed_internal_address_are_accepted(signalpost, components, settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]
    code, _, err = signalpost("monitors", "apply", text="""\
monitors:
  - {name: Inside, kind: dns, target: db.internal.example, resolver: "10.0.0.53"}
  - {name: Gateway, kind: icmp, target: 10.0.0.1}
""")
    assert code == 0
    assert err == "" if ping_allowed() else err.count("does not allow unprivileged ping") == 1


@pytest.mark.skipif(ping_allowed(), reason="this machine allows unprivileged ping: nothing to warn about")
def test_applying_a_ping_monitor_where_this_machine_cannot_ping_warns_and_applies(signalpost, components):
    code, out, err = signalpost("monitors", "apply", text="monitors:\n  - {name: Edge, kind: icmp, target: 9.9.9.9}\n")
    assert code == 0 and out.splitlines()[-1] == "1 created"
    [line] = err.splitlines()
    assert line.endswith(": warning: monitor 'Edge': this machine does not allow unprivileged ping (its "
                         "net.ipv4.ping_group_range leaves out this process's group): its checks from this machine "
                         "fail until it does (sysctl net.ipv4.ping_group_range)")


def test_the_list_shows_each_kind_with_what_it_watches(signalpost, components):
    signalpost("monitors", "apply", text=FILE)
    code, out, _ = signalpost("monitors", "list")
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    worker = Monitor.objects.get(name="Queue worker")
    assert f"/ping/{worker.heartbeat_key}" in rows["Queue worker"] and "300s +300s" in rows["Queue worker"]
    assert "cron '30 2 * * *' Europe/Zurich +1800s" in rows["Nightly backup"]
    assert "AAAA api.example.com @9.9.9.9:5353" in rows["API DNS"]
    assert "paused" in rows["Router"]


def test_a_remote_probe_is_given_the_new_kinds_settings_and_no_heartbeat(signalpost, components, client, make_token):
    signalpost("monitors", "apply", text=FILE.replace("    paused: true\n", ""))
    response = client.get("/api/v1/probe/monitors", headers={"Authorization": f"Bearer {make_token('probe')}"})
    assert response.status_code == 200
    names = dict(Monitor.objects.values_list("public_id", "name"))
    listed = {names[m["id"]]: m for m in response.json()["monitors"]}
    assert sorted(listed) == ["API DNS", "API replicas", "API status", "Mail exchanger", "Router"]
    assert (listed["API DNS"]["record_type"], listed["API DNS"]["expected"], listed["API DNS"]["resolver"]) == (
        "AAAA", ["2001:db8::10"], "9.9.9.9:5353")
    assert (listed["API status"]["json_path"], listed["API status"]["json_expected"]) == ("$.status", '"ok"')
    assert listed["Router"]["kind"] == "icmp"
