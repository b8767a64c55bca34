"""Waking the processes that wait for work, so that nothing waits for a poll.

A topic ("events:publisher", "snapshot") is announced inside the transaction that makes the work. On
commit it wakes the waiters of this process at once; other processes hear it through PostgreSQL's
NOTIFY (sent with the commit, so never before the work is visible), or, on SQLite, through a datagram
to every process on this machine that uses the same database file. Whatever is missed (a process
that was restarting, a datagram dropped) is found by the waiter's own poll, which stays as the
fallback: a wake-up only shortens a wait.
"""

import hashlib
import logging
import os
import socket
import tempfile
import threading
from pathlib import Path

from django.db import connection, connections, transaction

log = logging.getLogger("signalpost.wake")

CHANNEL = "signalpost"  # PostgreSQL's NOTIFY channel; the payload is the topic

_lock = threading.Lock()
_waiters: dict[str, list[threading.Event]] = {}
_listener: threading.Thread | None = None
_stop = threading.Event()


def waiter(topic: str) -> threading.Event:
    """An Event set whenever `topic` is announced, in this process or another."""
    event = threading.Event()
    with _lock:
        _waiters.setdefault(topic, []).append(event)
    _ensure_listener()
    return event


def announce(topic: str) -> None:
    """Wake `topic`'s waiters once the current transaction commits (at once outside one)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, topic])
    transaction.on_commit(lambda: _deliver(topic))


def _deliver(topic: str) -> None:
    _wake_here(topic)
    if connection.vendor == "sqlite":
        _broadcast(topic)


def wake_all() -> None:
    """Every waiter of this process (a worker that is stopping)."""
    with _lock:
        events = [event for waiting in _waiters.values() for event in waiting]
    for event in events:
        event.set()


def _wake_here(topic: str) -> None:
    with _lock:
        events = list(_waiters.get(topic, ()))
    for event in events:
        event.set()


# --- SQLite: datagrams between the processes of one machine ------------------------------------


def machine_dir() -> Path:
    """A directory shared by the processes of this machine that use the same database: one per SQLite
    file (or PostgreSQL database), short enough for a socket's path (108 bytes)."""
    db = connection.settings_dict
    name = os.path.abspath(str(db["NAME"])) if connection.vendor == "sqlite" else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
    digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
    directory = Path(tempfile.gettempdir()) / f"signalpost-{digest}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def _broadcast(topic: str) -> None:
    directory = machine_dir()
    try:
        peers = [p for p in directory.iterdir() if p.suffix == ".sock"]
    except OSError:
        return
    message = topic.encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for peer in peers:
            if peer.stem == str(os.getpid()):
                continue  # this process was woken directly
            try:
                sender.sendto(message, str(peer))
            except (ConnectionRefusedError, FileNotFoundError):
                peer.unlink(missing_ok=True)  # its process is gone
            except OSError:
                pass  # a full queue: that process is awake anyway


def _listen_datagrams() -> None:
    path = machine_dir() / f"{os.getpid()}.sock"
    path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        receiver.settimeout(1.0)
        try:
            while not _stop.is_set():
                try:
                    message = receiver.recv(256)
                except TimeoutError:
                    continue
                _wake_here(message.decode(errors="replace"))
        finally:
            path.unlink(missing_ok=True)


# --- PostgreSQL: LISTEN on a connection of its own ---------------------------------------------


def _listen_postgres() -> None:
    import psycopg

    params = connections["default"].get_connection_params()
    while not _stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as listening:
                listening.execute(f"LISTEN {CHANNEL}")
                while not _stop.is_set():
                    for notice in listening.notifies(timeout=1.0):
                        _wake_here(notice.payload)
        except Exception as error:  # the database is down: the waiters' polls carry on meanwhile
            log.debug("LISTEN failed (%s); retrying", error)
            _stop.wait(2.0)


def stop_listening(timeout: float = 5.0) -> None:
    """Stop this process's listener (its database connection closes); the next waiter starts another."""
    global _listener
    with _lock:
        listener, _listener = _listener, None
    if listener is None:
        return
    _stop.set()
    listener.join(timeout)
    _stop.clear()


def _ensure_listener() -> None:
    global _listener
    with _lock:
        if _listener is not None:
            return
        target = _listen_postgres if connection.vendor == "postgresql" else _listen_datagrams
        _listener = threading.Thread(target=target, name="wake-listener", daemon=True)
        _listener.start()
