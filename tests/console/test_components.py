"""The components screens: a viewer reads groups and components in page order with their status; an admin
creates, edits, moves, hides and reorders them (buttons or drag and drop); a responder sets and clears
overrides. The public page and /api/v2 follow each change; every write leaves exactly one audit entry."""

import json

import pytest
from django.contrib.auth import get_user_model

from signalpost.accounts.models import AuditEvent, Profile
from signalpost.status import layout, services
from signalpost.status.models import Component, ComponentGroup, StatusOverride


def _login(client, role: str):
    user = get_user_model().objects.create_user(f"{role}-person")
    Profile.objects.create(user=user, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def admin(client, components):
    return _login(client, "admin")


@pytest.fixture
def responder(client, components):
    return _login(client, "responder")


@pytest.fixture
def viewer(client, components):
    return _login(client, "viewer")


class Audit:
    """Counts the audit entries a request adds."""

    def __init__(self):
        self.before = AuditEvent.objects.count()

    def new(self) -> list[str]:
        return [e.action for e in AuditEvent.objects.order_by("id")[self.before:]]


def _html(response) -> str:
    return response.content.decode()


def _order(html: str, names: list[str]) -> list[str]:
    """The names in the order they first appear in the page's main content."""
    main = html[html.index("<main"):]
    return sorted((n for n in names if n in main), key=main.index)


def _public_order(client, names: list[str]) -> list[str]:
    return _order(_html(client.get("/")), names)


def _api_order(client) -> list[str]:
    payload = json.loads(client.get("/api/v2/components.json").content)
    return [c["name"] for c in payload["components"]]


TOP = ["Switzerland", "Germany", "Mail delivery"]


def _error_beside(html: str, field_id: str, words: str) -> bool:
    """The message is in the error paragraph of that field."""
    marker = f'id="{field_id}_error">'
    return marker in html and words in html[html.index(marker):html.index(marker) + 400]


# --- reading ---------------------------------------------------------------------------------------


def test_it_lists_groups_and_components_in_page_order_with_their_status(viewer, components):
    services.open_incident(name="Volumes unreachable", impact="major", components={components["zh2"]: "major_outage"})
    services.update_component(components["de2"], hidden=True)
    response = viewer.get("/console/components/")
    html = _html(response)
    assert response.status_code == 200
    assert _order(html, ["Switzerland", "zh1.single", "zh2.cluster", "Germany", "de1.compact", "Mail delivery"]) == [
        "Switzerland", "zh1.single", "zh2.cluster", "Germany", "de1.compact", "Mail delivery"]
    row = html[html.index("zh2.cluster"):]
    assert "Major outage" in row[:1500]
    assert "third party" in html[html.index("Mail delivery"):][:600]
    assert "hidden" in html[html.index("de2.compact"):][:300]
    # A viewer reads; the writing controls are not offered.
    assert "Move up" not in html and "New component" not in html


def test_a_component_page_says_why_it_has_its_status(viewer, components):
    services.open_incident(name="Volumes unreachable", impact="major", components={components["zh2"]: "major_outage"})
    html = _html(viewer.get(f"/console/components/{components['zh2'].public_id}"))
    assert "Volumes unreachable" in html and "Major outage" in html
    assert "Set an override" not in html and "Edit" not in html


# --- creating and editing --------------------------------------------------------------------------


def test_an_admin_creates_a_group_and_a_third_party_component_in_it(admin, client):
    audit = Audit()
    response = admin.post("/console/groups/new", {"name": "France", "description": "Paris"})
    assert response.status_code == 302
    france = ComponentGroup.objects.get(name="France")
    assert response["Location"] == f"/console/groups/{france.public_id}"
    assert audit.new() == ["group.create"]

    audit = Audit()
    response = admin.post("/console/components/new", {
        "name": "par1.storage", "description": "Block storage", "group": france.public_id, "third_party": "on",
        "start_date": "2024-03-01"})
    assert response.status_code == 302
    component = Component.objects.get(name="par1.storage")
    assert component.group == france and component.third_party and str(component.start_date) == "2024-03-01"
    assert audit.new() == ["component.create"]
    assert _public_order(client, TOP + ["France", "par1.storage"]) == TOP + ["France", "par1.storage"]


def test_a_hidden_component_stays_off_the_public_page(admin, client):
    response = admin.post("/console/components/new", {"name": "Internal DNS", "hidden": "on"})
    assert response.status_code == 302
    assert "Internal DNS" not in _html(client.get("/"))
    assert "Internal DNS" in _html(admin.get("/console/components/"))


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"name": "  "}, "name", "required"),
    ({"name": "zh1.single", "group": "SWITZERLAND"}, "group", "valid choice"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"name": "ok", "start_date": "yesterday"}, "start_date", "valid date"),
])
def test_it_refuses_a_bad_new_component_beside_the_field(admin, data, field, words):
    count, audit = Component.objects.count(), Audit()
    response = admin.post("/console/components/new", data)
    assert response.status_code == 400
    assert _error_beside(_html(response), f"id_{field}", words), _html(response)
    assert Component.objects.count() == count and audit.new() == []


def test_it_refuses_a_duplicate_component_name_with_the_services_words(admin, components):
    count, audit = Component.objects.count(), Audit()
    group = components["zh1"].group
    response = admin.post("/console/components/new", {"name": "zh1.single", "group": group.public_id})
    assert response.status_code == 400
    assert _error_beside(_html(response), "id_name", "already exists in Switzerland")
    assert Component.objects.count() == count and audit.new() == []


def test_it_refuses_a_duplicate_or_empty_group_name(admin):
    count, audit = ComponentGroup.objects.count(), Audit()
    for name, words in [("Germany", "already exists"), ("", "required")]:
        response = admin.post("/console/groups/new", {"name": name})
        assert response.status_code == 400
        assert _error_beside(_html(response), "id_name", words)
    assert ComponentGroup.objects.count() == count and audit.new() == []


def test_an_admin_renames_a_component_and_moves_it_to_another_group(admin, client, components):
    zh2, germany = components["zh2"], components["de1"].group
    audit = Audit()
    response = admin.post(f"/console/components/{zh2.public_id}/edit", {
        "edit-name": "fra1.cluster", "edit-group": germany.public_id, "edit-description": "Moved to Frankfurt"})
    assert response.status_code == 302
    assert audit.new() == ["component.update"]
    zh2.refresh_from_db()
    assert zh2.name == "fra1.cluster" and zh2.group == germany and zh2.description == "Moved to Frankfurt"
    # It goes last in its new group, on the page and in the API.
    names = ["zh1.single", "de1.compact", "de2.compact", "fra1.cluster", "Mail delivery"]
    assert _public_order(client, names) == names
    assert _api_order(client) == ["Switzerland", "zh1.single", "Germany", "de1.compact", "de2.compact",
                                  "fra1.cluster", "Mail delivery"]


def test_an_edit_that_changes_nothing_records_nothing(admin, components):
    de1 = components["de1"]
    audit = Audit()
    response = admin.post(f"/console/components/{de1.public_id}/edit", {
        "edit-name": "de1.compact", "edit-group": de1.group.public_id})
    assert response.status_code == 302 and audit.new() == []


def test_a_bad_edit_is_shown_beside_the_field_and_saves_nothing(admin, components):
    zh2 = components["zh2"]
    audit = Audit()
    response = admin.post(f"/console/components/{zh2.public_id}/edit", {
        "edit-name": "zh1.single", "edit-group": zh2.group.public_id, "edit-third_party": "on"})
    assert response.status_code == 400
    assert _error_beside(_html(response), "id_edit-name", "already exists")
    zh2.refresh_from_db()
    assert zh2.name == "zh2.cluster" and not zh2.third_party and audit.new() == []


def test_an_admin_hides_and_shows_a_component_and_a_group(admin, client, components):
    mail, germany = components["mail"], components["de1"].group
    for url, obj in [(f"/console/components/{mail.public_id}/visibility", mail),
                     (f"/console/groups/{germany.public_id}/visibility", germany)]:
        audit = Audit()
        assert admin.post(url, {"hidden": "1"}).status_code == 302
        obj.refresh_from_db()
        assert obj.hidden and len(audit.new()) == 1
        assert obj.name not in _html(client.get("/"))
        audit = Audit()
        assert admin.post(url, {"hidden": "0"}).status_code == 302
        obj.refresh_from_db()
        assert not obj.hidden and len(audit.new()) == 1
        assert obj.name in _html(client.get("/"))


def test_an_admin_renames_a_group(admin, client, components):
    germany = components["de1"].group
    audit = Audit()
    response = admin.post(f"/console/groups/{germany.public_id}/edit", {"edit-name": "Deutschland"})
    assert response.status_code == 302 and audit.new() == ["group.update"]
    assert "Deutschland" in _html(client.get("/"))
    response = admin.post(f"/console/groups/{germany.public_id}/edit", {"edit-name": "Switzerland"})
    assert response.status_code == 400 and _error_beside(_html(response), "id_edit-name", "already exists")
    germany.refresh_from_db()
    assert germany.name == "Deutschland"


# --- order -------------------------------------------------------------------------------------------


def test_move_up_and_down_reorder_the_top_level(admin, client, components):
    mail = components["mail"]
    audit = Audit()
    response = admin.post("/console/components/move", {"item": f"c:{mail.public_id}", "direction": "up"})
    assert response.status_code == 302 and audit.new() == ["page.reorder"]
    assert _public_order(client, TOP) == ["Switzerland", "Mail delivery", "Germany"]
    assert _api_order(client)[:4] == ["Switzerland", "zh1.single", "zh2.cluster", "Mail delivery"]

    germany = components["de1"].group
    admin.post("/console/components/move", {"item": f"g:{germany.public_id}", "direction": "up"})
    admin.post("/console/components/move", {"item": f"g:{germany.public_id}", "direction": "up"})
    assert _public_order(client, TOP) == ["Germany", "Switzerland", "Mail delivery"]
    # Already first: nothing changes, nothing is recorded.
    audit = Audit()
    admin.post("/console/components/move", {"item": f"g:{germany.public_id}", "direction": "up"})
    assert audit.new() == []


def test_move_buttons_reorder_within_a_group(admin, client, components):
    zh2 = components["zh2"]
    audit = Audit()
    response = admin.post("/console/components/move", {
        "item": f"c:{zh2.public_id}", "direction": "up", "next": f"/console/groups/{zh2.group.public_id}"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/console/groups/{zh2.group.public_id}")
    assert audit.new() == ["group.reorder"]
    assert _public_order(client, ["zh1.single", "zh2.cluster"]) == ["zh2.cluster", "zh1.single"]
    assert _api_order(client)[:3] == ["Switzerland", "zh2.cluster", "zh1.single"]


def test_the_console_page_offers_the_move_buttons_to_an_admin(admin, components):
    html = _html(admin.get("/console/components/"))
    assert html.count('name="direction" value="up"') == 7  # 2 groups, 4 components in them, 1 on its own
    assert f'value="c:{components["zh2"].public_id}"' in html
    assert "console/reorder.js" in html


def test_a_dropped_order_is_saved_in_one_request(admin, client, components):
    switzerland, germany, mail = components["zh1"].group, components["de1"].group, components["mail"]
    audit = Audit()
    response = admin.post("/console/components/reorder", {
        "group": "", "order": [f"c:{mail.public_id}", f"g:{germany.public_id}", f"g:{switzerland.public_id}"]},
        content_type="application/json", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json() == {"saved": True, "changed": True}
    assert audit.new() == ["page.reorder"]
    assert _public_order(client, TOP) == ["Mail delivery", "Germany", "Switzerland"]
    assert _api_order(client) == ["Mail delivery", "Germany", "de1.compact", "de2.compact", "Switzerland",
                                  "zh1.single", "zh2.cluster"]


def test_a_group_order_can_be_posted_as_a_form(admin, client, components):
    de1, de2 = components["de1"], components["de2"]
    audit = Audit()
    response = admin.post("/console/components/reorder", {
        "group": de1.group.public_id, "order": [f"c:{de2.public_id}", f"c:{de1.public_id}"]})
    assert response.status_code == 302 and audit.new() == ["group.reorder"]
    assert _public_order(client, ["de1.compact", "de2.compact"]) == ["de2.compact", "de1.compact"]


@pytest.mark.parametrize("which", ["missing", "foreign", "twice", "unknown"])
def test_an_incomplete_or_wrong_order_is_refused_and_changes_nothing(admin, components, which):
    switzerland, germany, mail = components["zh1"].group, components["de1"].group, components["mail"]
    order = {
        "missing": [f"g:{germany.public_id}", f"g:{switzerland.public_id}"],
        "foreign": [f"c:{components['zh1'].public_id}", f"g:{germany.public_id}", f"g:{switzerland.public_id}"],
        "twice": [f"g:{germany.public_id}", f"g:{germany.public_id}", f"g:{switzerland.public_id}",
                  f"c:{mail.public_id}"],
        "unknown": ["g:nosuchgroup0", f"g:{germany.public_id}", f"g:{switzerland.public_id}", f"c:{mail.public_id}"],
    }[which]
    positions = list(ComponentGroup.objects.values_list("position", flat=True)) + [mail.position]
    audit = Audit()
    response = admin.post("/console/components/reorder", {"group": "", "order": order},
                          content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "order"
    mail.refresh_from_db()
    assert list(ComponentGroup.objects.values_list("position", flat=True)) + [mail.position] == positions
    assert audit.new() == []


def test_bad_button_posts_are_refused_with_the_reason_and_change_nothing(admin, components):
    zh2, group = components["zh2"], components["zh2"].group
    positions = sorted(Component.objects.values_list("position", flat=True))
    audit = Audit()
    for url, data, words in [
        ("/console/components/move", {"item": "c:nosuchthing0", "direction": "up"}, "Nothing was moved"),
        ("/console/components/move", {"item": f"c:{zh2.public_id}", "direction": "sideways"}, "Nothing was moved"),
        ("/console/components/reorder", {"group": group.public_id, "order": [f"c:{zh2.public_id}"]},
         "must name each of them exactly once"),
        (f"/console/components/{zh2.public_id}/visibility", {"hidden": "maybe"}, "choose to hide or to show"),
        (f"/console/groups/{group.public_id}/visibility", {}, "choose to hide or to show"),
    ]:
        response = admin.post(url, data)
        assert response.status_code == 400, url
        assert words in _html(response) and 'role="alert"' in _html(response), url
    assert sorted(Component.objects.values_list("position", flat=True)) == positions
    assert not Component.objects.filter(hidden=True).exists() and audit.new() == []


def test_an_unchanged_order_records_nothing(admin, components):
    switzerland, germany, mail = components["zh1"].group, components["de1"].group, components["mail"]
    audit = Audit()
    response = admin.post("/console/components/reorder", {
        "order": [f"g:{switzerland.public_id}", f"g:{germany.public_id}", f"c:{mail.public_id}"]},
        content_type="application/json")
    assert response.json() == {"saved": True, "changed": False} and audit.new() == []


# --- overrides -----------------------------------------------------------------------------------------


def test_a_responder_sets_and_clears_an_override_that_the_public_page_shows(responder, client, components):
    de1 = components["de1"]
    audit = Audit()
    response = responder.post(f"/console/components/{de1.public_id}/override", {
        "override-status": "partial_outage", "override-reason": "Provider reports packet loss"})
    assert response.status_code == 302 and audit.new() == ["component.override"]
    public = _html(client.get("/"))
    assert "Partial outage" in public[public.index("de1.compact"):][:2000]
    html = _html(responder.get(f"/console/components/{de1.public_id}"))
    assert "Provider reports packet loss" in html and "by responder-person" in html
    listing = _html(responder.get("/console/components/"))
    assert "Provider reports packet loss" in listing and "Clear override" in listing

    audit = Audit()
    response = responder.post(f"/console/components/{de1.public_id}/override/clear")
    assert response.status_code == 302 and audit.new() == ["component.override_clear"]
    assert not StatusOverride.objects.filter(component=de1, cleared_at__isnull=True).exists()
    public = _html(client.get("/"))
    assert "Partial outage" not in public[public.index("de1.compact"):][:2000]
    # Clearing again changes nothing and records nothing.
    audit = Audit()
    assert responder.post(f"/console/components/{de1.public_id}/override/clear").status_code == 302
    assert audit.new() == []


def test_an_override_with_an_unknown_status_is_refused_beside_the_field(responder, components):
    audit = Audit()
    response = responder.post(f"/console/components/{components['de1'].public_id}/override", {
        "override-status": "on_fire", "override-reason": "x"})
    assert response.status_code == 400
    assert _error_beside(_html(response), "id_override-status", "valid choice")
    assert not StatusOverride.objects.filter(component=components["de1"]).exists() and audit.new() == []


def test_a_responder_may_not_edit_or_reorder(responder, components):
    zh2 = components["zh2"]
    for url in [f"/console/components/{zh2.public_id}/edit", "/console/components/move", "/console/components/new",
                "/console/groups/new", f"/console/components/{zh2.public_id}/visibility"]:
        assert responder.post(url, {"edit-name": "x", "item": f"c:{zh2.public_id}", "direction": "up",
                                    "name": "x", "hidden": "1"}).status_code == 403, url
    zh2.refresh_from_db()
    assert zh2.name == "zh2.cluster" and not zh2.hidden


def _writing_urls(components) -> list[str]:
    zh2, group = components["zh2"], components["zh2"].group
    return [
        "/console/components/new", "/console/components/reorder", "/console/components/move",
        f"/console/components/{zh2.public_id}/edit", f"/console/components/{zh2.public_id}/visibility",
        f"/console/components/{zh2.public_id}/override", f"/console/components/{zh2.public_id}/override/clear",
        "/console/groups/new", f"/console/groups/{group.public_id}/edit",
        f"/console/groups/{group.public_id}/visibility", "/console/settings",
    ]


def test_a_viewer_is_refused_every_writing_page(viewer, components):
    services.set_override(components["zh2"], "major_outage", reason="Set before")
    audit, counts = Audit(), (Component.objects.count(), ComponentGroup.objects.count(), StatusOverride.objects.count())
    for url in _writing_urls(components):
        assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, {"name": "x", "hidden": "1", "override-status": "operational",
                                 "item": f"c:{components['zh2'].public_id}", "direction": "up"}).status_code == 403, url
    assert audit.new() == []
    assert (Component.objects.count(), ComponentGroup.objects.count(), StatusOverride.objects.count()) == counts
    assert StatusOverride.objects.filter(cleared_at__isnull=True).count() == 1


def test_pages_that_only_show_refuse_a_post(admin, components):
    for url in ["/console/components/", f"/console/components/{components['zh2'].public_id}",
                f"/console/groups/{components['zh2'].group.public_id}"]:
        assert admin.post(url).status_code == 405, url


# --- drag and drop, in a real browser -------------------------------------------------------------------


@pytest.fixture
def live_site(start_server):
    from tests.browsing import ASYNC_UNSAFE

    return start_server("console", **{ASYNC_UNSAFE: ""})


@pytest.mark.browser
def test_an_admin_drags_a_component_to_the_top_and_the_public_page_follows(components, live_site, browser):
    from tests.browsing import wait_until

    site = live_site

    user = get_user_model().objects.create_user("ada", password="correct horse battery staple")
    Profile.objects.create(user=user, role="admin")
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(5000)
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site.url + "/console/login")
    tab.get_by_label("Username").fill("ada")
    tab.get_by_label("Password").fill("correct horse battery staple")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    tab.goto(site.url + "/console/components/")
    mail = tab.locator(f'li[data-ref="c:{components["mail"].public_id}"] .order__row').first
    switzerland = tab.locator(f'li[data-ref="g:{components["zh1"].group.public_id}"] > .order__row')
    mail.drag_to(switzerland, target_position={"x": 20, "y": 2})
    tab.get_by_text("Order saved").wait_for()
    # The buttons follow the new order: the first item cannot move up any more.
    assert tab.locator(f'li[data-ref="c:{components["mail"].public_id}"] button[data-move=up]').is_disabled()
    assert [c.name for c in layout.top_level_order()] == ["Mail delivery", "Switzerland", "Germany"]
    assert AuditEvent.objects.filter(action="page.reorder").count() == 1

    def mail_first() -> bool:
        html = site.get("/")[2].decode()
        return html.index("Mail delivery") < html.index("Switzerland") if "Mail delivery" in html else False

    wait_until(mail_first, what="the public page showing Mail delivery first")
    context.close()
    assert errors == []
