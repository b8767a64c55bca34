"""Real worker processes: two share a consumer's events on PostgreSQL, one killed with SIGKILL in the
middle of a batch loses nothing and sends nothing twice but the message it had in hand; a poison event
is set aside while the others flow; SIGTERM finishes the item in hand and exits; the snapshot catches
up after the database was unreachable for a while; a page that fails to render is retried and named."""

import asyncio
import json
import os
import queue
import signal
import socket
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from signalpost.events.models import Handling, JobBeat
from signalpost.events.record import record
from signalpost.public.models import SnapshotFile
from tests.browsing import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

POISON = "refused@example.com"


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("several workers sharing a consumer need PostgreSQL (SQLite runs one writer)")


class SlowMailbox:
    """An SMTP server that takes a moment per message (so that a worker can be killed mid-batch) and
    refuses one address for good."""

    def __init__(self) -> None:
        self.received: queue.Queue = queue.Queue()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == POISON:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        self.received.put(envelope.rcpt_tos[0])
        return "250 OK"

    def all(self) -> list[str]:
        found = []
        while not self.received.empty():
            found.append(self.received.get())
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = SlowMailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    yield mailbox
    controller.stop()


def _mail_events(count: int) -> list[str]:
    """Invitation events, as the console records them, each for its own address."""
    from signalpost.accounts.models import Invitation
    from signalpost.accounts.services import digest, invitation_token

    addresses = [f"person{n}@example.com" for n in range(count)] + [POISON]
    with transaction.atomic():
        for address in addresses:
            invitation = Invitation(email=address, role="viewer", nonce=f"nonce-{address}",
                                    expires_at=timezone.now() + timedelta(days=7))
            invitation.digest = digest(invitation_token(invitation))
            invitation.save()
            record("invitation.created", f"invitation:{invitation.pk}", data={"invitation": invitation.pk})
    return addresses[:-1]


def test_two_workers_share_the_mail_and_a_killed_one_loses_nothing(smtp, start_worker):
    needs_postgres()
    addresses = _mail_events(300)
    env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "SIGNALPOST_EVENTS_LEASE": "3",
           "SIGNALPOST_EVENTS_BACKOFF": "0.1", "SIGNALPOST_EVENTS_MAX_ATTEMPTS": "3"}
    doomed = start_worker("mailer", name="doomed", **env)
    survivor = start_worker("mailer", name="survivor", **env)
    # Both have claimed a batch and are sending: kill one where it stands.
    wait_until(lambda: Handling.objects.filter(consumer="mailer", state="done").count() >= 60, timeout=30,
               what="both workers sending")
    assert set(Handling.objects.filter(consumer="mailer").exclude(claimed_by="")
               .values_list("claimed_by", flat=True).distinct()).__len__() == 2
    os.kill(doomed.process.pid, signal.SIGKILL)
    doomed.process.wait(timeout=10)

    # The survivor finishes its own batch, then takes the dead one's claims once they expire.
    wait_until(lambda: not Handling.objects.filter(consumer="mailer", state="pending").exists(), timeout=60,
               what="every event handled")
    sent = Counter(smtp.all())
    assert set(sent) == set(addresses)  # every one delivered...
    assert sum(sent.values()) - len(addresses) <= 1  # ...once, but for the one in flight when it was killed
    # The poison event was set aside, with the server's refusal, while the others flowed.
    [poison] = Handling.objects.filter(consumer="mailer", state="set_aside")
    assert poison.attempts == 3 and "550" in poison.last_error and POISON in poison.last_error
    assert Handling.objects.filter(consumer="mailer", state="done").count() == len(addresses)
    assert survivor.stop() == 0


def test_sigterm_finishes_the_item_in_hand_and_exits(smtp, start_worker):
    addresses = _mail_events(40)
    worker = start_worker("mailer", name="stopping", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port),
                          SIGNALPOST_EVENTS_MAX_ATTEMPTS="1")
    wait_until(lambda: Handling.objects.filter(consumer="mailer", state="done").exists(), timeout=30,
               what="the worker sending")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0
    done = Handling.objects.filter(consumer="mailer", state="done").count()
    assert 0 < done < len(addresses)
    # What it had claimed and not begun is given back at once, for the next worker.
    assert not Handling.objects.filter(consumer="mailer", state="pending").exclude(claimed_by="").exists()
    assert Counter(smtp.all()).most_common(1)[0][1] == 1  # nothing twice
    assert JobBeat.objects.get(job="mailer").stopped_at is not None


def published(path: str) -> bytes:
    file = SnapshotFile.objects.filter(path=path).first()
    return bytes(file.body) if file else b""


class CuttableProxy:
    """A TCP proxy to PostgreSQL that can be cut: the worker's view of a database that goes away."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = _free_port()
        self.open = threading.Event()
        self.open.set()
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.lock:  # a cut either sees this pair or refuses it, never misses it
                if not self.open.is_set():
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(self.target)
                except OSError as error:
                    print("proxy: cannot reach", self.target, error)
                    client.close()
                    continue
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown, not only close: the other direction's thread is blocked reading, and a close alone
            # would leave the database's end of the connection open (and any lock its session holds).
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def cut(self) -> None:
        with self.lock:
            self.open.clear()
            for each in self.connections:
                try:
                    each.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.server.close()


def test_the_snapshot_catches_up_after_the_database_was_unreachable(components, start_server, start_worker):
    needs_postgres()
    from signalpost.status import services
    from tests.servers import test_database_url

    db = connection.settings_dict
    proxy = CuttableProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    try:
        through_proxy = test_database_url().replace(f":{db.get('PORT') or 5432}/", f":{proxy.port}/")
        server = start_server("reader", worker=False)
        start_worker("publisher", DATABASE_URL=through_proxy, SIGNALPOST_EVENTS_POLL="0.5")
        services.open_incident(name="Before the cut", impact="minor")
        wait_until(lambda: b"Before the cut" in published("/api/v2/summary.json"), timeout=15,
                   what="the worker publishing through the proxy")
        wait_until(lambda: "Before the cut" in server.get("/api/v2/summary.json")[2].decode(), timeout=15)

        proxy.cut()  # the worker loses the database; the team keeps writing (through the web, say)
        for n in range(5):
            services.open_incident(name=f"During the cut {n}", impact="major")
        time.sleep(3)
        summary = json.loads(server.get("/api/v2/summary.json")[2])
        assert not any(i["name"].startswith("During the cut") for i in summary["incidents"])
        assert json.loads(server.get("/healthz")[2])["publisher"]["pending"] >= 5

        proxy.restore()
        wait_until(lambda: all(f"During the cut {n}" in server.get("/api/v2/summary.json")[2].decode()
                               for n in range(5)), timeout=30, what="the snapshot catching up")
        wait_until(lambda: json.loads(server.get("/healthz")[2])["publisher"]["pending"] == 0, timeout=10,
                   what="/healthz seeing the publisher caught up")
    finally:
        proxy.close()


def _rename_table(name: str, to: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {name} RENAME TO {to}")


def test_a_page_that_fails_to_render_is_retried_and_named_on_healthz(components, start_server):
    from signalpost.status import services
    services.update_page(time_zone="Europe/Zurich")
    server = start_server("failing", SIGNALPOST_EVENTS_BACKOFF="0.2")
    incident = services.open_incident(name="Slow API", impact="minor", components={components["zh1"]: "major_outage"})
    wait_until(lambda: "Slow API" in server.get("/")[2].decode(), timeout=15)
    # A table the front page reads and the incident's page does not (what monitors report) goes missing,
    # as in a database restored half-way: the front page cannot be rendered.
    _rename_table("status_componentsignal", "status_componentsignal_away")
    services.post_update(services.find_incident(incident.public_id), status="identified", body="Found it.")

    def named() -> list:
        return [f["path"] for f in json.loads(server.get("/healthz")[2])["publisher"]["failing_pages"]]

    failing = wait_until(named, timeout=15, what="/healthz naming the failing page")
    assert "/" in failing
    health = json.loads(server.get("/healthz")[2])
    assert health["status"] == "degraded" and any("pages fail to render" in p for p in health["problems"])
    status, _, body = server.get("/")
    assert status == 200 and "Slow API" in body.decode()  # readers keep the page as it was
    # The incident's own page does not depend on it: it is published.
    wait_until(lambda: "Found it." in server.get(incident.public_path)[2].decode(), timeout=15,
               what="the other pages published")

    _rename_table("status_componentsignal_away", "status_componentsignal")
    wait_until(lambda: "Found it." in server.get("/")[2].decode(), timeout=20, what="the retry publishing the page")
    wait_until(lambda: not named(), timeout=10, what="/healthz clearing the failure")


def test_a_job_that_stopped_beating_is_named_stalled_on_healthz(components, start_server):
    from tests.publishing import publish

    publish()
    server = start_server("stalled", worker=False)
    JobBeat.objects.create(job="publisher", worker="web9:4242", started_at=timezone.now() - timedelta(hours=1),
                           beat_at=timezone.now() - timedelta(minutes=2), detail="handled 3 events")

    def says_stalled() -> dict | None:
        found = json.loads(server.get("/healthz")[2])
        return found if found.get("jobs", {}).get("publisher", {}).get("state") == "stalled" else None

    health = wait_until(says_stalled, timeout=10, what="/healthz naming the stalled job")
    assert health["status"] == "degraded" and "stalled jobs: publisher" in health["problems"]
    assert health["jobs"]["publisher"]["worker"] == "web9:4242"
