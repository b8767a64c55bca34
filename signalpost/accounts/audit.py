"""The audit trail: every write records who made it, from where, and what it changed.

The actor is set once per request (console session or API token, see middleware.py), per CLI command
and per worker pass; the service functions, which every write goes through, call record() inside their
own transaction, so a write and its audit entry commit together or not at all.
"""

import contextvars
import getpass
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone

from .models import AuditEvent


@dataclass(frozen=True)
class Actor:
    kind: str  # user, token, cli, system
    name: str
    source: str  # console, api, cli, worker
    address: str | None = None
    user_id: int | None = None
    token_id: int | None = None


SYSTEM = Actor(kind="system", name="system", source="worker")
_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("signalpost_actor", default=None)


def current_actor() -> Actor:
    return _actor.get() or SYSTEM


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def user_actor(user, source: str = "console", address: str | None = None) -> Actor:
    return Actor(kind="user", name=user.get_username(), source=source, address=address, user_id=user.pk)


def token_actor(token, address: str | None = None) -> Actor:
    """A token acts for the person who created it (so the rules about people, such as "an author does
    not approve their own postmortem", hold through the API too); a token made on the server with
    `signalpost token create` was created by no one and acts for no one."""
    return Actor(kind="token", name=f"token {token.name} ({token.prefix}…)", source="api", address=address,
                 user_id=token.created_by_id, token_id=token.pk)


def cli_actor() -> Actor:
    try:
        name = getpass.getuser()
    except Exception:  # no login name in some containers
        name = "unknown"
    return Actor(kind="cli", name=f"{name} (CLI on the server)", source="cli")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model | None, fields: Iterable[str]) -> dict | None:
    """The named fields of an object as JSON-ready values (None for no object)."""
    if obj is None:
        return None
    return {field: _plain(getattr(obj, field)) for field in fields}


def changed_only(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only the keys whose value differs (all of them when one side is missing)."""
    if before is None or after is None:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(action: str, obj: models.Model | None = None, *, before: dict | None = None, after: dict | None = None,
           object_type: str = "", object_id: str = "", object_repr: str = "", diff: bool = True) -> AuditEvent:
    """Record one write made by the current actor. Call it inside the write's transaction."""
    actor = current_actor()
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
        object_repr = object_repr or str(obj)
    if diff:
        before, after = changed_only(before, after)
    return AuditEvent.objects.create(
        at=timezone.now(), actor_kind=actor.kind, actor=actor.name[:200], actor_user_id=actor.user_id,
        actor_token_id=actor.token_id, source=actor.source, address=actor.address, action=action,
        object_type=object_type[:32], object_id=object_id[:64], object_repr=object_repr[:300],
        before=_plain(before), after=_plain(after),
    )
