# ruff: noqa: F811 - the fixtures of postmortem_support are imported by name
"""Postmortem templates in the console: an admin writes the team's own, with the sections it uses and
the questions each starts with; a responder chooses one for a new postmortem, whose editor then offers
those sections, filled with those questions. A refused form says why beside the field, answers 400 and
saves nothing; a responder or viewer cannot manage templates; deleting one leaves its postmortems as
they were."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.postmortems.models import (
    Postmortem,
    PostmortemTemplate,
    PostmortemVersion,
)
from tests.console.postmortem_routes import team_template, template_form
from tests.console.postmortem_support import entries_since, incident, signed_in, team  # noqa: F401
from tests.routes import row_counts

LIST = reverse("console:postmortem_templates")
NEW = reverse("console:postmortem_template_new")


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}_error">([^<]+)<', html)
    return html_lib.unescape(found.group(1)) if found else ""


def section_ids(html: str) -> list[str]:
    """The sections the editor shows open, in order (folded ones are inside <details class="pm-more">)."""
    shown = html.split('<details class="pm-more">')[0]
    return re.findall(r'data-preview="preview-([a-z_]+)"', shown)


# --- managing them -------------------------------------------------------------------------------------


def test_an_admin_adds_a_template_with_its_sections_and_questions(signed_in, team):
    client = signed_in("adam")
    form = client.get(NEW).content.decode()
    assert 'name="sections" value="went_well"' in form and 'name="starter_went_well"' in form
    before = AuditEvent.objects.count()
    response = client.post(NEW, template_form("Downtime report", ["summary", "impact", "closing"],
                                              summary="What did customers see?", recovery="Not chosen: dropped."))
    assert response.status_code == 302 and response["Location"] == LIST
    template = PostmortemTemplate.objects.get(name="Downtime report")
    assert template.sections == ["summary", "impact", "closing"] and template.starter == {
        "summary": "What did customers see?"}
    [entry] = entries_since(before)
    assert (entry.action, entry.actor) == ("postmortem_template.create", "adam")
    listing = client.get(LIST).content.decode()
    row = listing[listing.index('id="template-' + template.public_id):]
    assert "Summary, Impact, Closing words" in row[:600]


def test_an_admin_edits_a_built_in_template_but_cannot_delete_it(signed_in, page):
    client = signed_in("adam")
    short = services.find_template("postmortem")
    edit = reverse("console:postmortem_template_edit", args=[short.public_id])
    page = client.get(edit).content.decode()
    assert "built in: it can be changed, not deleted" in page
    assert "What did customers experience, for how long?" in page
    response = client.post(edit, template_form("Postmortem", ["summary", "impact", "recovery", "closing"],
                                               recovery="How was service restored?"))
    assert response.status_code == 302
    short.refresh_from_db()
    assert short.sections == ["summary", "impact", "recovery", "closing"]
    listing = client.get(LIST).content.decode()
    assert reverse("console:postmortem_template_delete", args=[short.public_id]) not in listing
    before = row_counts()
    response = client.post(reverse("console:postmortem_template_delete", args=[short.public_id]))
    assert response.status_code == 400 and "can be edited but not deleted" in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(("data", "field_id", "message"), [
    (template_form("", ["summary"]), "id_name", "This field is required."),
    (template_form("postmortem", ["summary"]), "id_name", 'a template named "postmortem" already exists'),
    (template_form("Downtime report", []), "id_sections", "choose at least one section"),
    ({**template_form("Downtime report", ["summary"]), "position": "first"}, "id_position", "Enter a whole number."),
])
def test_a_bad_template_is_refused_beside_the_field_and_nothing_saved(signed_in, page, data, field_id, message):
    client = signed_in("adam")
    services.postmortem_templates()
    before = row_counts()
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert field_error(response.content.decode(), field_id) == message
    assert row_counts() == before


def test_a_duplicate_name_is_refused_when_renaming_too(signed_in, page):
    client = signed_in("adam")
    template = team_template()
    before = row_counts()
    response = client.post(reverse("console:postmortem_template_edit", args=[template.public_id]),
                           template_form("Learning Review", ["summary"]))
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_name") == 'a template named "Learning Review" already exists'
    assert row_counts() == before


@pytest.mark.parametrize("name", ["alice", "vera"])
def test_a_responder_or_viewer_cannot_manage_templates(signed_in, page, name):
    client = signed_in(name)
    template = team_template()
    before = row_counts()
    for url, data in [(NEW, template_form("Ours", ["summary"])),
                      (reverse("console:postmortem_template_edit", args=[template.public_id]),
                       template_form("Renamed", ["summary"])),
                      (reverse("console:postmortem_template_delete", args=[template.public_id]), {})]:
        assert client.post(url, data).status_code == 403
    assert row_counts() == before


def test_a_responder_reads_the_templates_without_ways_to_change_them(signed_in):
    team_template()
    html = signed_in("alice").get(LIST).content.decode()
    assert "Downtime report" in html and "Learning review" in html and "built in" in html
    assert NEW not in html and "/edit" not in html and "Delete" not in html
    assert signed_in("vera").get(LIST).status_code == 403
    postmortems = signed_in("alice").get(reverse("console:postmortems")).content.decode()
    assert f'href="{LIST}"' in postmortems


# --- writing from one -------------------------------------------------------------------------------------


def test_a_new_postmortem_starts_with_the_team_templates_questions(signed_in, incident):
    template = team_template()
    client = signed_in("alice")
    form = client.get(reverse("console:postmortem_new")).content.decode()
    assert f'value="{template.public_id}"' in form and "Downtime report: For an outage" in form
    assert 'value="learning_review"' in form and 'value="postmortem"' in form
    response = client.post(reverse("console:postmortem_new"), {
        "incidents": [incident.public_id], "template": template.public_id, "title": ""})
    pm = Postmortem.objects.get()
    assert response.status_code == 302
    assert (pm.from_template, pm.document_label, pm.title) == (template, "Downtime report",
                                                               "Downtime report: Deploys fail on the origin")
    assert pm.summary == "What did customers see?" and pm.impact == ""
    editor = client.get(response["Location"]).content.decode()
    assert section_ids(editor) == ["summary", "impact", "closing"]  # the template's: the others folded
    assert 'data-preview="preview-went_well"' in editor
    assert "Still the template's starter text" in editor[editor.index('id="id_summary_help"'):][:400]


def test_the_editor_also_shows_a_section_outside_the_template_that_holds_text(signed_in, incident):
    client = signed_in("alice")
    client.post(reverse("console:postmortem_new"), {"incidents": [incident.public_id], "template": "postmortem"})
    pm = Postmortem.objects.get()
    assert pm.impact.startswith("What did customers experience, for how long?")
    services.update_postmortem(pm, went_well="The runbook was right.")
    editor = client.get(reverse("console:postmortem", args=[pm.public_id])).content.decode()
    assert section_ids(editor) == ["summary", "impact", "timeline_intro", "root_cause", "went_well",
                                   "actions_intro", "closing"]


def test_deleting_a_template_in_use_keeps_its_postmortems_and_their_editor_shows_every_section(signed_in, incident):
    template = team_template()
    signed_in("alice").post(reverse("console:postmortem_new"), {
        "incidents": [incident.public_id], "template": template.public_id})
    pm = Postmortem.objects.get()
    kept = (pm.title, pm.summary, pm.template, pm.version, PostmortemVersion.objects.count())
    client = signed_in("adam")
    before = AuditEvent.objects.count()
    response = client.post(reverse("console:postmortem_template_delete", args=[template.public_id]))
    assert response.status_code == 302
    assert [e.action for e in entries_since(before)] == ["postmortem_template.delete"]
    pm.refresh_from_db()
    assert (pm.title, pm.summary, pm.template, pm.version, PostmortemVersion.objects.count()) == kept
    editor = client.get(reverse("console:postmortem", args=[pm.public_id])).content.decode()
    assert len(section_ids(editor)) == 10 and '<details class="pm-more">' not in editor
