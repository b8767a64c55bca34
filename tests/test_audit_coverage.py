"""Every write leaves exactly one audit entry naming who made it, whichever way it came in: the
management API (the token), the console (the signed-in user), the worker (system) — and the trail
itself cannot be changed, by the application or by SQL.

The write routes are found, not listed: every write operation of /api/v1 and every console route that
takes a POST must have a scenario below, or the walker test fails naming it. (The CLI's entries are
tested in tests/cli/test_audit.py.)"""

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent, Profile
from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import create_token, revoke_token
from signalpost.status import services
from signalpost.worker import Worker
from tests.accounts.audit_scenarios import SCENARIOS as ACCOUNTS_SCENARIOS
from tests.console.audit_scenarios import SCENARIOS as EVENTS_AND_COMPONENTS_SCENARIOS
from tests.console.monitor_routes import API_SCENARIOS as MONITOR_API_SCENARIOS
from tests.console.monitor_routes import CONSOLE_SCENARIOS as MONITOR_SCENARIOS
from tests.console.postmortem_routes import CONSOLE_SCENARIOS as POSTMORTEM_SCENARIOS
from tests.console.subscriber_routes import API_SCENARIOS as SUBSCRIBER_API_SCENARIOS
from tests.console.subscriber_routes import CONSOLE_SCENARIOS as SUBSCRIBER_SCENARIOS
from tests.routes import (
    UNSET,
    api_operations,
    console_objects,
    console_routes,
    real_url,
)

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    """What the scenarios act on: the usual components, one of each thing a console URL can name (an
    open incident, an upcoming maintenance, another user, ... see tests/routes.py) and a console owner
    signed in on `client`."""

    client: object
    owner: object
    components: dict
    objects: dict
    setup_tokens: dict = field(default_factory=dict)

    @property
    def incident(self):
        return self.objects["incident"]

    @property
    def maintenance(self):
        return self.objects["maintenance"]

    def setup(self, method: str, path: str, body: dict | None = None, by: str = "setup script") -> dict:
        """Prepare a scenario through the API, with a token of its own (`by`), before the write measured."""
        if by not in self.setup_tokens:  # made by a person of its own: a token acts for whoever made it
            person = get_user_model().objects.create_user(by.replace(" ", "."))
            Profile.objects.create(user=person, role="admin")
            self.setup_tokens[by] = create_token(by, "admin", created_by=person)[1]
        response = self.client.generic(method, "/api/v1" + path, b"" if body is None else json.dumps(body),
                                       content_type="application/json",
                                       headers={"Authorization": f"Bearer {self.setup_tokens[by]}"})
        assert 200 <= response.status_code < 300, f"setting up: {method} {path}: {response.content[:300]!r}"
        return response.json() if response.content else {}


@pytest.fixture
def world(client, components, settings) -> World:
    settings.SMTP_CONFIGURED = True  # password reset by e-mail is offered; mail stays in memory
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OUTBOUND_ALLOW = (ipaddress.ip_network("127.0.0.1/32"),)  # team alert channels on this machine
    objects = console_objects(components)
    services.set_override(components["mail"], "degraded_performance", reason="Provider reports delays")
    owner = get_user_model().objects.create_user("olivia", email="olivia@example.com", password=PASSWORD)
    Profile.objects.create(user=owner, role="owner")
    client.force_login(owner)
    return World(client, owner, components, objects)


def _new_entries(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


# --- the management API --------------------------------------------------------------------------


def _id(obj) -> str:
    return obj.public_id


# "METHOD /path" -> (world, ) -> (path parameters, JSON body): a valid request that changes something.
API_SCENARIOS: dict[str, Callable[[World], tuple[dict, dict | None]]] = {
    "PATCH /page": lambda w: ({}, {"name": "Example Status (renamed)"}),
    "POST /groups": lambda w: ({}, {"name": "France"}),
    "PATCH /groups/{group_id}": lambda w: ({"group_id": _id(w.components["zh1"].group)}, {"name": "Schweiz"}),
    "POST /components": lambda w: ({}, {"name": "zh3.cluster", "group": "Switzerland"}),
    "PATCH /components/{component_id}": lambda w: ({"component_id": _id(w.components["zh2"])},
                                                    {"description": "The ZH2 cluster"}),
    "POST /components/{component_id}/override": lambda w: ({"component_id": _id(w.components["de2"])},
                                                           {"status": "partial_outage", "reason": "Power work"}),
    "DELETE /components/{component_id}/override": lambda w: ({"component_id": _id(w.components["mail"])}, None),
    "DELETE /components/{component_id}": lambda w: ({"component_id": _id(w.components["de2"])}, None),
    "DELETE /groups/{group_id}": lambda w: ({"group_id": w.setup("POST", "/groups", {"name": "Empty"})["id"]}, None),
    "POST /incidents": lambda w: ({}, {"name": "Slow API", "impact": "minor", "body": "Requests are slow.",
                                       "components": {"Germany/de2.compact": "degraded_performance"}}),
    "PATCH /incidents/{incident_id}": lambda w: ({"incident_id": _id(w.incident)}, {"impact": "critical"}),
    "POST /incidents/{incident_id}/updates": lambda w: ({"incident_id": _id(w.incident)},
                                                        {"status": "identified", "body": "A failed switch."}),
    "POST /maintenance": lambda w: ({}, {
        "name": "Network upgrade", "scheduled_for": (timezone.now() + timedelta(days=3)).isoformat(),
        "scheduled_until": (timezone.now() + timedelta(days=3, hours=1)).isoformat(), "components": ["zh2.cluster"]}),
    "PATCH /maintenance/{maintenance_id}": lambda w: ({"maintenance_id": _id(w.maintenance)},
                                                      {"name": "Storage upgrade in DE1 (part 1)"}),
    "POST /maintenance/{maintenance_id}/updates": lambda w: ({"maintenance_id": _id(w.maintenance)},
                                                             {"status": "in_progress", "body": "Started early."}),
}


# Postmortems need a past incident to cover; review, approval and publication each need the steps before
# them, taken by other tokens (an author may not approve their own postmortem).
def _when(hours_ago: float) -> str:
    return (timezone.now() - timedelta(hours=hours_ago)).isoformat()


def _postmortem(w: World, **fields) -> dict:
    past = w.setup("POST", "/incidents", {
        "name": "Storage outage", "impact": "major", "body": "Volumes are unreachable.",
        "started_at": _when(30), "resolved_at": _when(28), "components": {"zh1.single": "major_outage"},
        "resolution_body": "Volumes are reachable again."})
    return w.setup("POST", "/postmortems", {"incidents": [past["id"]], "title": "Storage outage", **fields})


def _kind(w: World) -> dict:
    return w.setup("POST", "/postmortems/action-item-kinds", {"name": "Game days"})


def _template(w: World) -> dict:
    return w.setup("POST", "/postmortems/templates", {"name": "Downtime report", "sections": ["summary", "impact"]})


def _with_item(w: World) -> tuple[dict, dict]:
    pm = _postmortem(w)
    kind = w.setup("GET", "/postmortems/action-item-kinds")[0]["name"]
    pm = w.setup("POST", f"/postmortems/{pm['id']}/action-items", {"title": "Alert on volume latency", "kind": kind})
    return pm, pm["action_items"][0]


def _in_review(w: World) -> dict:
    pm = _postmortem(w)
    return w.setup("POST", f"/postmortems/{pm['id']}/request-review", {})


def _approved(w: World) -> dict:
    pm = _in_review(w)
    return w.setup("POST", f"/postmortems/{pm['id']}/approve", by="reviewer script")


def _published(w: World) -> dict:
    pm = _approved(w)
    return w.setup("POST", f"/postmortems/{pm['id']}/publish")


def _first_entry(w: World) -> tuple[dict, dict]:
    pm = _postmortem(w)
    return pm, pm["timeline"][0]


API_SCENARIOS.update({
    "POST /postmortems/action-item-kinds": lambda w: ({}, {"name": "Game days"}),
    "PATCH /postmortems/action-item-kinds/{kind_id}": lambda w: ({"kind_id": _kind(w)["id"]},
                                                                {"name": "Game days and drills"}),
    "DELETE /postmortems/action-item-kinds/{kind_id}": lambda w: ({"kind_id": _kind(w)["id"]}, None),
    "POST /postmortems/templates": lambda w: ({}, {"name": "Downtime report", "sections": ["summary"]}),
    "PATCH /postmortems/templates/{template_id}": lambda w: ({"template_id": _template(w)["id"]},
                                                            {"description": "For an outage customers noticed."}),
    "DELETE /postmortems/templates/{template_id}": lambda w: ({"template_id": _template(w)["id"]}, None),
    "POST /postmortems": lambda w: ({}, {"incidents": [_id(w.incident)], "title": "Volumes unreachable"}),
    "PATCH /postmortems/{postmortem_id}": lambda w: ({"postmortem_id": _postmortem(w)["id"]},
                                                     {"summary": "A failed switch cut ZH1 off its volumes."}),
    "PUT /postmortems/{postmortem_id}/timeline": lambda w: ({"postmortem_id": _postmortem(w)["id"]}, {
        "entries": [{"at": _when(30), "text": "Volumes stop answering"}, {"at": _when(28), "text": "Switch replaced"}]}),
    "POST /postmortems/{postmortem_id}/timeline": lambda w: ({"postmortem_id": _postmortem(w)["id"]},
                                                             {"at": _when(29), "text": "On-call paged"}),
    "POST /postmortems/{postmortem_id}/timeline/prefill": lambda w: (
        {"postmortem_id": _postmortem(w, prefill_timeline=False)["id"]}, None),
    "PATCH /postmortems/{postmortem_id}/timeline/{entry_id}": lambda w: (
        dict(zip(("postmortem_id", "entry_id"), (x["id"] for x in _first_entry(w)), strict=True)),
        {"text": "Volumes stop answering in ZH1"}),
    "DELETE /postmortems/{postmortem_id}/timeline/{entry_id}": lambda w: (
        dict(zip(("postmortem_id", "entry_id"), (x["id"] for x in _first_entry(w)), strict=True)), None),
    "PUT /postmortems/{postmortem_id}/figures": lambda w: ({"postmortem_id": _postmortem(w)["id"]},
                                                           {"figures": [{"label": "Volumes affected", "value": "312"}]}),
    "POST /postmortems/{postmortem_id}/action-items": lambda w: (
        {"postmortem_id": _postmortem(w)["id"]},
        {"title": "Redundant uplinks", "kind": w.setup("GET", "/postmortems/action-item-kinds")[0]["name"]}),
    "PATCH /postmortems/{postmortem_id}/action-items/{item_id}": lambda w: (
        dict(zip(("postmortem_id", "item_id"), (x["id"] for x in _with_item(w)), strict=True)), {"owner": "rosa"}),
    "DELETE /postmortems/{postmortem_id}/action-items/{item_id}": lambda w: (
        dict(zip(("postmortem_id", "item_id"), (x["id"] for x in _with_item(w)), strict=True)), None),
    "POST /postmortems/{postmortem_id}/request-review": lambda w: ({"postmortem_id": _postmortem(w)["id"]}, {}),
    "POST /postmortems/{postmortem_id}/approve": lambda w: ({"postmortem_id": _in_review(w)["id"]}, None),
    "POST /postmortems/{postmortem_id}/publish": lambda w: ({"postmortem_id": _approved(w)["id"]}, None),
    "POST /postmortems/{postmortem_id}/unpublish": lambda w: ({"postmortem_id": _published(w)["id"]}, None),
})
API_SCENARIOS.update(SUBSCRIBER_API_SCENARIOS)
API_SCENARIOS.update(MONITOR_API_SCENARIOS)


def _first_batch_of_a_location(w: World) -> tuple[dict, dict]:
    """A remote probe's results are observations, sent every second or so: the one write someone made
    is a new location starting to report, and that first batch is what is audited (the later batches
    count on the location, see signalpost/monitors/locations.py). The scenario is that first batch; a
    second batch of the same location recording a second entry would fail the "exactly one" rule the
    other way round, in tests/monitors/test_remote_locations.py."""
    from signalpost.monitors.models import Monitor

    monitor = Monitor.objects.create(name="API health", target="https://api.example.com/health")
    return {}, {"location": "zurich", "batch": "8a2f7c4e-2b1d-4c55-9d0e-6f1b2a3c4d5e", "results": [
        {"monitor": monitor.public_id, "at": _when(0.01), "verdict": "up", "latency_ms": 40, "status_code": 200}]}


API_SCENARIOS["POST /probe/results"] = _first_batch_of_a_location

API_WRITES = [op for op in api_operations() if op.method in WRITE_METHODS]


def test_every_api_write_operation_has_an_audit_scenario():
    missing = [op.key for op in API_WRITES if op.key not in API_SCENARIOS]
    stale = [key for key in API_SCENARIOS if key not in {op.key for op in API_WRITES}]
    assert not missing, "API write operations without a scenario in API_SCENARIOS: " + ", ".join(missing)
    assert not stale, "API_SCENARIOS for operations that no longer exist: " + ", ".join(stale)


@pytest.mark.parametrize("op", API_WRITES, ids=[op.key for op in API_WRITES])
def test_an_api_write_records_one_entry_naming_the_token(world, op):
    if op.key not in API_SCENARIOS:
        pytest.fail(f"no scenario for {op.key} in API_SCENARIOS")
    token, plain = create_token("chat-ops bot", "admin", created_by=world.owner)
    params, body = API_SCENARIOS[op.key](world)
    before = AuditEvent.objects.count()
    script = Client()  # a script's request: the token, no console session
    # A body is JSON, or (bytes, media type) for an operation that takes another kind (a CSV import).
    data, kind = body if isinstance(body, tuple) else (b"" if body is None else json.dumps(body), "application/json")
    response = script.generic(op.method, op.url(**params), data, content_type=kind,
                              headers={"Authorization": f"Bearer {plain}"})
    assert 200 <= response.status_code < 300, f"{op.key}: {response.status_code} {response.content[:300]!r}"
    entries = _new_entries(before)
    assert len(entries) == 1, f"{op.key} recorded {[e.action for e in entries]}"
    entry = entries[0]
    assert (entry.actor_kind, entry.source, entry.address) == ("token", "api", "127.0.0.1")
    assert token.name in entry.actor and entry.actor_token_id == token.pk
    assert entry.actor_user_id == world.owner.pk  # and acting for the person who created it


# --- the console -----------------------------------------------------------------------------------

# Console views that take a POST and, by design, write nothing.
READ_ONLY_POSTS = {"console:preview"}


def _login(w: World) -> tuple[str, dict]:
    w.client.logout()
    return reverse("console:login"), {"username": w.owner.username, "password": PASSWORD}


def _logout(w: World) -> tuple[str, dict]:
    return reverse("console:logout"), {}


def _login_code(w: World) -> tuple[str, dict]:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=w.owner, name="phone", confirmed=True)
    w.client.logout()
    w.client.force_login(w.owner)  # the password step done; the code step to go
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return reverse("console:login_code"), {"code": f"{code:0{device.digits}d}"}


def _invitation_accept(w: World) -> tuple:
    from tests.routes import INVITATION_TOKEN

    w.client.logout()
    url = reverse("console:invitation_accept", args=[INVITATION_TOKEN])
    data = {"username": "new.colleague", "password": PASSWORD, "password_again": PASSWORD}
    return url, data, {"actor": "new.colleague", "actor_user_id": ...}


def _password_reset(w: World) -> tuple:
    w.client.logout()
    return reverse("console:password_reset"), {"email": w.owner.email}, {
        "actor_kind": "visitor", "actor": "visitor", "actor_user_id": None}


def _password_reset_confirm(w: World) -> tuple:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    w.client.logout()
    user = w.objects["user"]
    url = reverse("console:password_reset_confirm",
                  args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)])
    new = "an entirely new passphrase"
    return url, {"new_password": new, "new_password_again": new}, {
        "actor_kind": ..., "actor": user.username, "actor_user_id": ...}


# Console route -> (world) -> (URL, form data): a valid submission that changes something, whose one
# entry names the signed-in owner. A write made by a visitor (accepting an invitation, resetting a
# password) returns a third item, the fields its entry has instead (... for "any value").
CONSOLE_SCENARIOS: dict[str, Callable[[World], tuple]] = {
    "console:login": _login,
    "console:logout": _logout,
    "console:login_code": _login_code,
    "console:invitation_accept": _invitation_accept,
    "console:password_reset": _password_reset,
    "console:password_reset_confirm": _password_reset_confirm,
    **ACCOUNTS_SCENARIOS,
    **EVENTS_AND_COMPONENTS_SCENARIOS,
    **POSTMORTEM_SCENARIOS,
    **SUBSCRIBER_SCENARIOS,
    **MONITOR_SCENARIOS,
}

CONSOLE = [route for route in console_routes() if route.role is not UNSET]


def _answers_post(world: World, route) -> str | int:
    world.client.force_login(world.owner)  # again for each route: a logout route signs the owner out
    try:
        return world.client.post(real_url(route, world.objects), {}).status_code
    except Exception as error:  # noqa: BLE001 - one broken view must not hide the others from the list
        return f"an error ({type(error).__name__}: {error})"


def test_every_console_route_that_takes_a_post_has_an_audit_scenario(world):
    missing = []
    for route in CONSOLE:
        if route.name in READ_ONLY_POSTS or route.name in CONSOLE_SCENARIOS:
            continue
        status = _answers_post(world, route)
        if status != 405:
            missing.append(f"{route.name} ({route.route}) answered {status} to an empty POST")
    stale = [name for name in CONSOLE_SCENARIOS if name not in {route.name for route in CONSOLE}]
    assert not missing, (
        "console routes that take a POST but have no scenario in CONSOLE_SCENARIOS (a page that only "
        "shows something should refuse a POST with 405: @require_safe):\n  " + "\n  ".join(missing))
    assert not stale, "CONSOLE_SCENARIOS for routes that no longer exist: " + ", ".join(stale)


@pytest.mark.parametrize("name", sorted(CONSOLE_SCENARIOS))
def test_a_console_write_records_one_entry_naming_the_user(world, name):
    url, data, *instead = CONSOLE_SCENARIOS[name](world)
    expected = {"actor_kind": "user", "source": "console", "actor": world.owner.username,
                "actor_user_id": world.owner.pk, "address": "127.0.0.1", **(instead[0] if instead else {})}
    expected = {field: value for field, value in expected.items() if value is not ...}
    before = AuditEvent.objects.count()
    response = world.client.post(url, data)
    assert response.status_code < 400, f"{name}: {response.status_code}"
    entries = _new_entries(before)
    assert len(entries) == 1, f"{name} recorded {[e.action for e in entries]}"
    assert {field: getattr(entries[0], field) for field in expected} == expected, entries[0].action


@pytest.mark.parametrize("name", sorted(READ_ONLY_POSTS))
def test_a_read_only_post_records_nothing(world, name):
    route = next(route for route in CONSOLE if route.name == name)
    before = AuditEvent.objects.count()
    response = world.client.post(route.url(), {"body": "**Update:** the *fix* is deployed."})
    assert response.status_code == 200
    assert AuditEvent.objects.count() == before


# --- the public page's subscription routes -------------------------------------------------------


def _subscriber(w: World, confirmed: bool = True):
    from signalpost.notify.models import Subscriber

    return Subscriber.objects.create(channel="email", address="reader@example.com", address_key="reader@example.com",
                                     confirmed_at=timezone.now() if confirmed else None)


def _link(kind: str, subscriber) -> str:
    from django.conf import settings

    from signalpost.notify import links

    return getattr(links, f"{kind}_url")(subscriber).removeprefix(settings.SITE_URL)


# Public route -> (world) -> (URL, form data): a reader's write, whose one entry names a visitor of the
# public page. The rest of the public page is the published snapshot, which takes no writes.
PUBLIC_SCENARIOS: dict[str, Callable[[World], tuple[str, dict]]] = {
    "subscribe": lambda w: ("/subscribe", {"channel": "email", "email": "reader@example.com", "scope": "all"}),
    "subscription_confirm": lambda w: (_link("confirm", _subscriber(w, confirmed=False)), {}),
    "subscription_manage": lambda w: (_link("manage", _subscriber(w)),
                                      {"scope": "some", "components": [w.components["zh1"].public_id]}),
    "subscription_unsubscribe": lambda w: (_link("unsubscribe", _subscriber(w)), {}),
}


def test_every_subscription_route_of_the_public_page_has_an_audit_scenario():
    from django.urls import get_resolver

    from tests.routes import _walk

    posting = set()
    for namespace, name, route, view, params in _walk(get_resolver().url_patterns, None, "", {}):
        if namespace is None and route.startswith("subscri"):
            posting.add(name)
    assert posting == set(PUBLIC_SCENARIOS)


@pytest.mark.parametrize("name", sorted(PUBLIC_SCENARIOS))
def test_a_public_write_records_one_entry_naming_a_visitor(world, name):
    url, data = PUBLIC_SCENARIOS[name](world)
    world.client.logout()
    before = AuditEvent.objects.count()
    response = world.client.post(url, data)
    assert response.status_code < 400, f"{name}: {response.status_code}"
    entries = _new_entries(before)
    assert len(entries) == 1, f"{name} recorded {[e.action for e in entries]}"
    entry = entries[0]
    assert (entry.actor_kind, entry.actor, entry.source, entry.address, entry.actor_user_id) == (
        "visitor", "visitor", "public", "127.0.0.1", None), entry.action


def test_a_failed_login_is_recorded_as_the_visitor(client, db):
    before = AuditEvent.objects.count()
    response = client.post(reverse("console:login"), {"username": "mallory", "password": "wrong password!"})
    assert response.status_code == 400
    [entry] = _new_entries(before)
    assert (entry.action, entry.actor_kind, entry.object_repr, entry.address) == (
        "user.login_failed", "visitor", "mallory", "127.0.0.1")


# --- the worker ------------------------------------------------------------------------------------


def test_the_worker_records_its_transitions_as_the_system(components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Storage upgrade", scheduled_for=now - timedelta(minutes=2), scheduled_until=now - timedelta(minutes=1),
        components=[components["zh1"]])
    before = AuditEvent.objects.count()
    # Whoever else is acting in this process, the worker's own writes are the system's.
    with audit.acting(audit.cli_actor()):
        Worker(only=["transitions"]).run_once()
    started, completed = _new_entries(before)
    assert (started.action, started.object_id) == ("maintenance.start", maintenance.public_id)
    assert (started.actor_kind, started.actor, started.source) == ("system", "system", "worker")
    assert (completed.action, completed.actor_kind, completed.source) == ("maintenance.complete", "system", "worker")


# --- append-only -----------------------------------------------------------------------------------


@pytest.fixture
def entry(db) -> AuditEvent:
    with audit.acting(audit.cli_actor()):
        return audit.record("page.update", object_type="page", object_id="1", before={"name": "A"},
                            after={"name": "B"})


def test_the_application_cannot_change_or_delete_an_entry(entry):
    entry.action = "page.nothing"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=entry.pk).update(action="page.nothing")
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=entry.pk).action == "page.update"


def test_the_database_refuses_an_update_by_sql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET actor = %s WHERE id = %s", ["someone else", entry.pk])
    assert AuditEvent.objects.get(pk=entry.pk).actor == entry.actor


@pytest.mark.postgres_only
def test_the_database_refuses_a_delete_by_sql(entry):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE allowed: its test database is emptied with DELETE between tests")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [entry.pk])
    assert AuditEvent.objects.filter(pk=entry.pk).exists()


def test_a_token_is_named_in_its_entries_even_after_it_is_revoked(world):
    token, plain = create_token("deploy script", "write")
    response = Client().patch(f"/api/v1/incidents/{world.incident.public_id}", {"name": "Volumes unreachable"},
                            content_type="application/json", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    revoke_token(ApiToken.objects.get(pk=token.pk))
    entry = AuditEvent.objects.get(action="incident.edit")
    assert "deploy script" in entry.actor and entry.after == {"name": "Volumes unreachable"}
