"""Who the audit log names for a command run in a shell: the CLI (with the login name of whoever ran it)
when the command writes to the server's own database, the API token when it goes through --server.

The commands run as a user runs them, `python -m signalpost ...` in its own process, on the test
database (hence transactional: the process must see this test's rows, and this test its rows)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from signalpost.accounts.models import AuditEvent
from signalpost.accounts.tokens import create_token
from tests import servers

pytestmark = pytest.mark.django_db(transaction=True)

OPEN = ["incident", "open", "Volumes unreachable in zh1", "--impact", "major", "-m", "We are investigating.",
        "--component", "Switzerland/zh1.single=major_outage"]


def signalpost(*args: str, data_dir, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SETTINGS_MODULE", "SIGNALPOST_SERVER", "SIGNALPOST_TOKEN",
                                "SIGNALPOST_TOKEN_FILE")}
    environment.update({"DATABASE_URL": servers.test_database_url(), "SIGNALPOST_DATA_DIR": str(data_dir),
                        "SECRET_KEY": settings.SECRET_KEY, **env})
    return subprocess.run([sys.executable, "-m", "signalpost", *args], check=False, capture_output=True,
                          text=True, env=environment, timeout=120)


def test_a_command_on_the_local_database_is_recorded_as_the_cli(components, tmp_path):
    before = AuditEvent.objects.count()
    result = signalpost(*OPEN, data_dir=tmp_path, USER="oncall")
    assert result.returncode == 0, result.stderr
    [entry] = AuditEvent.objects.order_by("id")[before:]
    assert (entry.action, entry.actor_kind, entry.source) == ("incident.open", "cli", "cli")
    assert entry.object_repr == "Volumes unreachable in zh1"
    # The login name of whoever ran it (getpass reads $USER first), since the CLI has no account.
    assert entry.actor == "oncall (CLI on the server)"
    assert entry.actor_token_id is None and entry.actor_user_id is None


def test_a_command_through_the_server_is_recorded_as_its_token(components, live_server, tmp_path):
    token, plain = create_token("chat-ops", "write")
    before = AuditEvent.objects.count()
    result = signalpost(*OPEN, "--server", live_server.url, "--token", plain, data_dir=tmp_path, USER="oncall")
    assert result.returncode == 0, result.stderr
    [entry] = AuditEvent.objects.order_by("id")[before:]
    assert (entry.action, entry.actor_kind, entry.source, entry.address) == (
        "incident.open", "token", "api", "127.0.0.1")
    assert "chat-ops" in entry.actor and entry.actor_token_id == token.pk
    assert "oncall" not in entry.actor
