"""The responder commands: `signalpost incident|maintenance|component ...`, on the local database and
against a real server over HTTP (pytest-django's live_server), with the same output either way."""

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from signalpost.cli import main
from signalpost.cli.backends import api_request
from signalpost.status import derive, services
from signalpost.status.models import Component, Incident, Kind, StatusOverride

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signalpost(capsys):
    """Runs `signalpost ARGS...` in this process; returns (exit status, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()  # only what the command itself prints
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse: --help, or a refused command line
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def remote(live_server, make_token, monkeypatch):
    """The same commands sent to a real server over HTTP, with a write token from the environment."""
    # The server runs in this process; its log lines belong in a server's log, not in the stderr of
    # the command under test.
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        if isinstance(logger, logging.Logger) and logger.handlers:
            monkeypatch.setattr(logger, "handlers", [logging.NullHandler()])
    monkeypatch.setenv("SIGNALPOST_SERVER", live_server.url)
    monkeypatch.setenv("SIGNALPOST_TOKEN", make_token("write"))
    return live_server.url


def opened_id(out: str) -> str:
    """The id in "opened incident abc123def456: https://..."."""
    return re.match(r"[a-z ]+ (?:incident|maintenance) ([0-9a-z]{12})[ :]", out).group(1)


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("signalpost: "), err
    return err.strip()


# --- local mode -------------------------------------------------------------------------------------


def test_it_opens_updates_and_resolves_an_incident(signalpost, components):
    zh1, zh2 = components["zh1"], components["zh2"]
    code, out, err = signalpost("incident", "open", "Volumes unreachable in zh1", "--impact", "major",
                                "-m", "We are investigating.", "--component", "Switzerland/zh1.single=major_outage",
                                "--component", f"{zh2.public_id}=degraded_performance")
    assert (code, err) == (0, "")
    incident_id = opened_id(out)
    assert out == f"opened incident {incident_id}: {settings.SITE_URL}/incidents/{incident_id}\n"
    assert derive.component_status(zh1) == "major_outage"
    assert derive.component_status(zh2) == "degraded_performance"

    code, out, err = signalpost("incident", "update", incident_id, "--status", "identified",
                                "-m", "A failed switch.", "--component", "zh1.single=partial_outage")
    assert (code, err) == (0, "")
    assert out.startswith(f"updated incident {incident_id} (identified): ")
    assert derive.component_status(zh1) == "partial_outage"

    code, out, err = signalpost("incident", "resolve", incident_id)
    assert (code, err) == (0, "")
    assert out.startswith(f"resolved incident {incident_id}: ")
    incident = services.find_incident(incident_id)
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert [u.body for u in incident.updates.order_by("display_at", "id")] == [
        "We are investigating.", "A failed switch.", "This incident has been resolved."]
    assert derive.component_status(zh1) == derive.component_status(zh2) == "operational"


def test_it_shows_an_incident_as_started_at_a_relative_time(signalpost, components):
    code, out, _ = signalpost("incident", "open", "Mail delays", "--at", "-15m", "--no-notify",
                              "--component", "Mail delivery=degraded_performance")
    assert code == 0
    incident = services.find_incident(opened_id(out))
    assert abs(incident.started_at - (timezone.now() - timedelta(minutes=15))) < timedelta(seconds=30)
    assert incident.updates.get().deliver_notifications is False


def test_it_reopens_a_resolved_incident_only_when_asked(signalpost, components):
    _, out, _ = signalpost("incident", "open", "Flapping", "--component", "zh1.single=partial_outage")
    incident_id = opened_id(out)
    signalpost("incident", "resolve", incident_id)

    code, out, err = signalpost("incident", "update", incident_id, "--status", "investigating")
    assert code == 1 and out == ""
    assert one_line(err) == "signalpost: status: the incident is resolved; reopen it to post a new update"

    code, out, _ = signalpost("incident", "update", incident_id, "--status", "investigating", "--reopen",
                              "--component", "zh1.single=major_outage", "--impact", "critical")
    assert code == 0
    incident = services.find_incident(incident_id)
    assert (incident.status, incident.impact, incident.resolved_at) == ("investigating", "critical", None)
    assert derive.component_status(components["zh1"]) == "major_outage"


def test_it_backfills_a_past_incident(signalpost, components):
    code, out, err = signalpost("incident", "backfill", "Storage latency", "--impact", "major",
                                "--started", "2025-03-01T20:00:00Z", "--resolved", "2025-03-01 21:40+01:00",
                                "--component", "de1.compact=degraded_performance", "-m", "Slow writes.")
    assert (code, err) == (0, "")
    incident = services.find_incident(opened_id(out))
    assert out.startswith(f"recorded past incident {incident.public_id} (2025-03-01 20:00 UTC to 2025-03-01 20:40 UTC): ")
    assert incident.retroactive and incident.status == "resolved"
    utc = dt_timezone.utc
    assert (incident.started_at, incident.resolved_at) == (datetime(2025, 3, 1, 20, 0, tzinfo=utc),
                                                           datetime(2025, 3, 1, 20, 40, tzinfo=utc))
    timeline = derive.component_status_timeline(components["de1"], datetime(2025, 3, 1, 19, tzinfo=utc),
                                                datetime(2025, 3, 1, 22, tzinfo=utc))
    assert [(s.start.hour, s.start.minute, s.status) for s in timeline] == [
        (19, 0, "operational"), (20, 0, "degraded_performance"), (20, 40, "operational")]
    assert not incident.updates.filter(deliver_notifications=True).exists()


def test_it_reads_a_time_without_offset_in_the_zone_given_by_tz(signalpost, components):
    code, out, _ = signalpost("incident", "backfill", "DNS outage", "--tz", "Europe/Zurich",
                              "--started", "2025-07-01 10:00", "--resolved", "2025-07-01 10:30")
    assert code == 0
    assert "(2025-07-01 10:00 CEST to 2025-07-01 10:30 CEST)" in out
    incident = services.find_incident(opened_id(out))
    assert incident.started_at == datetime(2025, 7, 1, 8, 0, tzinfo=dt_timezone.utc)


def test_it_schedules_maintenance_for_a_duration(signalpost, components):
    code, out, err = signalpost("maintenance", "schedule", "Storage firmware upgrade",
                                "--start", "2030-01-15T22:00:00Z", "--duration", "1h30m",
                                "--component", "zh1.single", "--component", "Switzerland/zh2.cluster",
                                "-m", "Volumes may pause.", "--no-auto-complete")
    assert (code, err) == (0, "")
    maintenance = services.find_incident(opened_id(out), Kind.MAINTENANCE)
    assert out == (f"scheduled maintenance {maintenance.public_id} (2030-01-15 22:00 UTC to 2030-01-15 23:30 UTC): "
                   f"{settings.SITE_URL}/maintenance/{maintenance.public_id}\n")
    assert maintenance.scheduled_until - maintenance.scheduled_for == timedelta(hours=1, minutes=30)
    assert (maintenance.auto_start, maintenance.auto_complete) == (True, False)
    assert set(maintenance.components.all()) == {components["zh1"], components["zh2"]}

    code, out, _ = signalpost("maintenance", "list", "--upcoming")
    assert code == 0 and maintenance.public_id in out and "Storage firmware upgrade" in out
    assert signalpost("maintenance", "list", "--active")[1] == "no active maintenance\n"


def test_it_starts_and_extends_maintenance(signalpost, components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Database failover", scheduled_for=now - timedelta(minutes=1), scheduled_until=now + timedelta(hours=1),
        components=[components["de1"]])
    code, out, _ = signalpost("maintenance", "update", maintenance.public_id, "--status", "in_progress")
    assert code == 0 and out.startswith(f"updated maintenance {maintenance.public_id} (in_progress): ")
    assert derive.component_status(components["de1"]) == "under_maintenance"

    code, out, _ = signalpost("maintenance", "update", maintenance.public_id, "--status", "in_progress",
                              "--until", "2030-01-01T03:00:00Z", "-m", "Taking longer than anticipated.")
    assert code == 0 and "(in_progress, until 2030-01-01 03:00 UTC)" in out
    maintenance.refresh_from_db()
    assert maintenance.scheduled_until == datetime(2030, 1, 1, 3, tzinfo=dt_timezone.utc)
    assert signalpost("maintenance", "list", "--active")[1].splitlines()[1].startswith(maintenance.public_id)


def test_an_overrun_needs_no_new_end_and_the_window_stays_open(signalpost, components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Database failover", scheduled_for=now - timedelta(minutes=10), scheduled_until=now + timedelta(minutes=5),
        components=[components["de1"]])
    services.start_maintenance(maintenance)
    code, out, err = signalpost("maintenance", "update", maintenance.public_id, "--status", "in_progress",
                                "--overrun")
    assert (code, err) == (0, "")
    assert out.startswith(f"updated maintenance {maintenance.public_id} (in_progress, open until completed): ")
    assert services.run_due_transitions(now + timedelta(hours=1)) == []
    maintenance.refresh_from_db()
    assert (maintenance.status, maintenance.resolved_at) == ("in_progress", None)
    assert maintenance.updates.first().body == "The maintenance is taking longer than anticipated."


def test_it_lists_components_as_a_table(signalpost, components):
    services.set_override(components["de2"], "partial_outage", "rack down")
    code, out, err = signalpost("component", "list")
    assert (code, err) == (0, "")
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines()]
    assert rows[0] == ["ID", "GROUP", "NAME", "STATUS"]
    assert rows[1:] == [  # the page's order, as readers see it
        [components["zh1"].public_id, "Switzerland", "zh1.single", "operational"],
        [components["zh2"].public_id, "Switzerland", "zh2.cluster", "operational"],
        [components["de1"].public_id, "Germany", "de1.compact", "operational"],
        [components["de2"].public_id, "Germany", "de2.compact", "partial_outage"],
        [components["mail"].public_id, "-", "Mail delivery", "operational"],
    ]


def test_it_overrides_and_clears_a_components_status(signalpost, components):
    zh1 = components["zh1"]
    code, out, _ = signalpost("component", "override", "Switzerland/zh1.single", "major_outage", "--reason", "blind")
    assert code == 0 and out.startswith("Switzerland/zh1.single is major_outage until cleared")
    assert derive.component_status(zh1) == "major_outage"
    assert StatusOverride.objects.get(component=zh1).reason == "blind"

    code, out, _ = signalpost("component", "clear", zh1.public_id, "--json")
    assert code == 0 and json.loads(out)["status"] == "operational" and json.loads(out)["override"] is None
    assert derive.component_status(zh1) == "operational"


@pytest.mark.parametrize("argv, expected", [
    (["incident", "open", "Down", "--status", "bogus"],
     "signalpost: status: must be one of: investigating, identified, monitoring or resolved"),
    (["incident", "open", "Down", "--component", "nope=major_outage"],
     'signalpost: components: unknown component "nope"'),
    (["incident", "open", "Down", "--component", "zh1.single=down"], "signalpost: components."),
    (["incident", "open", "Down", "--component", "zh1.single"], 'signalpost: components: "zh1.single" needs a status'),
    (["incident", "open", "Down", "--at", "2026-11-25 20:00"],
     'signalpost: --at: "2026-11-25 20:00" has no time zone; add an offset or Z'),
    (["incident", "open", "Down", "--at", "yesterday"], 'signalpost: --at: "yesterday" is not a time'),
    (["incident", "open", "Down", "--tz", "Mars/Olympus", "--at", "2026-11-25 20:00"],
     'signalpost: --tz: "Mars/Olympus" is not a known time zone'),
    (["incident", "open"], "signalpost: the following arguments are required: TITLE"),
    (["incident", "open", "  "], "signalpost: name: must not be empty"),
    (["incident", "open", "Down", "--message-file", "/nonexistent/update.md"],
     "signalpost: --message-file: cannot read /nonexistent/update.md: No such file or directory"),
    (["incident", "backfill", "Old", "--started", "2025-01-01T10:00Z", "--resolved", "2025-01-01T09:00Z"],
     "signalpost: resolved_at: is before started_at"),
    (["incident", "update", "nosuchid", "--status", "identified"], 'signalpost: no incident with id "nosuchid"'),
    (["maintenance", "schedule", "Upgrade", "--start", "2030-01-01T00:00Z", "--duration", "soon"],
     'signalpost: --duration: "soon" is not a duration'),
    (["maintenance", "schedule", "Upgrade", "--start", "2030-01-01T00:00Z"],
     "signalpost: one of the arguments --end --duration is required"),
    (["maintenance", "schedule", "Upgrade", "--start", "2030-01-01T00:00Z", "--duration", "1h", "--component", "x"],
     'signalpost: components: unknown component "x"'),
    (["component", "override", "zh1.single", "sideways"], "signalpost: status: must be one of: operational"),
    (["maintenance", "schedule", "Upgrade", "--start", "9999-12-31T22:00Z", "--duration", "3h"],
     "signalpost: --start: must be from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z"),
    (["maintenance", "schedule", "Upgrade", "--start", "2199-12-31T22:00Z", "--duration", "3h"],
     "signalpost: --duration: must be from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z"),
    (["maintenance", "schedule", "Upgrade", "--start", "2030-01-01T00:00Z", "--duration", "99999999999w"],
     'signalpost: --duration: "99999999999w" is longer than any accepted window'),
    (["incident", "backfill", "Old", "--started", "0001-01-01T00:00+01:00", "--resolved", "2025-01-01T09:00Z"],
     "signalpost: --started: must be from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z"),
    (["incident", "open", "Down", "--at", "-99999999d"], "signalpost: --at: must be from 1970"),
    (["incident", "open", "Down\x00"], "signalpost: name: must not contain NUL characters"),
])
def test_it_refuses_bad_input_in_one_line_and_writes_nothing(signalpost, components, argv, expected):
    code, out, err = signalpost(*argv)
    assert code != 0 and out == ""
    assert one_line(err).startswith(expected)
    assert not Incident.objects.exists() and not StatusOverride.objects.exists()


def test_it_reads_the_update_from_a_file(signalpost, components, tmp_path):
    text = tmp_path / "update.md"
    text.write_text("We have **identified** the cause.\n\n- a switch\n")
    _, out, _ = signalpost("incident", "open", "Down", "--message-file", str(text))
    assert services.find_incident(opened_id(out)).updates.get().body == "We have **identified** the cause.\n\n- a switch"


def test_it_prints_the_api_object_with_json(signalpost, components):
    code, out, _ = signalpost("incident", "open", "Down", "--component", "zh1.single=major_outage", "--json")
    assert code == 0
    incident = json.loads(out)
    assert incident["name"] == "Down" and incident["status"] == "investigating"
    assert incident["components"] == [{"id": components["zh1"].public_id, "name": "zh1.single",
                                       "group": "Switzerland", "status": "major_outage"}]
    assert [u["status"] for u in incident["updates"]] == ["investigating"]

    listed = json.loads(signalpost("incident", "list", "--open", "--json")[1])
    assert [i["id"] for i in listed] == [incident["id"]]
    table = json.loads(signalpost("component", "list", "--json")[1])
    assert {c["name"]: c["status"] for c in table}["zh1.single"] == "major_outage"


def test_it_lists_open_incidents(signalpost, components):
    assert signalpost("incident", "list", "--open")[1] == "no open incidents\n"
    services.open_incident(name="Still broken")
    services.resolve_incident(services.open_incident(name="Fixed"))
    lines = signalpost("incident", "list", "--open")[1].splitlines()
    assert lines[0].split() == ["ID", "STATUS", "IMPACT", "STARTED", "TITLE"]
    assert len(lines) == 2 and lines[1].endswith("Still broken")
    assert len(signalpost("incident", "list")[1].splitlines()) == 3


# --- the real command ------------------------------------------------------------------------------------


def _command_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALPOST_") and k != "DJANGO_SETTINGS_MODULE"}
    return {**env, "SIGNALPOST_DATA_DIR": str(tmp_path), **extra}


def test_it_explains_itself_with_examples(tmp_path):
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "signalpost"), "incident", "open", "--help"],
                            capture_output=True, text=True, timeout=30, env=_command_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout and 'signalpost incident open "' in result.stdout
    assert "--component REF=STATUS" in result.stdout and '"-15m"' in result.stdout

    result = subprocess.run([sys.executable, "-m", "signalpost", "maintenance", "schedule", "Upgrade"],
                            capture_output=True, text=True, timeout=30, env=_command_env(tmp_path), cwd=ROOT)
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr).startswith("signalpost: the following arguments are required: --start")


def test_it_opens_an_incident_from_a_shell(transactional_db, components, tmp_path):
    from tests.servers import test_database_url

    result = subprocess.run(
        [sys.executable, "-m", "signalpost", "incident", "open", "Login failures", "--impact", "major",
         "--component", "zh1.single=partial_outage"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=_command_env(tmp_path, DATABASE_URL=test_database_url(), SIGNALPOST_URL="https://status.example.com"),
    )
    assert result.returncode == 0, result.stderr
    incident = Incident.objects.get()
    assert result.stdout == f"opened incident {incident.public_id}: https://status.example.com/incidents/{incident.public_id}\n"
    assert result.stderr == ""
    assert derive.component_status(components["zh1"]) == "partial_outage"


# --- remote mode --------------------------------------------------------------------------------------------


def test_it_responds_through_the_api_as_it_does_locally(signalpost, components, remote, monkeypatch):
    code, out, err = signalpost("incident", "open", "Volumes unreachable", "--impact", "major", "-m", "Looking.",
                                "--component", "Switzerland/zh1.single=major_outage")
    assert (code, err) == (0, "")
    incident_id = opened_id(out)
    assert out == f"opened incident {incident_id}: {settings.SITE_URL}/incidents/{incident_id}\n"
    assert derive.component_status(components["zh1"]) == "major_outage"

    assert signalpost("incident", "update", incident_id, "--status", "monitoring")[0] == 0
    assert signalpost("incident", "resolve", incident_id, "-m", "Fixed.")[0] == 0
    incident = services.find_incident(incident_id)
    assert incident.status == "resolved" and incident.monitoring_at is not None
    assert derive.component_status(components["zh1"]) == "operational"

    code, out, _ = signalpost("maintenance", "schedule", "Upgrade", "--start", "2030-01-15T22:00:00Z",
                              "--duration", "2h", "--component", "de1.compact")
    maintenance = services.find_incident(opened_id(out), Kind.MAINTENANCE)
    assert maintenance.scheduled_until == datetime(2030, 1, 16, 0, tzinfo=dt_timezone.utc)

    code, out, _ = signalpost("incident", "backfill", "Old", "--started", "-3h", "--resolved", "-2h")
    assert code == 0 and services.find_incident(opened_id(out)).retroactive

    assert signalpost("component", "override", "Mail delivery", "degraded_performance")[0] == 0
    remote_table = signalpost("component", "list")[1]
    remote_incidents = json.loads(signalpost("incident", "list", "--json")[1])
    remote_maintenance = signalpost("maintenance", "list", "--upcoming")[1]
    monkeypatch.delenv("SIGNALPOST_SERVER")  # the same commands on the same database, without the server
    assert signalpost("component", "list")[1] == remote_table
    assert "degraded_performance" in remote_table
    assert json.loads(signalpost("incident", "list", "--json")[1]) == remote_incidents
    assert signalpost("maintenance", "list", "--upcoming")[1] == remote_maintenance


def test_it_shows_the_servers_refusal_in_one_line(signalpost, components, remote):
    code, out, err = signalpost("incident", "open", "Down", "--component", "nope=major_outage")
    assert code == 1 and out == ""
    assert one_line(err) == 'signalpost: components: unknown component "nope"'

    code, _, err = signalpost("incident", "open", "Down", "--status", "bogus")
    assert code == 1 and one_line(err).startswith("signalpost: status: must be one of: investigating, identified")

    code, _, err = signalpost("component", "override", "zh9", "major_outage")
    assert code == 1 and one_line(err) == 'signalpost: component: unknown component "zh9"'
    assert not Incident.objects.exists()


def test_it_says_when_the_token_is_refused(signalpost, components, remote):
    code, _, err = signalpost("component", "list", "--token", "sp_not-a-token")
    assert code == 1 and one_line(err) == "signalpost: this token is not valid, or has been revoked"


def test_it_reads_the_token_from_a_file(signalpost, components, remote, tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(os.environ.pop("SIGNALPOST_TOKEN") + "\n")
    monkeypatch.setenv("SIGNALPOST_TOKEN_FILE", str(token_file))
    code, out, _ = signalpost("component", "list")
    assert code == 0 and "zh1.single" in out


def test_it_says_when_the_server_cannot_be_reached(signalpost):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = signalpost("incident", "open", "Down", "--server", f"http://127.0.0.1:{port}", "--token", "sp_x")
    assert code == 1 and out == ""
    assert one_line(err) == f"signalpost: cannot reach http://127.0.0.1:{port}: Connection refused"


def test_it_sends_a_retried_post_only_once(components, remote):
    token = os.environ["SIGNALPOST_TOKEN"]
    body = {"name": "Down", "components": {"zh1.single": "major_outage"}}
    first = api_request(remote, token, "POST", "/incidents", body, idempotency_key="retry-1")
    again = api_request(remote, token, "POST", "/incidents", body, idempotency_key="retry-1")
    assert first == again
    assert Incident.objects.get().public_id == first["id"]


class FlakyProxy:
    """A proxy in front of the server that passes the first request on, then fails to deliver the answer:
    it drops the connection ("drop") or answers 504 as a load balancer would ("504"). Later requests go
    through untouched."""

    def __init__(self, target: str, failure: str):
        self.target = target.removeprefix("http://").split(":")
        self.failure = failure
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while len(self.requests) < 2:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client:
                client.settimeout(5)
                request = self.read_request(client)
                self.requests.append(request)
                with socket.create_connection((self.target[0], int(self.target[1])), timeout=5) as upstream:
                    upstream.sendall(request)
                    response = b"".join(iter(lambda: upstream.recv(65536), b""))
                if len(self.requests) == 1 and self.failure == "drop":
                    continue
                if len(self.requests) == 1:
                    response = b"HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                client.sendall(response)

    @staticmethod
    def read_request(client: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            data += client.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += client.recv(65536)
        return head + b"\r\n\r\n" + body

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize("failure", ["drop", "504"])
def test_it_opens_one_incident_when_the_answer_is_lost(signalpost, components, remote, failure):
    proxy = FlakyProxy(remote, failure)
    try:
        code, out, err = signalpost("incident", "open", "Down", "--server", proxy.url,
                                    "--component", "zh1.single=major_outage")
    finally:
        proxy.close()
    assert (code, err) == (0, "")
    assert Incident.objects.get().public_id == opened_id(out)
    keys = [line for request in proxy.requests for line in request.split(b"\r\n")
            if line.lower().startswith(b"idempotency-key:")]
    assert len(keys) == 2 and keys[0] == keys[1]


# --- setting up the page ----------------------------------------------------------------------------


def test_it_adds_groups_and_components_to_the_page(signalpost, page):
    code, out, err = signalpost("group", "add", "Switzerland")
    assert code == 0 and out.startswith("added group ") and out.strip().endswith(": Switzerland"), err
    code, out, _ = signalpost("component", "add", "zh1.single", "--group", "Switzerland")
    assert code == 0 and out.strip().endswith(": Switzerland/zh1.single")
    code, out, _ = signalpost("component", "add", "Mail delivery", "--third-party", "--description", "Our provider.")
    assert code == 0
    mail = Component.objects.get(name="Mail delivery")
    assert mail.third_party and mail.group is None and mail.description == "Our provider."
    assert Component.objects.get(name="zh1.single").group.name == "Switzerland"

    code, _, err = signalpost("component", "add", "zh2.cluster", "--group", "Atlantis")
    assert code == 1 and one_line(err) == 'signalpost: group: unknown group "Atlantis"'
    code, _, err = signalpost("component", "add", "zh1.single", "--group", "Switzerland")
    assert code == 1 and "already exists" in one_line(err)
    assert Component.objects.count() == 2


def test_it_adds_groups_and_components_through_the_api(signalpost, page, remote, monkeypatch, make_token):
    monkeypatch.setenv("SIGNALPOST_TOKEN", make_token("admin"))
    assert signalpost("group", "add", "Germany")[0] == 0
    code, out, err = signalpost("component", "add", "de1.compact", "--group", "Germany", "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["name"] == "de1.compact" and created["group"]["name"] == "Germany"
    assert created["status"] == "operational"

    monkeypatch.setenv("SIGNALPOST_TOKEN", make_token("write"))
    code, _, err = signalpost("group", "add", "France")
    assert code == 1 and "this needs admin" in one_line(err)


def _approved_postmortem(components):
    from signalpost.accounts import audit
    from signalpost.postmortems import services as postmortems
    from tests.routes import make_user

    incident = services.backfill_incident(
        name="Sites unreachable", started_at=datetime(2017, 9, 12, 20, 0, tzinfo=dt_timezone.utc),
        resolved_at=datetime(2017, 9, 12, 22, 25, tzinfo=dt_timezone.utc), body="Sites fail to load.")
    author, reviewer = make_user("responder", "alice"), make_user("responder", "bob")
    with audit.acting(audit.user_actor(author)):
        pm = postmortems.create_postmortem(incidents=[incident], title="Symlinks removed", author=author)
        postmortems.request_review(pm, user=author)
    with audit.acting(audit.user_actor(reviewer)):
        postmortems.approve(pm, reviewer)
    return pm


def test_it_publishes_a_postmortem_at_the_time_it_was_posted(signalpost, components):
    pm = _approved_postmortem(components)
    code, out, err = signalpost("postmortem", "publish", "--tz", "Europe/Zurich", pm.public_id, "--at",
                                "2017-09-13 10:41")
    assert (code, err) == (0, "")
    assert out == (f"published postmortem {pm.public_id} (2017-09-13 10:41 CEST): "
                   f"{settings.SITE_URL}/postmortems/{pm.public_id}\n")
    pm.refresh_from_db()
    assert (pm.status, pm.published_at) == ("published", datetime(2017, 9, 13, 8, 41, tzinfo=dt_timezone.utc))


def test_a_published_time_before_the_incident_ended_is_refused_over_the_api_too(signalpost, components, remote):
    pm = _approved_postmortem(components)
    code, out, err = signalpost("postmortem", "publish", pm.public_id, "--at", "2017-09-12T21:00:00Z")
    assert (code, out) == (1, "")
    assert one_line(err) == 'signalpost: published_at: is before "Sites unreachable" ended; a postmortem is ' \
                            "published after its incidents"
    code, out, err = signalpost("postmortem", "publish", pm.public_id)
    assert (code, err) == (0, "") and out.startswith(f"published postmortem {pm.public_id} (")


# --- a window's reminders -----------------------------------------------------------------------------


def test_it_schedules_maintenance_with_its_own_reminders_or_none(signalpost, components):
    start = ("--start", "2030-01-15T22:00:00Z", "--duration", "1h")
    code, out, err = signalpost("maintenance", "schedule", "Reminded", *start, "--remind", "2h, 15m")
    assert (code, err) == (0, "")
    assert services.find_incident(opened_id(out), Kind.MAINTENANCE).reminders == [7200, 900]
    code, out, _ = signalpost("maintenance", "schedule", "Quiet", *start, "--no-remind")
    assert services.find_incident(opened_id(out), Kind.MAINTENANCE).reminders == []
    code, out, _ = signalpost("maintenance", "schedule", "Usual", *start)
    assert services.find_incident(opened_id(out), Kind.MAINTENANCE).reminders is None


def test_it_refuses_bad_reminders_in_one_line_and_schedules_nothing(signalpost, components):
    start = ("--start", "2030-01-15T22:00:00Z", "--duration", "1h")
    code, _, err = signalpost("maintenance", "schedule", "Reminded", *start, "--remind", "2h,soon")
    assert code != 0 and "reminders" in one_line(err) and '"soon"' in err
    code, _, err = signalpost("maintenance", "schedule", "Reminded", *start, "--remind", ",")
    assert code != 0 and "--remind" in one_line(err)
    assert not Incident.objects.exists()


def test_it_sets_reminders_through_the_api_as_it_does_locally(signalpost, components, remote):
    code, out, err = signalpost("maintenance", "schedule", "Upgrade", "--start", "2030-01-15T22:00:00Z",
                                "--duration", "2h", "--remind", "90m")
    assert (code, err) == (0, "")
    assert services.find_incident(opened_id(out), Kind.MAINTENANCE).reminders == [5400]
    code, _, err = signalpost("maintenance", "schedule", "Upgrade", "--start", "2030-01-15T22:00:00Z",
                              "--duration", "2h", "--remind", "0h")
    assert code != 0 and "reminders" in one_line(err)
