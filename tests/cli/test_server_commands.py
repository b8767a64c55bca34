"""The server and administration commands, run as a user runs them."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import authenticate
from signalpost.cli import main
from tests.servers import free_port

SUBCOMMANDS = [
    ["run"], ["web"], ["worker"], ["migrate"], ["createadmin"], ["token"], ["token", "create"],
    ["token", "list"], ["token", "revoke"], ["demo"], ["publish"], ["export"],
]


def _signalpost(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signalpost", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kw)


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_it_has_help_for_every_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: signalpost" in capsys.readouterr().out


def test_it_refuses_bad_arguments_with_one_line_and_nonzero_exit(tmp_path):
    result = _signalpost("web", "--port", "99999", env={"SIGNALPOST_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "99999 is not a port number" in result.stderr
    result = _signalpost("token", "create", "--scope", "root", env={"SIGNALPOST_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "invalid choice: 'root'" in result.stderr


def test_it_reports_a_bad_setting_in_one_line(tmp_path):
    result = _signalpost("migrate", env={"SIGNALPOST_DATA_DIR": str(tmp_path), "TIME_ZONE": "Mars/Olympus"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["signalpost: TIME_ZONE='Mars/Olympus' is not a known time zone (e.g. Europe/Zurich)"]


def test_it_creates_a_token_shown_once_and_stored_hashed(db, capsys):
    assert main(["token", "create", "--scope", "write", "--name", "chat-ops"]) == 0
    out = capsys.readouterr()
    plain = out.out.strip()
    assert plain.startswith("sp_") and "shown only this once" in out.err
    token = ApiToken.objects.get(name="chat-ops")
    assert plain not in (token.digest, token.prefix) and len(token.digest) == 64
    assert authenticate(plain) == token

    assert main(["token", "revoke", token.prefix]) == 0
    assert authenticate(plain) is None
    assert main(["token", "revoke", "sp_nope"]) == 1
    assert capsys.readouterr().err.strip() == 'signalpost: no active token with prefix "sp_nope"'


def test_it_creates_an_admin_with_an_argon2_password(db, capsys):
    from django.contrib.auth import get_user_model

    assert main(["createadmin", "--username", "ops"]) == 0
    password = capsys.readouterr().out.split("password: ")[1].strip()
    user = get_user_model().objects.get(username="ops")
    assert user.is_superuser and user.password.startswith("argon2")
    assert user.check_password(password)


def test_it_loads_demo_data_once(db, capsys):
    from signalpost.status.models import Component, ComponentGroup, Incident

    assert main(["demo"]) == 0
    assert 10 <= Component.objects.count() <= 14
    assert 3 <= ComponentGroup.objects.count() <= 4
    assert Incident.objects.filter(kind="incident", resolved_at__isnull=False).count() >= 3
    assert Incident.objects.filter(kind="maintenance", status="scheduled").count() == 1
    assert main(["demo"]) == 1
    assert "already has components" in capsys.readouterr().err
    before = Incident.objects.count()
    assert main(["demo", "--force"]) == 1  # its groups exist: one line, nothing added
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("signalpost: the demo data was not added: name")
    assert Incident.objects.count() == before


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not true within {timeout} s")


def test_run_serves_the_demo_page_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "SIGNALPOST_DATA_DIR": str(tmp_path), "SIGNALPOST_SNAPSHOT_POLL": "0.1"}
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite in the data directory
    process = subprocess.Popen([sys.executable, "-m", "signalpost", "run", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        assert b"Acme Hosting Status" in body

        def health() -> dict:
            return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read())

        def all_jobs_running() -> dict | None:
            found = health()
            jobs = found.get("jobs", {})
            every = {"transitions", "clock", "probe", "publisher", "mailer", "notifier", "deliveries", "team_alerts",
                     "signups", "monitor_incidents", "monitor_alerts", "monitor_messages"}
            ready = set(jobs) == every and all(
                job["state"] == "ok" for job in jobs.values()) and found["publisher"]["pending"] == 0
            return found if ready else None

        # One process per job of the worker, each beating; the demo is published by the publisher.
        first = _wait(all_jobs_running, 60)
        assert first["status"] == "ok" and first["pages"] > 10
        # A job that dies is started again.
        dead_pid = int(first["jobs"]["publisher"]["worker"].rpartition(":")[2])
        os.kill(dead_pid, signal.SIGKILL)
        _wait(lambda: (found := all_jobs_running()) and found["jobs"]["publisher"]["worker"].rpartition(":")[2]
              != str(dead_pid), 60)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert "console login: user admin, password " in output
    assert "stopped" in output
    assert "the publisher job exited with status -9; starting it again" in output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)


def test_it_reports_a_bad_number_in_the_environment_in_one_line(tmp_path):
    result = _signalpost("worker", "--once", env={"SIGNALPOST_DATA_DIR": str(tmp_path),
                                                  "SIGNALPOST_WORKER_INTERVAL": "soon"})
    assert result.returncode == 1
    assert result.stderr.strip() == "signalpost: SIGNALPOST_WORKER_INTERVAL='soon' is not a number of seconds"
    result = _signalpost("web", env={"SIGNALPOST_DATA_DIR": str(tmp_path), "SIGNALPOST_PORT": "http"})
    assert result.returncode == 2 and "'http' is not a port number" in result.stderr
