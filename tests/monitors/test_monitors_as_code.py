"""`signalpost monitors export | apply FILE | list`: monitors created, changed, paused and pruned to
match a file; applying the same file twice changes nothing the second time; a bad file changes nothing
and gets one line per mistake, naming the monitor and the field."""

import ipaddress

import pytest

from signalpost.accounts.models import AuditEvent
from signalpost.cli import main
from signalpost.monitors import store
from signalpost.monitors.models import Monitor, MonitorComponent
from signalpost.status import derive
from signalpost.status.models import ComponentSignal

FILE = """\
monitors:
  - name: API health
    target: https://api.example.com/health
    interval: 30
    keyword: '"ok": true'
    degraded_above_ms: 800
    components: [zh1.single, {component: Germany/de1.compact, down: partial_outage}]
  - name: Mail relay
    kind: tcp
    target: mail.example.com:25
    components: [Mail delivery]
"""


@pytest.fixture
def signalpost(capsys):
    def run(*argv: str, file: str | None = None, tmp=None) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def write(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "monitors.yaml"
        path.write_text(text)
        return str(path)

    return write


def test_apply_creates_the_monitors_and_twice_changes_nothing(signalpost, write, components):
    path = write(FILE)
    code, out, err = signalpost("monitors", "apply", path)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["+ create monitor 'API health'", "+ create monitor 'Mail relay'", "2 created"]
    api = Monitor.objects.get(name="API health")
    assert (api.kind, api.interval_seconds, api.timeout_seconds, api.keyword, api.degraded_above_ms) == (
        "http", 30, 10.0, '"ok": true', 800)
    links = {link.component.name: link.down_status for link in MonitorComponent.objects.filter(monitor=api)}
    assert links == {"zh1.single": "major_outage", "de1.compact": "partial_outage"}
    assert Monitor.objects.get(name="Mail relay").target == "mail.example.com:25"
    audited = AuditEvent.objects.filter(action="monitor.create").count()
    assert audited == 2

    code, out, err = signalpost("monitors", "apply", path)
    assert (code, out, err) == (0, "no change: the monitors match the file\n", "")
    assert AuditEvent.objects.filter(action__startswith="monitor.").count() == 2


def test_export_gives_a_file_that_applies_with_no_change(signalpost, write, components):
    signalpost("monitors", "apply", write(FILE))
    code, exported, _ = signalpost("monitors", "export")
    assert code == 0 and "name: API health" in exported and "down: partial_outage" in exported
    assert "interval: 30" in exported and "verify_tls" not in exported  # defaults are left out
    code, out, _ = signalpost("monitors", "apply", write(exported), "--prune")
    assert (code, out) == (0, "no change: the monitors match the file\n")


def test_a_change_is_printed_as_a_diff_and_a_dry_run_changes_nothing(signalpost, write, components):
    signalpost("monitors", "apply", write(FILE))
    changed = FILE.replace("interval: 30", "interval: 15").replace("  - name: Mail relay", "  - name: Mail relay\n    paused: true")
    code, out, _ = signalpost("monitors", "apply", write(changed), "--dry-run")
    assert out.splitlines() == ["~ change monitor 'API health': interval: 30 → 15",
                                "~ change monitor 'Mail relay': paused: false → true",
                                "2 to change (dry run: nothing changed)"]
    assert Monitor.objects.get(name="API health").interval_seconds == 30
    code, out, _ = signalpost("monitors", "apply", write(changed))
    assert out.splitlines()[-1] == "2 changed"
    assert Monitor.objects.get(name="Mail relay").paused is True


def test_prune_removes_the_monitors_the_file_does_not_name(signalpost, write, components):
    signalpost("monitors", "apply", write(FILE))
    only_api = FILE[:FILE.index("  - name: Mail relay")]
    code, out, _ = signalpost("monitors", "apply", write(only_api))
    assert out == "no change: the monitors match the file\n"  # without --prune the others stay
    code, out, _ = signalpost("monitors", "apply", write(only_api), "--prune")
    assert out.splitlines() == ["- remove monitor 'Mail relay'", "1 removed"]
    assert list(Monitor.objects.values_list("name", flat=True)) == ["API health"]


def test_pausing_or_unlinking_a_failing_monitor_clears_the_status_it_gave(signalpost, write, components):
    from datetime import timedelta

    from django.utils import timezone

    signalpost("monitors", "apply", write(FILE))
    api = Monitor.objects.get(name="API health")
    start = timezone.now() - timedelta(minutes=5)
    for n in range(4):
        store.record("local", [store.Outcome(api.pk, start + timedelta(seconds=30 * n), "up" if n == 0 else "down",
                                             reason="HTTP 500")])
    zh1, de1 = components["zh1"], components["de1"]
    assert derive.current_statuses([zh1, de1]) == {zh1.pk: "major_outage", de1.pk: "partial_outage"}

    signalpost("monitors", "apply", write(FILE.replace(", {component: Germany/de1.compact, down: partial_outage}", "")))
    assert derive.current_statuses([zh1, de1]) == {zh1.pk: "major_outage", de1.pk: "operational"}
    signalpost("monitors", "apply", write(FILE.replace("    interval: 30\n", "    interval: 30\n    paused: true\n")))
    assert derive.current_statuses([zh1, de1]) == {zh1.pk: "operational", de1.pk: "operational"}
    assert not ComponentSignal.objects.filter(end__isnull=True).exists()
    assert list(api.state_changes.values_list("to_state", "reason"))[-1] == ("unknown", "paused")
    assert not api.locations.exists()  # resumed, it starts its runs afresh


BAD = """\
monitors:
  - name: API health
    target: ftp://api.example.com/
    interval: soon
    colour: blue
  - name: Mail relay
    kind: tcp
    target: mail.example.com
    keyword: hello
    components: [No such component]
  - name: Resolver
    kind: smtp
    target: example.com
  - target: https://example.com/
"""


def test_a_bad_file_gets_one_line_per_mistake_and_changes_nothing(signalpost, write, components):
    code, out, err = signalpost("monitors", "apply", write(BAD))
    assert code == 1 and out == ""
    path = write(BAD)
    assert err.splitlines() == [
        f"signalpost: {path}: monitor 'API health': colour: not a field of a monitor",
        f"signalpost: {path}: monitor 'API health': interval: must be a whole number from 1 to 86400",
        f"signalpost: {path}: monitor 'API health': target: refused: the URL must start with https:// (or http://)",
        f"signalpost: {path}: monitor 'Mail relay': keyword: is for http monitors only (this one is tcp)",
        f'signalpost: {path}: monitor \'Mail relay\': components: unknown component "No such component"',
        f"signalpost: {path}: monitor 'Mail relay': target: must be host:port (a port from 1 to 65535)",
        f"signalpost: {path}: monitor 'Resolver': kind: must be one of http, tcp, dns, icmp, heartbeat",
        f"signalpost: {path}: monitor 4: name: is required (text of at most 200 characters)",
    ]
    assert not Monitor.objects.exists()


def test_a_file_that_is_not_yaml_says_where(signalpost, write, db):
    code, out, err = signalpost("monitors", "apply", write("monitors:\n  - name: [unclosed\n"))
    assert code == 1
    assert err.startswith("signalpost: ") and ": line 3: not valid YAML" in err and len(err.splitlines()) == 1


def test_a_monitor_at_an_internal_address_must_be_allowed_by_the_setting(signalpost, write, components, settings):
    path = write("monitors:\n  - name: Router\n    target: http://192.168.1.1/\n")
    code, _, err = signalpost("monitors", "apply", path)
    assert code == 1
    assert err == (f"signalpost: {path}: monitor 'Router': target: a monitor at an internal address must be allowed "
                   "by SIGNALPOST_OUTBOUND_ALLOW: refused: 192.168.1.1 is a private address (allow it with "
                   "SIGNALPOST_OUTBOUND_ALLOW)\n")
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("192.168.1.0/24")]
    assert signalpost("monitors", "apply", path)[0] == 0


def test_list_shows_each_monitor_with_its_state(signalpost, write, components):
    signalpost("monitors", "apply", write(FILE))
    code, out, _ = signalpost("monitors", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "TARGET", "EVERY", "STATE", "SINCE", "LAST", "PROBLEM"]
    assert lines[1].split()[:2] == ["API", "health"] and "unknown" in lines[1] and "30s" in lines[1]
