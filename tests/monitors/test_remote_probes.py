"""Remote locations as they run: one real `signalpost web` server on the test database and two real
`signalpost probe --server ... --location a|b` processes without a database, checking one target on
loopback that the test makes fail for one location or for both. Then the server goes away and comes
back (and a probe is restarted meanwhile): every check a probe made is a result on the server, once."""

import os
import re
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from signalpost.accounts.tokens import create_token
from signalpost.monitors.models import CheckResult, LocationState, Monitor, StateChange
from tests.monitors.targets import HttpTarget
from tests.monitors.test_probe_job import wait_for


class ProbeProcess:
    """`signalpost probe --server URL --token T --location NAME --buffer DIR`, with no database."""

    def __init__(self, directory, server_url: str, token: str, location: str):
        self.directory, self.location = directory, location
        self.buffer = directory / "buffer"
        self.command = [sys.executable, "-m", "signalpost", "probe", "--server", server_url, "--token", token,
                        "--location", location, "--buffer", str(self.buffer)]
        self.env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
        self.env.update({"SIGNALPOST_DATA_DIR": str(directory), "SECRET_KEY": settings.SECRET_KEY,
                         "SIGNALPOST_OUTBOUND_ALLOW": "127.0.0.1/32"})
        self.process: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        return (self.directory / "probe.log").read_text()

    def start(self) -> "ProbeProcess":
        log = open(self.directory / "probe.log", "ab")  # noqa: SIM115 - the child process writes it
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def buffered(self) -> int:
        """Results waiting in the probe's buffer, read from its file."""
        try:
            with sqlite3.connect(f"file:{self.buffer / 'buffer.sqlite3'}?mode=ro", uri=True) as db:
                return db.execute("SELECT COALESCE(SUM(results), 0) FROM batch").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    def runs(self) -> list[tuple[int, int, int]]:
        """(checks made, results sent, left in the buffer) of each run that stopped, from its last line."""
        return [tuple(map(int, m)) for m in re.findall(
            r"stopped at \S+: (\d+) checks made, (\d+) results sent, (\d+) in the buffer", self.log)]


@pytest.fixture
def target():
    server = HttpTarget().start()
    yield server
    server.stop()


@pytest.fixture
def probes(tmp_path):
    started = []

    def start(server_url: str, token: str, location: str) -> ProbeProcess:
        directory = tmp_path / f"probe-{location}"
        directory.mkdir(exist_ok=True)
        probe = ProbeProcess(directory, server_url, token, location)
        started.append(probe)
        return probe.start()

    yield start
    for probe in started:
        probe.stop()


@pytest.fixture
def monitor(page, target):
    return Monitor.objects.create(name="API health", target=target.url(), interval_seconds=1, timeout_seconds=0.8,
                                  failures_to_down=2)


def _results(location: str) -> int:
    return CheckResult.objects.filter(location=location).count()


def test_one_location_failing_alone_does_not_mark_the_monitor_down_and_both_failing_do(
        start_server, probes, target, monitor):
    # Every 2 s: a location stays "reporting" for three intervals, ample for a loaded machine.
    Monitor.objects.filter(pk=monitor.pk).update(interval_seconds=2, timeout_seconds=1)
    server = start_server(worker=False)
    token = create_token("probes", "probe")[1]
    a, b = probes(server.url, token, "a"), probes(server.url, token, "b")
    # Both report first: a location failing while it is the only one reporting is 1 of 1.
    wait_for(lambda: LocationState.objects.filter(state="up").count() == 2, what=f"both up\n{a.log}\n{b.log}")
    target.status_for = {"a": 503}

    wait_for(lambda: LocationState.objects.filter(location="a", state="down").exists(),
             what=f"location a to be down\n{a.log}")
    wait_for(lambda: LocationState.objects.filter(location="b", state="up").exists(), what=f"b up\n{b.log}")
    seen = _results("b")
    wait_for(lambda: _results("b") >= seen + 3, what="three more checks from b")
    assert LocationState.objects.get(location="a").state == "down"
    assert Monitor.objects.get(pk=monitor.pk).state == "up"
    assert not StateChange.objects.filter(to_state="down").exists()

    target.status_for = {"a": 503, "b": 503}
    wait_for(lambda: Monitor.objects.get(pk=monitor.pk).state == "down", what="the monitor to be down")
    assert Monitor.objects.get(pk=monitor.pk).state_reason == (
        "monitor 'API health' down: HTTP 503 Service Unavailable from 2 of 2 locations")


def test_the_server_going_away_and_back_and_a_probe_restarted_meanwhile_lose_no_result(
        start_server, probes, target, monitor):
    server = start_server(worker=False)
    token = create_token("probes", "probe")[1]
    a, b = probes(server.url, token, "a"), probes(server.url, token, "b")
    wait_for(lambda: _results("a") >= 2 and _results("b") >= 2, what=f"results from both\n{a.log}\n{b.log}")

    server.stop()
    wait_for(lambda: a.buffered() >= 3 and b.buffered() >= 3, what=f"results buffered\n{a.log}")
    assert "the server is unreachable" in a.log
    a.stop()  # a probe stopped while the server is away: its buffer stays on disk
    [(made, sent, left)] = a.runs()
    assert left == a.buffered() >= 3
    a.start()  # and started again: it checks the monitors it last had, from its file
    wait_for(lambda: a.buffered() >= left + 3, what=f"a checking again without the server\n{a.log}")
    assert "checking the 1 monitors the server last listed" in a.log

    server.start()
    wait_for(lambda: a.buffered() == 0 and b.buffered() == 0 and _results("a") > made + 3,
             what=f"the buffers sent\n{a.log}\n{b.log}")
    assert "the server is reachable again" in b.log
    a.stop()
    b.stop()
    for probe in (a, b):
        runs = probe.runs()
        assert all(left == 0 for _, _, left in runs[-1:]), probe.log
        made = sum(m for m, _, _ in runs)
        assert made >= 5
        assert _results(probe.location) == made, f"{probe.location}: {runs}\n{probe.log}"


def test_the_buffer_keeps_at_most_its_cap_dropping_the_oldest_and_says_so(tmp_path, caplog):
    from signalpost.monitors.remote import Buffer

    buffer = Buffer(tmp_path, limit=1000)
    for number in range(5):
        buffer.add({"location": "a", "batch": str(number), "results": [{"n": number}] * 300})
    assert buffer.held() == 900 and buffer.dropped == 600
    assert "the buffer is full (1000 results): dropped the oldest 300" in caplog.text
    assert buffer.oldest()[2].startswith(b'{"location":"a","batch":"2"')
    buffer.close()
    reopened = Buffer(tmp_path, limit=1000)  # what was buffered is there after a restart
    assert reopened.held() == 900
    reopened.close()


def test_two_probes_cannot_share_a_buffer(tmp_path):
    from signalpost.monitors.remote import Buffer, BufferInUse

    first = Buffer(tmp_path)
    with pytest.raises(BufferInUse):
        Buffer(tmp_path)
    first.close()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--server", "http://127.0.0.1:9", "--location", "a"], "--token: give a token of scope probe"),
    (["--server", "127.0.0.1:9", "--token", "t", "--location", "a"], '--server: "127.0.0.1:9" is not a URL'),
    (["--server", "http://127.0.0.1:9", "--token", "t"], "--location: a probe for a server elsewhere needs"),
    (["--token", "t"], "--token: only with --server"),
])
def test_a_remote_probe_with_missing_or_bad_options_says_which_in_one_line(tmp_path, arguments, message):
    env = {k: v for k, v in os.environ.items() if k not in ("SIGNALPOST_TOKEN", "SIGNALPOST_TOKEN_FILE")}
    env["SIGNALPOST_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "signalpost", "probe", *arguments], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"signalpost: {message}") and len(done.stderr.strip().splitlines()) == 1
