"""The console's URL map and the management API's operations as data, for the table-driven tests
(tests/test_routes_roles.py, tests/test_audit_coverage.py, tests/a11y). Both are read from the live
configuration, so a route added anywhere is seen without editing a list here."""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, UUIDConverter

from signalpost.accounts.models import Profile

ROLES = ["viewer", "responder", "admin", "owner"]  # lowest first
SCOPES = ["read", "write", "admin"]  # lowest first
MISSING_ID = "nosuchthing0"  # looks like a public id (12 characters), names nothing
UNSET = object()  # a view that declares no role at all


@dataclass(frozen=True)
class ConsoleRoute:
    name: str  # "console:dashboard"
    route: str  # "incidents/<str:public_id>", for messages
    view: Callable
    role: object  # "viewer".."owner"; None for a public view; UNSET when the view declares nothing
    params: dict = field(default_factory=dict)  # parameter name -> converter

    def url(self, **values) -> str:
        """The route's URL; parameters not given get a placeholder naming nothing."""
        kwargs = {name: values.get(name, placeholder(converter)) for name, converter in self.params.items()}
        return reverse(self.name, kwargs=kwargs)


def placeholder(converter) -> object:
    if isinstance(converter, IntConverter):
        return 987654321
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=0)
    if isinstance(converter, SlugConverter):
        return MISSING_ID
    return MISSING_ID  # str, path and anything else that takes text


def declared_role(view: Callable) -> object:
    """The role a view declares (signalpost.accounts.roles), looking through decorators that wrap it."""
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        if hasattr(view, "required_role"):
            return view.required_role
        view = getattr(view, "__wrapped__", None)
    return UNSET


def _walk(patterns, namespace: str | None, prefix: str, converters: dict) -> Iterator[tuple]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        params = {**converters, **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, inner, route, params)
        elif isinstance(pattern, URLPattern):
            for group in pattern.pattern.regex.groupindex:  # a re_path's named groups
                params.setdefault(group, None)
            yield namespace, pattern.name, route, pattern.callback, params


def console_routes() -> list[ConsoleRoute]:
    """Every route under the "console" namespace. An unnamed route cannot be reached by reverse() and
    is listed with a name that says so (the role test then fails on it)."""
    found = []
    for namespace, name, route, view, params in _walk(get_resolver().url_patterns, None, "", {}):
        if namespace is None or namespace.split(":")[0] != "console":
            continue
        found.append(ConsoleRoute(f"{namespace}:{name}" if name else f"<unnamed {route}>", route, view,
                                  declared_role(view), params))
    return found


@dataclass(frozen=True)
class ApiOperation:
    method: str
    path: str  # "/incidents/{incident_id}", under /api/v1
    scope: str | None  # read, write, admin; None when the operation has no token auth

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, **values) -> str:
        return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), MISSING_ID)), self.path)


def api_operations() -> list[ApiOperation]:
    """Every operation of /api/v1, with the scope its auth needs. (django-ninja keeps its bound routers
    private; this is the one place that reaches in.)"""
    from signalpost.api.views import api

    api.urls  # noqa: B018 - binds the routers, as mounting the API does
    found = []
    for router in api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                scopes = [getattr(callback, "scope", None) for callback in operation.auth_callbacks]
                scope = scopes[0] if len(scopes) == 1 else (None if not scopes else "/".join(map(str, scopes)))
                for method in operation.methods:
                    found.append(ApiOperation(method, (router.prefix or "") + path, scope))
    return found


def make_user(role: str, username: str | None = None, password: str | None = None):
    """A console user with a role. Without a password the account is made quickly (no hashing), for
    clients that sign in with force_login."""
    user = get_user_model().objects.create_user(username or f"{role}-user", password=password)
    Profile.objects.create(user=user, role=role)
    return user


def row_counts() -> dict[str, int]:
    """How many rows each of Signalpost's own tables holds: a refused request must change none."""
    return {
        model._meta.label: model._base_manager.count()
        for config in apps.get_app_configs() if config.name.startswith("signalpost.")
        for model in config.get_models()
    }


# --- real objects for routes that need one ---------------------------------------------------------

INVITATION_TOKEN = "invitation-token-for-tests"


def console_objects(components: dict) -> dict:
    """One of each thing a console URL can name, so a walker reaches real pages instead of 404s: an open
    incident (and its first update), an upcoming maintenance, another user, an open invitation (its
    link's token is INVITATION_TOKEN), an API token and a message template."""
    import hashlib
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.accounts.models import Invitation
    from signalpost.accounts.tokens import create_token
    from signalpost.status import services

    now = timezone.now()
    incident = services.open_incident(
        name="Volumes unreachable in ZH1", impact="major", body="We are investigating.",
        components={components["zh1"]: "major_outage"}, display_at=now - timedelta(minutes=20))
    maintenance = services.schedule_maintenance(
        name="Storage upgrade in DE1", scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=2), body="We upgrade the storage cluster.",
        components=[components["de1"]])
    colleague = make_user("responder", "rosa")
    invitation = Invitation.objects.create(
        email="new.colleague@example.com", role="viewer", digest=hashlib.sha256(INVITATION_TOKEN.encode()).hexdigest(),
        expires_at=now + timedelta(days=7))
    token, _ = create_token("deploy script", "write")
    from signalpost.events.models import Handling

    # An event the publisher gave up on (its attempts ran out), for the dashboard's Retry.
    set_aside = Handling.objects.filter(consumer="publisher").order_by("id").first()
    Handling.objects.filter(pk=set_aside.pk).update(state="set_aside", attempts=8,
                                                    last_error="rendering / failed: OverflowError")
    objects = {
        "incident": incident, "update": incident.updates.first(), "maintenance": maintenance,
        "component": components["zh2"], "group": components["zh2"].group, "user": colleague,
        "invitation": invitation, "token": token, "handling": set_aside,
    }
    if apps.is_installed("signalpost.postmortems"):
        objects.update(_postmortem_objects(components))
    if apps.is_installed("signalpost.notify"):
        objects.update(_notify_objects(incident))
    if apps.is_installed("signalpost.monitors"):
        objects.update(_monitor_objects(components))
    if apps.is_installed("signalpost.console"):
        try:
            template_model = apps.get_model("console", "MessageTemplate")
        except LookupError:
            template_model = None
        if template_model is not None:
            objects["template"] = template_model.objects.first() or template_model.objects.create(
                name="Investigating", body="We are investigating reports of problems.")
    return objects


def _postmortem_objects(components: dict) -> dict:
    """A draft postmortem of a past incident, with its prefilled timeline and one action item."""
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.postmortems import services as postmortems
    from signalpost.status import services

    now = timezone.now()
    past = services.backfill_incident(
        name="Storage outage", impact="major", body="Volumes are unreachable.",
        started_at=now - timedelta(days=2, hours=2), resolved_at=now - timedelta(days=2),
        components={components["zh2"]: "partial_outage"})
    postmortem = postmortems.create_postmortem(incidents=[past], title="Storage outage")
    kind = postmortems.action_item_kinds()[0]
    item = postmortems.add_action_item(postmortem, title="Alert on volume latency", kind=kind)
    template = postmortems.create_template(name="Customer-facing outage", sections=["summary", "impact", "closing"],
                                           starter={"summary": "What did customers see?"})
    return {"postmortem": postmortem, "entry": postmortem.timeline.first(), "action_item": item, "item_kind": kind,
            "postmortem_template": template}


def _notify_objects(incident) -> dict:
    """A paused webhook subscriber, a failed delivery to it with one attempt, a team alert channel and
    the team's own wording of the incident e-mail."""
    from django.utils import timezone

    from signalpost.notify.models import Attempt, Delivery, Subscriber, TeamChannel

    subscriber = Subscriber.objects.create(
        channel="webhook", address="https://hooks.example.com/status", address_key="https://hooks.example.com/status",
        secret="whsec_c2lnbmFscG9zdA==", confirmed_at=timezone.now(), paused_at=timezone.now(),
        paused_reason="10 failures within an hour")
    delivery = Delivery.objects.create(
        key=f"1.{subscriber.public_id}", event_id=1, event_kind="incident.opened", subject=f"incident:{incident.public_id}",
        about=incident.name, subscriber=subscriber, channel="webhook", address=subscriber.address, state="failed",
        attempts=10, last_error="HTTP 500")
    Attempt.objects.create(delivery=delivery, ok=False, status=500, error="HTTP 500")
    channel = TeamChannel.objects.create(name="On-call", url="json://127.0.0.1:9/alerts", shown_url="json://127.0.0.1:9/…",
                                         kinds=["delivery.failed"])
    from signalpost.notify.models import EmailTemplate

    own = EmailTemplate.objects.create(kind="incident", subject="[{{ page }}] {{ name }} ({{ status }})")
    return {"subscriber": subscriber, "delivery": delivery, "team_channel": channel, "email_template": own}


def _monitor_objects(components: dict) -> dict:
    """A monitor reporting on a component, down at one location after three failed checks."""
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.monitors import store
    from signalpost.monitors.models import Monitor, MonitorComponent

    monitor = Monitor.objects.create(name="Shop front", target="https://shop.example.com/")
    MonitorComponent.objects.create(monitor=monitor, component=components["zh2"], down_status="partial_outage")
    now = timezone.now()
    store.record("zurich", [store.Outcome(monitor.pk, now - timedelta(seconds=s), "down", 31, 503,
                                          "HTTP 503 Service Unavailable") for s in (90, 60, 30)])
    return {"monitor": monitor}


# (first segment of the console route, parameter) -> how to name the object in the URL
_PARAMS: dict[tuple[str, str], Callable[[dict], object]] = {
    ("incidents", "public_id"): lambda o: o["incident"].public_id,
    ("maintenance", "public_id"): lambda o: o["maintenance"].public_id,
    ("updates", "public_id"): lambda o: o["update"].public_id,
    ("components", "public_id"): lambda o: o["component"].public_id,
    ("groups", "public_id"): lambda o: o["group"].public_id,
    ("templates", "pk"): lambda o: o["template"].pk,
    ("users", "user_id"): lambda o: o["user"].pk,
    ("invitations", "invitation_id"): lambda o: o["invitation"].pk,
    ("invitations", "token"): lambda o: INVITATION_TOKEN,
    ("tokens", "token_id"): lambda o: o["token"].pk,
    ("postmortems", "public_id"): lambda o: o["postmortem"].public_id,
    ("postmortems", "entry_id"): lambda o: o["entry"].public_id,
    ("postmortems", "item_id"): lambda o: o["action_item"].public_id,
    ("action-items", "kind_id"): lambda o: o["item_kind"].public_id,
    ("action-items", "item_id"): lambda o: o["action_item"].public_id,
    ("postmortem-templates", "template_id"): lambda o: o["postmortem_template"].public_id,
    ("subscribers", "public_id"): lambda o: o["subscriber"].public_id,
    ("deliveries", "delivery_id"): lambda o: o["delivery"].pk,
    ("team-alerts", "channel_id"): lambda o: o["team_channel"].pk,
    ("email-templates", "kind"): lambda o: o["email_template"].kind,
    ("monitors", "public_id"): lambda o: o["monitor"].public_id,
}


def real_url(route: ConsoleRoute, objects: dict) -> str:
    """The route's URL naming real objects where the walker knows one; a placeholder elsewhere."""
    segment = route.route.removeprefix("console/").split("/")[0]
    values = {}
    for name in route.params:
        find = _PARAMS.get((segment, name))
        if find is not None:
            try:
                values[name] = find(objects)
            except (KeyError, AttributeError):
                pass
    return route.url(**values)
