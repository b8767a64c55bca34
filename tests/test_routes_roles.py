"""Who may reach what, over every route: each console view declares the least role it needs, each API
operation the least token scope, and both are held to the tables below. A new route fails this file
until it is added to its table, so nobody adds a page or an endpoint without deciding who may use it.

The routes are read from the live URL map and the API (tests/routes.py); the tables are the decision,
written down. When a table test fails, its message prints the table as the code now declares it, to
review and paste."""

import json

import pytest

from tests.routes import (
    ROLES,
    SCOPES,
    UNSET,
    api_operations,
    console_routes,
    make_user,
    row_counts,
)

# Console route -> least role (None: a public page, @public_view). Reading pages: viewer; writing
# incidents, maintenance, overrides, postmortems: responder; components, page settings, users, tokens
# and the audit log: admin.
EXPECTED = {
    "console:dashboard": "viewer",
    "console:preview": "responder",
    "console:event_retry": "responder",
    "console:incidents": "viewer",
    "console:incident_new": "responder",
    "console:incident_backfill": "responder",
    "console:incident": "viewer",
    "console:incident_update": "responder",
    "console:incident_resolve": "responder",
    "console:incident_edit": "responder",
    "console:update_edit": "responder",
    "console:maintenance": "viewer",
    "console:maintenance_new": "responder",
    "console:maintenance_detail": "viewer",
    "console:maintenance_update": "responder",
    "console:maintenance_start": "responder",
    "console:maintenance_complete": "responder",
    "console:maintenance_cancel": "responder",
    "console:maintenance_impact": "responder",
    "console:maintenance_reminders": "responder",
    "console:component_remove": "admin",
    "console:group_remove": "admin",
    "console:templates": "responder",
    "console:template_new": "responder",
    "console:template_edit": "responder",
    "console:template_delete": "responder",
    "console:components": "viewer",
    "console:component_new": "admin",
    "console:components_reorder": "admin",
    "console:components_move": "admin",
    "console:component": "viewer",
    "console:component_edit": "admin",
    "console:component_visibility": "admin",
    "console:component_override": "responder",
    "console:component_override_clear": "responder",
    "console:component_sla": "viewer",
    "console:component_sla_csv": "viewer",
    "console:group_new": "admin",
    "console:group": "viewer",
    "console:group_edit": "admin",
    "console:group_visibility": "admin",
    "console:settings": "admin",
    "console:postmortems": "viewer",
    "console:postmortem_new": "responder",
    "console:postmortem": "viewer",
    "console:postmortem_save": "responder",
    "console:postmortem_figures": "responder",
    "console:postmortem_entry_add": "responder",
    "console:postmortem_prefill": "responder",
    "console:postmortem_entry_edit": "responder",
    "console:postmortem_entry_remove": "responder",
    "console:postmortem_item_add": "responder",
    "console:postmortem_item_edit": "responder",
    "console:postmortem_item_remove": "responder",
    "console:postmortem_request_review": "responder",
    "console:postmortem_approve": "responder",
    "console:postmortem_publish": "responder",
    "console:postmortem_unpublish": "responder",
    "console:postmortem_versions": "viewer",
    "console:postmortem_markdown": "viewer",
    "console:postmortem_print": "viewer",
    "console:action_items": "viewer",
    "console:action_item_kinds": "admin",
    "console:action_item_kind_add": "admin",
    "console:action_item_kind_rename": "admin",
    "console:action_item_kind_move": "admin",
    "console:action_item_kind_delete": "admin",
    "console:action_item_update": "responder",
    "console:reliability": "viewer",
    "console:reliability_public": "admin",
    "console:postmortem_templates": "responder",
    "console:postmortem_template_new": "admin",
    "console:postmortem_template_edit": "admin",
    "console:postmortem_template_delete": "admin",
    "console:login": None,
    "console:login_code": None,
    "console:logout": None,
    "console:account": "viewer",
    "console:account_password": "viewer",
    "console:account_2fa_start": "viewer",
    "console:account_2fa_confirm": "viewer",
    "console:account_2fa_disable": "viewer",
    "console:password_reset": None,
    "console:password_reset_sent": None,
    "console:password_reset_confirm": None,
    "console:users": "admin",
    "console:invitation_new": "admin",
    "console:user_detail": "admin",
    "console:user_role": "admin",
    "console:user_deactivate": "admin",
    "console:user_reactivate": "admin",
    "console:user_reset_2fa": "admin",
    "console:invitation_created": "admin",
    "console:invitation_revoke": "admin",
    "console:invitation_accept": None,
    "console:tokens": "admin",
    "console:token_new": "admin",
    "console:token_created": "admin",
    "console:token_revoke": "admin",
    "console:audit": "admin",
    "console:audit_export_csv": "admin",
    "console:audit_export_json": "admin",
    "console:subscribers": "admin",
    "console:subscriber_new": "admin",
    "console:subscriber_import": "admin",
    "console:subscriber_export": "admin",
    "console:subscriber": "admin",
    "console:subscriber_remove": "admin",
    "console:subscriber_resume": "admin",
    "console:incident_deliveries": "admin",
    "console:maintenance_deliveries": "admin",
    "console:dead_letters": "admin",
    "console:deliveries_retry": "admin",
    "console:delivery": "admin",
    "console:delivery_retry": "admin",
    "console:team_alerts": "admin",
    "console:team_channel_new": "admin",
    "console:team_channel_kinds": "admin",
    "console:team_channel_test": "admin",
    "console:team_channel_remove": "admin",
    "console:email_templates": "admin",
    "console:email_template": "admin",
    "console:email_template_reset": "admin",
    "console:monitors": "viewer",
    "console:monitor_new": "admin",
    "console:monitor": "viewer",
    "console:monitor_edit": "admin",
    "console:monitor_pause": "responder",
    "console:monitor_resume": "responder",
    "console:monitor_remove": "admin",
    "console:monitor_publish_draft": "responder",
}

# "METHOD /path" under /api/v1 -> least token scope. Reading: read; incidents, maintenance, overrides
# and postmortems: write; components, groups, the page and the kinds of action items: admin. Monitors
# as components (admin), but pausing and resuming one as an override (write in the API, responder in
# the console).
EXPECTED_API = {
    "GET /page": "read",
    "PATCH /page": "admin",
    "GET /status": "read",
    "GET /groups": "read",
    "POST /groups": "admin",
    "GET /groups/{group_id}": "read",
    "PATCH /groups/{group_id}": "admin",
    "DELETE /groups/{group_id}": "admin",
    "DELETE /components/{component_id}": "admin",
    "GET /components": "read",
    "POST /components": "admin",
    "GET /components/{component_id}": "read",
    "PATCH /components/{component_id}": "admin",
    "POST /components/{component_id}/override": "write",
    "DELETE /components/{component_id}/override": "write",
    "GET /incidents": "read",
    "POST /incidents": "write",
    "GET /incidents/{incident_id}": "read",
    "PATCH /incidents/{incident_id}": "write",
    "POST /incidents/{incident_id}/updates": "write",
    "GET /incidents/{incident_id}/updates": "read",
    "GET /maintenance": "read",
    "POST /maintenance": "write",
    "GET /maintenance/{maintenance_id}": "read",
    "PATCH /maintenance/{maintenance_id}": "write",
    "POST /maintenance/{maintenance_id}/updates": "write",
    "GET /maintenance/{maintenance_id}/updates": "read",
    "GET /postmortems/templates": "read",
    "POST /postmortems/templates": "admin",
    "GET /postmortems/templates/{template_id}": "read",
    "PATCH /postmortems/templates/{template_id}": "admin",
    "DELETE /postmortems/templates/{template_id}": "admin",
    "GET /postmortems/action-item-kinds": "read",
    "POST /postmortems/action-item-kinds": "admin",
    "PATCH /postmortems/action-item-kinds/{kind_id}": "admin",
    "DELETE /postmortems/action-item-kinds/{kind_id}": "admin",
    "GET /postmortems": "read",
    "POST /postmortems": "write",
    "GET /postmortems/{postmortem_id}": "read",
    "PATCH /postmortems/{postmortem_id}": "write",
    "GET /postmortems/{postmortem_id}/markdown": "read",
    "PUT /postmortems/{postmortem_id}/timeline": "write",
    "POST /postmortems/{postmortem_id}/timeline": "write",
    "POST /postmortems/{postmortem_id}/timeline/prefill": "write",
    "PATCH /postmortems/{postmortem_id}/timeline/{entry_id}": "write",
    "DELETE /postmortems/{postmortem_id}/timeline/{entry_id}": "write",
    "PUT /postmortems/{postmortem_id}/figures": "write",
    "POST /postmortems/{postmortem_id}/action-items": "write",
    "PATCH /postmortems/{postmortem_id}/action-items/{item_id}": "write",
    "DELETE /postmortems/{postmortem_id}/action-items/{item_id}": "write",
    "POST /postmortems/{postmortem_id}/request-review": "write",
    "POST /postmortems/{postmortem_id}/approve": "write",
    "POST /postmortems/{postmortem_id}/publish": "write",
    "POST /postmortems/{postmortem_id}/unpublish": "write",
    "GET /postmortems/{postmortem_id}/versions": "read",
    "GET /postmortems/{postmortem_id}/versions/{number}": "read",
    "GET /postmortems/{postmortem_id}/diff": "read",
    "GET /subscribers": "admin",
    "POST /subscribers": "admin",
    "GET /subscribers/export": "admin",
    "POST /subscribers/import": "admin",
    "GET /subscribers/{subscriber_id}": "admin",
    "DELETE /subscribers/{subscriber_id}": "admin",
    "POST /subscribers/{subscriber_id}/resume": "admin",
    "GET /deliveries": "admin",
    "GET /deliveries/{delivery_id}": "admin",
    "POST /deliveries/{delivery_id}/retry": "admin",
    "GET /probe/monitors": "probe",
    "POST /probe/results": "probe",
    "GET /monitors": "read",
    "POST /monitors": "admin",
    "GET /monitors/{monitor_id}": "read",
    "PATCH /monitors/{monitor_id}": "admin",
    "DELETE /monitors/{monitor_id}": "admin",
    "POST /monitors/{monitor_id}/pause": "write",
    "POST /monitors/{monitor_id}/resume": "write",
}

CONSOLE = console_routes()
GUARDED = [route for route in CONSOLE if isinstance(route.role, str)]
BELOW = [(route, role) for route in GUARDED for role in ROLES[:ROLES.index(route.role)]]
AT_OR_ABOVE = [(route, role) for route in GUARDED for role in ROLES[ROLES.index(route.role):]]
API = api_operations()
API_BELOW = [(op, scope) for op in API if op.scope in SCOPES for scope in SCOPES[:SCOPES.index(op.scope)]]
API_ENOUGH = [(op, scope) for op in API if op.scope in SCOPES for scope in SCOPES[SCOPES.index(op.scope):]]


def _table(name: str, table: dict) -> str:
    lines = "\n".join(f'    "{key}": {"None" if value is None else json.dumps(value)},' for key, value in table.items())
    return f"{name} = {{\n{lines}\n}}"


def _compare(name: str, expected: dict, actual: dict) -> list[str]:
    problems = [f"{key}: not in {name} (it declares {actual[key]!r}): decide who may use it"
                for key in actual if key not in expected]
    problems += [f"{key}: in {name} but no such route any more" for key in expected if key not in actual]
    problems += [f"{key}: {name} says {expected[key]!r}, the code declares {actual[key]!r}"
                 for key in actual if key in expected and expected[key] != actual[key]]
    return problems


def _client_as(client, role: str | None):
    if role is not None:
        client.force_login(make_user(role))
    return client


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/console/login")


# --- console ---------------------------------------------------------------------------------------


def test_every_console_view_declares_its_role():
    undeclared = [f"{route.name} ({route.route}) -> {route.view.__module__}.{route.view.__name__}"
                  for route in CONSOLE if route.role is UNSET]
    unnamed = [route.name for route in CONSOLE if route.name.startswith("<unnamed")]
    assert not undeclared, ("console views without @role_required(...) or @public_view:\n  "
                            + "\n  ".join(undeclared))
    assert not unnamed, "console routes without a name (give each a name=): " + ", ".join(unnamed)


def test_the_console_role_table_matches_the_views():
    actual = {route.name: route.role for route in CONSOLE if route.role is not UNSET}
    problems = _compare("EXPECTED", EXPECTED, actual)
    assert not problems, "\n".join(problems) + "\n\nThe table as the views now declare it:\n" + _table(
        "EXPECTED", actual)


@pytest.mark.parametrize(("route", "role"), BELOW, ids=[f"{r.name}-{role}" for r, role in BELOW])
def test_a_role_below_the_required_one_is_refused_and_writes_nothing(client, page, route, role):
    user, owner = make_user(role), make_user("owner")
    client.force_login(user)
    before = row_counts()
    response = client.get(route.url())
    # A POST-only view may refuse a GET with 405 before it looks at the role: it still shows nothing.
    assert response.status_code in (403, 405), f"GET {route.url()} as {role}: {response.status_code}"
    if response.status_code == 405:
        client.force_login(owner)
        assert client.get(route.url()).status_code == 405, (
            f"GET {route.url()} as {role} answered 405 but the view answers GET for an owner")
        client.force_login(user)
    response = client.post(route.url(), {})
    assert response.status_code == 403, (
        f"POST {route.url()} as {role} (needs {route.role}): {response.status_code}"
        + (" — the view looked the object up before checking the role" if response.status_code == 404 else ""))
    assert row_counts() == before, f"{route.name}: a refused request as {role} wrote something"


@pytest.mark.parametrize("route", GUARDED, ids=[r.name for r in GUARDED])
def test_a_visitor_is_sent_to_the_login_page(client, page, route):
    before = row_counts()
    for method in (client.get, client.post):
        response = method(route.url())
        assert _is_login_redirect(response), (
            f"{method.__name__.upper()} {route.url()} as a visitor: {response.status_code} "
            f"{response.get('Location', '')}")
    assert row_counts() == before


@pytest.mark.parametrize(("route", "role"), AT_OR_ABOVE, ids=[f"{r.name}-{role}" for r, role in AT_OR_ABOVE])
def test_a_role_at_or_above_the_required_one_is_let_in(client, db, route, role):
    _client_as(client, role)
    response = client.get(route.url())
    # With a placeholder id the answer may well be 404; 405 for a view that takes only POST.
    assert response.status_code != 403 and not _is_login_redirect(response), (
        f"GET {route.url()} as {role} (needs {route.role}): {response.status_code}")
    assert response.status_code < 500


# --- management API --------------------------------------------------------------------------------


def test_every_api_operation_needs_a_token_scope():
    unscoped = [op.key for op in API if op.scope not in SCOPES and op.scope != "probe"]
    assert not unscoped, "API operations without one token scope (auth=auth.read|write|admin): " + ", ".join(
        unscoped)


def test_the_api_scope_table_matches_the_operations():
    actual = {op.key: op.scope for op in API}
    problems = _compare("EXPECTED_API", EXPECTED_API, actual)
    assert not problems, "\n".join(problems) + "\n\nThe table as the API now declares it:\n" + _table(
        "EXPECTED_API", actual)


def _call(client, op, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.generic(op.method, op.url(), b"{}", content_type="application/json", headers=headers)


@pytest.mark.parametrize("op", API, ids=[op.key for op in API])
def test_an_api_call_without_a_token_is_unauthenticated(client, page, op):
    before = row_counts()
    response = _call(client, op, None)
    assert response.status_code == 401, f"{op.key} without a token: {response.status_code}"
    assert row_counts() == before


@pytest.mark.parametrize(("op", "scope"), API_BELOW, ids=[f"{op.key}-{scope}" for op, scope in API_BELOW])
def test_an_api_call_with_a_lower_scope_is_forbidden(client, page, make_token, op, scope):
    token = make_token(scope)
    before = row_counts()
    response = _call(client, op, token)
    assert response.status_code == 403, f"{op.key} with a {scope} token (needs {op.scope}): {response.status_code}"
    assert row_counts() == before


@pytest.mark.parametrize(("op", "scope"), API_ENOUGH, ids=[f"{op.key}-{scope}" for op, scope in API_ENOUGH])
def test_an_api_call_with_enough_scope_is_let_in(client, make_token, op, scope):
    response = _call(client, op, make_token(scope))
    # An empty body or a placeholder id is refused (422, 404), but not for want of rights.
    assert response.status_code not in (401, 403), f"{op.key} with a {scope} token: {response.status_code}"
    assert response.status_code < 500


# --- the probe scope: a remote probe's token, apart from the others ---------------------------------

PROBE_OPS = [op for op in API if op.scope == "probe"]
NOT_PROBE_OPS = [op for op in API if op.scope != "probe"]


@pytest.mark.parametrize("op", NOT_PROBE_OPS, ids=[op.key for op in NOT_PROBE_OPS])
def test_a_probe_token_is_refused_every_other_operation_and_writes_nothing(client, page, make_token, op):
    token = make_token("probe")
    before = row_counts()
    response = _call(client, op, token)
    assert response.status_code == 403, f"{op.key} with a probe token: {response.status_code}"
    assert row_counts() == before


@pytest.mark.parametrize(("op", "scope"), [(op, s) for op in PROBE_OPS for s in SCOPES],
                         ids=[f"{op.key}-{s}" for op in PROBE_OPS for s in SCOPES])
def test_the_probe_operations_take_a_probe_or_admin_token_only(client, page, make_token, op, scope):
    token = make_token(scope)
    before = row_counts()
    response = _call(client, op, token)
    if scope == "admin":  # an admin may run a probe with its own token
        assert response.status_code not in (401, 403) and response.status_code < 500, f"{op.key}: {response.status_code}"
    else:
        assert response.status_code == 403, f"{op.key} with a {scope} token: {response.status_code}"
        assert row_counts() == before


@pytest.mark.parametrize("op", PROBE_OPS, ids=[op.key for op in PROBE_OPS])
def test_a_probe_token_is_let_into_the_probe_operations(client, page, make_token, op):
    response = _call(client, op, make_token("probe"))
    assert response.status_code not in (401, 403) and response.status_code < 500, f"{op.key}: {response.status_code}"
