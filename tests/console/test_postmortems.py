# ruff: noqa: F811 - the fixtures of postmortem_support are imported by name
"""The postmortem screens as the team uses them: writing one from an incident, the editor (sections
with previews, instants in the document's zone, figures, timeline, action items), review and
publication, versions and their differences, export. Every refused form says why beside the field,
answers 400 and saves nothing; every accepted one records exactly one audit entry; a viewer reads but
never writes."""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.postmortems.models import (
    ActionItem,
    ImpactFigure,
    Postmortem,
    PostmortemVersion,
    TimelineEntry,
)
from tests.console import postmortem_routes as routes
from tests.console.postmortem_support import (  # noqa: F401
    at,
    draft,
    entries_since,
    incident,
    signed_in,
    team,
)
from tests.routes import make_user, row_counts


def editor_url(pm) -> str:
    return reverse("console:postmortem", args=[pm.public_id])


def field_error(html: str, field_id: str) -> str:
    """The error message shown right after the field with this id (the _field.html convention)."""
    found = re.search(rf'id="{re.escape(field_id)}_error">([^<]+)<', html)
    return found.group(1) if found else ""


# --- who may do what, and the audit trail ------------------------------------------------------------


# Each route's role and each write's one audit entry are held by tests/test_routes_roles.py and
# tests/test_audit_coverage.py (which takes these screens' scenarios from postmortem_routes.py).


@pytest.mark.parametrize("name", sorted(routes.CONSOLE_SCENARIOS))
def test_a_viewer_is_refused_every_write_and_nothing_changes(client, components, name):
    owner = make_user("owner", "olivia")
    url, data = routes.CONSOLE_SCENARIOS[name](SimpleNamespace(components=components, owner=owner, client=client))
    client.force_login(make_user("viewer", "vera"))
    before = row_counts()
    assert client.post(url, data).status_code == 403
    assert row_counts() == before


def test_a_responder_cannot_edit_the_kinds_of_action_items(client, components):
    client.force_login(make_user("responder", "rita"))
    url, data = routes.CONSOLE_SCENARIOS["console:action_item_kind_add"](SimpleNamespace(components=components))
    assert client.get(reverse("console:action_item_kinds")).status_code == 403
    assert client.post(url, data).status_code == 403


# --- the list and a new postmortem -------------------------------------------------------------------


def test_the_list_shows_status_incidents_author_and_reviewer(signed_in, draft, team):
    services.request_review(draft, team["bob"], user=team["alice"])
    html = signed_in("vera").get(reverse("console:postmortems")).content.decode()
    row = html[html.index("Origin outage"):html.index("</tr>", html.index("Origin outage"))]
    assert "In review" in row and "Deploys fail on the origin" in row
    assert "alice" in row and "bob" in row
    assert "Write a postmortem" not in html  # a viewer cannot


def test_a_responder_writes_a_postmortem_from_the_incident_page(signed_in, incident, team):
    client = signed_in("alice")
    incident_page = client.get(reverse("console:incident", args=[incident.public_id])).content.decode()
    link = f"/console/postmortems/new?incident={incident.public_id}"
    assert link in incident_page.replace("&amp;", "&")
    form = client.get(link).content.decode()
    assert re.search(rf'value="{incident.public_id}"[^>]*checked', form)
    response = client.post(reverse("console:postmortem_new"), {
        "incidents": [incident.public_id], "template": "postmortem", "title": "Origin outage on Feb 2"})
    pm = Postmortem.objects.get()
    assert response.status_code == 302 and response["Location"] == editor_url(pm)
    assert (pm.title, pm.template, pm.author, pm.status) == ("Origin outage on Feb 2", "postmortem", team["alice"], "draft")
    assert pm.timeline.count() >= 3  # the incident's updates, to trim
    # The incident has one now: asking again leads to it.
    assert client.get(link)["Location"] == editor_url(pm)


def test_a_team_names_its_own_kind_of_document(signed_in, incident):
    signed_in("alice").post(reverse("console:postmortem_new"), {
        "incidents": [incident.public_id], "template": "custom", "custom_template": "Downtime report"})
    assert Postmortem.objects.get().document_label == "Downtime report"


def test_a_new_postmortem_without_incident_or_name_is_refused_beside_the_field(signed_in, incident):
    client = signed_in("alice")
    response = client.post(reverse("console:postmortem_new"), {"template": "learning_review"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post(reverse("console:postmortem_new"), {"incidents": [incident.public_id], "template": "custom"})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_custom_template").startswith("Name the kind of document")
    assert Postmortem.objects.count() == 0


def test_the_service_refuses_two_maintenance_windows_beside_the_incidents(signed_in, components):
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.status import services as status

    now = timezone.now()
    windows = [status.schedule_maintenance(name=f"Upgrade {n}", scheduled_for=now + timedelta(days=n),
                                           scheduled_until=now + timedelta(days=n, hours=1),
                                           components=[components["de1"]]) for n in (1, 2)]
    response = signed_in("alice").post(reverse("console:postmortem_new"), {
        "incidents": [w.public_id for w in windows], "template": "postmortem"})
    assert response.status_code == 400
    assert "not several maintenance windows" in field_error(response.content.decode(), "id_incidents")
    assert Postmortem.objects.count() == 0


# --- the editor ---------------------------------------------------------------------------------------


def test_the_editor_shows_each_section_with_a_live_preview(signed_in, draft):
    html = signed_in("alice").get(editor_url(draft)).content.decode()
    assert 'data-preview="preview-summary"' in html and 'data-preview="preview-root_cause"' in html
    preview = html[html.index('id="preview-summary"'):]
    assert 'class="md preview"' in html and "Deploy metadata was overwritten." in preview[:300]
    assert 'name="root_cause_unknown"' in html
    assert "Time to resolve" in html and "Switzerland" in html  # the figures from the record


def test_saving_the_sections_keeps_a_version(signed_in, draft):
    client = signed_in("alice")
    versions = PostmortemVersion.objects.count()
    response = client.post(reverse("console:postmortem_save", args=[draft.public_id]), routes.document_data(
        draft, summary="Human error overwrote deploy metadata.", root_cause="", root_cause_unknown="on"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.summary, draft.root_cause_unknown) == ("Human error overwrote deploy metadata.", True)
    latest = PostmortemVersion.objects.filter(postmortem=draft).last()
    assert PostmortemVersion.objects.count() == versions + 1
    assert (latest.number, latest.saved_by, latest.content["summary"]) == (
        draft.version, "alice", "Human error overwrote deploy metadata.")


def test_instants_are_read_in_the_documents_zone(signed_in, draft):
    signed_in("alice").post(reverse("console:postmortem_save", args=[draft.public_id]), routes.document_data(
        draft, first_signal_at="2026-02-02T09:17", detected_at="2026-02-02T09:20"))
    draft.refresh_from_db()
    assert draft.first_signal_at == at("2026-02-02 17:17")  # 09:17 PST
    assert draft.detected_at == at("2026-02-02 17:20")
    html = signed_in("alice").get(editor_url(draft)).content.decode()
    assert 'value="2026-02-02T09:17"' in html
    assert "3 minutes" in html  # time to detect, from the record


def test_changing_the_zone_keeps_the_instants_typed(signed_in, draft):
    client = signed_in("alice")
    client.post(reverse("console:postmortem_save", args=[draft.public_id]),
                routes.document_data(draft, first_signal_at="2026-02-02T09:17"))
    draft.refresh_from_db()
    # The form showed 09:17 in Los Angeles; the author switches the document to UTC in the same save.
    client.post(reverse("console:postmortem_save", args=[draft.public_id]),
                routes.document_data(draft, timeline_zone="UTC", first_signal_at="2026-02-02T09:17"))
    draft.refresh_from_db()
    assert (draft.timeline_zone, draft.first_signal_at) == ("UTC", at("2026-02-02 17:17"))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": ""}, "id_title", "This field is required."),
    ({"first_signal_at": "2026-02-02T09:40"}, "id_first_signal_at", "is after the problem was detected"),
    ({"first_signal_at": "yesterday"}, "id_first_signal_at", "Enter a date and time"),
    ({"first_signal_at": "2026-03-08T02:30"}, "id_first_signal_at", "does not exist in America/Los_Angeles"),
    ({"timeline_zone": "Mars/Olympus"}, "id_timeline_zone", "Select a valid choice"),
    ({"incidents": []}, "id_incidents", "This field is required."),
])
def test_a_refused_document_says_why_beside_the_field_and_saves_nothing(signed_in, draft, changes, field, message):
    client = signed_in("alice")
    before = (PostmortemVersion.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("console:postmortem_save", args=[draft.public_id]),
                           routes.document_data(draft, summary="Changed", **changes))
    assert response.status_code == 400
    assert message in field_error(response.content.decode(), field)
    draft.refresh_from_db()
    assert draft.summary == "Deploy metadata was overwritten."
    assert (PostmortemVersion.objects.count(), AuditEvent.objects.count()) == before


def _figures(rows: list[tuple[str, str, bool]], initial: int = 0) -> dict:
    data = {"figures-TOTAL_FORMS": str(len(rows)), "figures-INITIAL_FORMS": str(initial),
            "figures-MIN_NUM_FORMS": "0", "figures-MAX_NUM_FORMS": "30"}
    for n, (label, value, remove) in enumerate(rows):
        data.update({f"figures-{n}-label": label, f"figures-{n}-value": value})
        if remove:
            data[f"figures-{n}-DELETE"] = "on"
    return data


def test_impact_figures_are_added_and_removed(signed_in, draft):
    client = signed_in("alice")
    url = reverse("console:postmortem_figures", args=[draft.public_id])
    client.post(url, _figures([("Deploys affected", "5.2%", False), ("Enterprise sites down", "0", False),
                               ("", "", False)]))
    assert list(draft.figures.values_list("label", "value")) == [("Deploys affected", "5.2%"),
                                                                 ("Enterprise sites down", "0")]
    client.post(url, _figures([("Deploys affected", "5.2%", False), ("Enterprise sites down", "0", True)], initial=2))
    assert list(draft.figures.values_list("label", "value")) == [("Deploys affected", "5.2%")]


def test_a_half_filled_figure_is_refused_beside_it(signed_in, draft):
    response = signed_in("alice").post(reverse("console:postmortem_figures", args=[draft.public_id]),
                                       _figures([("Deploys affected", "", False)]))
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_figures-0-value").startswith("Give the figure")
    assert ImpactFigure.objects.count() == 0


def test_timeline_entries_are_added_edited_and_removed_in_the_documents_zone(signed_in, draft):
    client = signed_in("alice")
    count = draft.timeline.count()
    client.post(reverse("console:postmortem_entry_add", args=[draft.public_id]), {
        "new-entry-at": "2026-02-02T09:17", "new-entry-text": "Alerts for failed origin requests.",
        "new-entry-shown_zone": "America/Los_Angeles"})
    entry = TimelineEntry.objects.get(text="Alerts for failed origin requests.")
    assert entry.at == at("2026-02-02 17:17") and draft.timeline.count() == count + 1
    html = client.get(editor_url(draft)).content.decode()
    assert "Feb 2, 2026 09:17 PST" in html

    prefix = f"entry-{entry.public_id}"
    client.post(reverse("console:postmortem_entry_edit", args=[draft.public_id, entry.public_id]), {
        f"{prefix}-at": "2026-02-02T09:18", f"{prefix}-text": "First alerts.", f"{prefix}-shown_zone": "America/Los_Angeles"})
    entry.refresh_from_db()
    assert (entry.at, entry.text) == (at("2026-02-02 17:18"), "First alerts.")

    client.post(reverse("console:postmortem_entry_remove", args=[draft.public_id, entry.public_id]))
    assert not TimelineEntry.objects.filter(pk=entry.pk).exists()


def test_editing_only_the_text_keeps_the_exact_instant(signed_in, draft):
    entry = draft.timeline.first()  # from the incident, at an instant with seconds perhaps
    TimelineEntry.objects.filter(pk=entry.pk).update(at=entry.at.replace(second=42))
    entry.refresh_from_db()
    prefix = f"entry-{entry.public_id}"
    from signalpost.console.localtime import local_input_value
    from signalpost.console.postmortem_forms import zone_of

    shown = local_input_value(entry.at, zone_of(draft.timeline_zone)).strftime("%Y-%m-%dT%H:%M")
    signed_in("alice").post(reverse("console:postmortem_entry_edit", args=[draft.public_id, entry.public_id]), {
        f"{prefix}-at": shown, f"{prefix}-text": "Reworded.", f"{prefix}-shown_zone": draft.timeline_zone})
    entry.refresh_from_db()
    assert entry.at.second == 42 and entry.text == "Reworded."


def test_an_entry_without_text_is_refused_beside_it(signed_in, draft):
    count = TimelineEntry.objects.count()
    response = signed_in("alice").post(reverse("console:postmortem_entry_add", args=[draft.public_id]), {
        "new-entry-at": "2026-02-02T09:17", "new-entry-text": "  ", "new-entry-shown_zone": "America/Los_Angeles"})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_new-entry-text")
    assert TimelineEntry.objects.count() == count


def test_prefill_adds_only_what_is_missing(signed_in, draft):
    client = signed_in("alice")
    first = draft.timeline.first()
    client.post(reverse("console:postmortem_entry_remove", args=[draft.public_id, first.public_id]))
    count = draft.timeline.count()
    client.post(reverse("console:postmortem_prefill", args=[draft.public_id]))
    assert draft.timeline.count() == count + 1
    before = AuditEvent.objects.count()
    response = client.post(reverse("console:postmortem_prefill", args=[draft.public_id]), follow=True)
    assert "already holds every update" in response.content.decode()
    assert AuditEvent.objects.count() == before  # nothing changed, nothing recorded


def _item(prefix: str, **fields) -> dict:
    base = {"title": "Peer sign-off for write queries", "kind": services.find_kind("Preventive (process)").public_id,
            "owner": "Infrastructure", "due_date": "2026-03-31", "state": "open", "link": "", "description": ""}
    base.update(fields)
    return {f"{prefix}-{k}": v for k, v in base.items()}


def test_action_items_are_added_edited_and_removed(signed_in, draft):
    client = signed_in("alice")
    client.post(reverse("console:postmortem_item_add", args=[draft.public_id]),
                _item("new-item", link="https://tracker.example.com/INFRA-12"))
    item = ActionItem.objects.get()
    assert (item.kind.name, item.owner, str(item.due_date), item.link) == (
        "Preventive (process)", "Infrastructure", "2026-03-31", "https://tracker.example.com/INFRA-12")
    client.post(reverse("console:postmortem_item_edit", args=[draft.public_id, item.public_id]),
                _item(f"item-{item.public_id}", state="in_progress", kind=services.find_kind("Detection").public_id))
    item.refresh_from_db()
    assert (item.state, item.kind.name) == ("in_progress", "Detection")
    client.post(reverse("console:postmortem_item_remove", args=[draft.public_id, item.public_id]))
    assert ActionItem.objects.count() == 0


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"link": "tracker/INFRA-12"}, "link", "must be an http:// or https:// address"),
    ({"title": ""}, "title", "This field is required."),
    ({"due_date": "next week"}, "due_date", "Enter a date"),
])
def test_a_refused_action_item_says_why_beside_the_field(signed_in, draft, fields, field, message):
    response = signed_in("alice").post(reverse("console:postmortem_item_add", args=[draft.public_id]),
                                       _item("new-item", **fields))
    assert response.status_code == 400
    assert message in field_error(response.content.decode(), f"id_new-item-{field}")
    assert ActionItem.objects.count() == 0


def test_a_viewer_reads_the_postmortem_without_any_form(signed_in, draft):
    response = signed_in("vera").get(editor_url(draft))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deploy metadata was overwritten." in html
    assert "Save the document" not in html and "Request review" not in html and "<textarea" not in html


# --- review and publication ---------------------------------------------------------------------------


def test_review_approval_and_publication_through_the_console(client, signed_in, draft, team):
    public = draft.public_path
    assert client.get(public).status_code == 404  # a draft is not public

    author = signed_in("alice")
    response = author.post(reverse("console:postmortem_request_review", args=[draft.public_id]),
                           {"review-reviewer": str(team["bob"].pk)})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.reviewer) == ("in_review", team["bob"])

    before = AuditEvent.objects.count()
    response = author.post(reverse("console:postmortem_approve", args=[draft.public_id]))
    assert response.status_code == 400
    assert "An author cannot approve their own postmortem." in response.content.decode()
    assert AuditEvent.objects.count() == before
    draft.refresh_from_db()
    assert draft.status == "in_review"

    response = author.post(reverse("console:postmortem_publish", args=[draft.public_id]))
    assert response.status_code == 400 and "Only an approved postmortem can be published" in response.content.decode()

    signed_in("bob").post(reverse("console:postmortem_approve", args=[draft.public_id]))
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("approved", team["bob"])
    assert client.get(public).status_code == 404  # approved is not published yet

    signed_in("alice").post(reverse("console:postmortem_publish", args=[draft.public_id]))
    draft.refresh_from_db()
    assert draft.status == "published"
    client.logout()
    page = client.get(public)
    assert page.status_code == 200 and "Deploy metadata was overwritten." in page.content.decode()

    signed_in("alice").post(reverse("console:postmortem_unpublish", args=[draft.public_id]))
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.withdrawn_at is not None


def test_a_postmortem_published_elsewhere_first_takes_its_published_time(signed_in, draft, team, client):
    signed_in("alice").post(reverse("console:postmortem_request_review", args=[draft.public_id]),
                            {"review-reviewer": str(team["bob"].pk)})
    signed_in("bob").post(reverse("console:postmortem_approve", args=[draft.public_id]))
    publish = reverse("console:postmortem_publish", args=[draft.public_id])
    response = signed_in("alice").post(publish, {"publish-published_at": "2026-02-02T18:30",
                                                 "publish-time_zone": "UTC"})
    assert response.status_code == 400  # the incident ended 18:40 UTC: said beside the field
    field = re.search(r'<input[^>]*name="publish-published_at"[^>]*>', response.content.decode()).group(0)
    assert 'aria-invalid="true"' in field
    assert "is before &quot;Deploys fail on the origin&quot; ended" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "approved"

    response = signed_in("alice").post(publish, {"publish-published_at": "2026-02-03T09:15",
                                                 "publish-time_zone": "Europe/Zurich"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == ("published", at("2026-02-03 08:15"))
    client.logout()
    page = client.get(f"/postmortems/{draft.public_id}").content.decode()
    # In the page's zone (Europe/Zurich), though the document's timeline is in Pacific time.
    assert '<time class="pm-time" datetime="2026-02-03T08:15:00Z">Feb 3, 2026 09:15 CET</time>' in page


def test_the_author_cannot_be_chosen_as_reviewer(signed_in, draft, team):
    html = signed_in("alice").get(editor_url(draft)).content.decode()
    select = html[html.index('name="review-reviewer"'):html.index("</select>", html.index('name="review-reviewer"'))]
    assert ">bob<" in select and ">alice<" not in select and ">vera<" not in select  # a viewer cannot review
    response = signed_in("alice").post(reverse("console:postmortem_request_review", args=[draft.public_id]),
                                       {"review-reviewer": str(team["alice"].pk)})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_review-reviewer")
    draft.refresh_from_db()
    assert draft.status == "draft"


# --- versions and export ------------------------------------------------------------------------------


def test_the_differences_between_two_versions_read_as_removed_and_added_lines(signed_in, draft):
    client = signed_in("alice")
    client.post(reverse("console:postmortem_save", args=[draft.public_id]),
                routes.document_data(draft, summary="Human error overwrote deploy metadata."))
    draft.refresh_from_db()
    html = client.get(reverse("console:postmortem_versions", args=[draft.public_id])).content.decode()
    assert re.search(r'<del class="diff__line diff__line--removed"><span class="diff__sign">-</span>'
                     r'<span class="visually-hidden"> removed: </span>Deploy metadata was overwritten.</del>', html)
    assert re.search(r'<ins class="diff__line diff__line--added"><span class="diff__sign">\+</span>'
                     r'<span class="visually-hidden"> added: </span>Human error overwrote deploy metadata.</ins>', html)
    rows = re.findall(r'<tr>\s*<th scope="row">(\d+)</th>\s*<td>([^<]+)</td>', html)
    assert rows[0] == (str(draft.version), "alice") and len(rows) == draft.version
    older = client.get(reverse("console:postmortem_versions", args=[draft.public_id]) + "?from=1&to=1").content.decode()
    assert "Choose two different versions." in older


def test_a_draft_exports_as_markdown_and_prints_from_the_console(signed_in, draft):
    client = signed_in("vera")
    markdown = client.get(reverse("console:postmortem_markdown", args=[draft.public_id]))
    assert markdown["Content-Type"].startswith("text/markdown")
    assert markdown.content.decode().startswith("# Origin outage\n")
    printed = client.get(reverse("console:postmortem_print", args=[draft.public_id])).content.decode()
    assert "Not published" in printed and "Deploy metadata was overwritten." in printed
    assert "All times PST" in printed
    editor = client.get(editor_url(draft)).content.decode()
    assert reverse("console:postmortem_print", args=[draft.public_id]) in editor
