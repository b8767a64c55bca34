"""Postmortem templates through the services, the API and the upgrade that brings them: two built-in
ones after migrate (every older postmortem linked to the one its label names, nothing lost), a team's
template whose questions start a new postmortem, a deleted template that leaves its postmortems as they
were, and one audit entry per write (none when nothing changed)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.postmortems.doc_templates import SHORT_SECTIONS, STARTER
from signalpost.postmortems.models import (
    SECTION_FIELDS,
    Postmortem,
    PostmortemTemplate,
    PostmortemVersion,
)
from signalpost.status import services as status
from signalpost.errors import InvalidInput

BASE = "/api/v1/postmortems"


@pytest.fixture
def incident(components):
    return status.backfill_incident(
        name="Mail delays", started_at=datetime(2025, 6, 2, 8, 0, tzinfo=UTC),
        resolved_at=datetime(2025, 6, 2, 9, 30, tzinfo=UTC), components={components["mail"]: "partial_outage"},
        body="Mail is late.")


@pytest.fixture
def downtime_report(db) -> PostmortemTemplate:
    return services.create_template(
        name="Downtime report", description="For an outage customers noticed.",
        sections=["closing", "summary", "impact"],  # kept in the order of a postmortem
        starter={"summary": "What did customers see, and for how long?", "impact": "Who was affected?",
                 "recovery": "Dropped with its unchosen section."})


def actions_since(before: int) -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:])


# --- the upgrade ----------------------------------------------------------------------------------------


def test_the_upgrade_creates_the_built_in_templates_and_links_every_older_postmortem(transactional_db):
    """Migrate back to before templates, write postmortems as that version did, migrate forward."""
    executor = MigrationExecutor(connection)
    executor.migrate([("postmortems", "0002_default_action_item_kinds")])
    old = executor.loader.project_state([("postmortems", "0002_default_action_item_kinds")]).apps
    made = {}
    for label in ["learning_review", "postmortem", "Downtime report"]:
        made[label] = old.get_model("postmortems", "Postmortem").objects.create(
            public_id=f"old{len(made)}", title=f"Written as {label}", template=label, summary=f"Text of {label}.")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    built_in = {t.key: t for t in PostmortemTemplate.objects.filter(built_in=True)}
    assert sorted(built_in) == ["learning_review", "postmortem"]
    assert (built_in["learning_review"].name, built_in["postmortem"].name) == ("Learning review", "Postmortem")
    assert built_in["learning_review"].sections == SECTION_FIELDS
    assert built_in["postmortem"].sections == SHORT_SECTIONS
    assert built_in["postmortem"].starter["impact"].startswith("What did customers experience, for how long?")
    after = {pm.template: pm for pm in Postmortem.objects.all()}
    assert after["learning_review"].from_template == built_in["learning_review"]
    assert after["postmortem"].from_template == built_in["postmortem"]
    assert after["Downtime report"].from_template is None  # a name of the team's own: every section, as before
    for label, pm in after.items():
        assert (pm.title, pm.summary, pm.document_label) == (
            f"Written as {label}", f"Text of {label}.", {"learning_review": "Learning review",
                                                        "postmortem": "Postmortem"}.get(label, label))


# --- writing from a template ------------------------------------------------------------------------------


def test_a_team_templates_questions_start_a_new_postmortem(downtime_report, incident):
    assert downtime_report.sections == ["summary", "impact", "closing"]
    assert set(downtime_report.starter) == {"summary", "impact"}
    pm = services.create_postmortem(incidents=[incident], template=downtime_report.public_id, starter_text=True,
                                    impact="Mail was up to two hours late.")
    assert (pm.from_template, pm.template, pm.document_label) == (downtime_report, "Downtime report",
                                                                   "Downtime report")
    assert pm.title == "Downtime report: Mail delays"
    assert pm.summary == "What did customers see, and for how long?"
    assert pm.impact == "Mail was up to two hours late."  # given: the starter text does not replace it
    assert pm.recovery == pm.root_cause == ""
    assert PostmortemVersion.objects.get(postmortem=pm).content["summary"] == pm.summary


def test_a_built_in_template_is_found_by_key_name_or_id_and_a_script_keeps_blank_sections(incident, components):
    short = services.find_template("postmortem")
    assert services.find_template("Postmortem") == services.find_template(short.public_id) == short
    pm = services.create_postmortem(incidents=[incident], template="postmortem")
    assert (pm.from_template, pm.template, pm.summary) == (short, "postmortem", "")  # no starter text unless asked
    other = status.backfill_incident(name="Slow API", started_at=datetime(2025, 7, 1, 8, 0, tzinfo=UTC),
                                     resolved_at=datetime(2025, 7, 1, 9, 0, tzinfo=UTC), body="Slow.",
                                     components={components["zh1"]: "degraded_performance"})
    named = services.create_postmortem(incidents=[other], template="Scheduled Maintenance Report", starter_text=True)
    assert (named.from_template, named.template, named.summary) == (None, "Scheduled Maintenance Report", "")


def test_renaming_the_label_moves_a_postmortem_to_another_template_and_back(downtime_report, incident):
    pm = services.create_postmortem(incidents=[incident], template="learning_review")
    pm = services.update_postmortem(pm, template="Downtime report")
    assert (pm.from_template, pm.template) == (downtime_report, "Downtime report")
    services.update_template(downtime_report, name="Outage report")
    pm = services.update_postmortem(pm, template="Downtime report", summary="Mail was late.")
    assert pm.from_template == downtime_report  # the label unchanged: its template kept, though renamed
    pm = services.update_postmortem(pm, template="Our own words")
    assert (pm.from_template, pm.document_label) == (None, "Our own words")


def test_a_deleted_template_leaves_its_postmortems_intact(downtime_report, incident):
    pm = services.create_postmortem(incidents=[incident], template=downtime_report, starter_text=True)
    services.update_postmortem(pm, summary="Mail was late for two hours.")
    content = PostmortemVersion.objects.filter(postmortem=pm).order_by("number").last().content
    versions = PostmortemVersion.objects.filter(postmortem=pm).count()
    before = AuditEvent.objects.count()

    assert services.delete_template(downtime_report) == 1
    assert actions_since(before) == ["postmortem_template.delete"]
    pm.refresh_from_db()
    assert pm.from_template is None and pm.document_label == "Downtime report"
    assert services.document(pm) == content
    assert PostmortemVersion.objects.filter(postmortem=pm).count() == versions
    assert not PostmortemTemplate.objects.filter(name="Downtime report").exists()


def test_a_built_in_template_can_be_edited_but_not_deleted(db):
    long = services.find_template("learning_review")
    services.update_template(long, description="Ours, for the big ones.", starter={"summary": "In two lines?"})
    long.refresh_from_db()
    assert long.description == "Ours, for the big ones." and long.starter == {"summary": "In two lines?"}
    with pytest.raises(InvalidInput) as refused:
        services.delete_template(long)
    assert refused.value.field == "template" and "built in" in refused.value.message
    assert PostmortemTemplate.objects.filter(pk=long.pk).exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"name": "  "}, "name", "must not be empty"),
    ({"name": "downtime REPORT"}, "name", 'a template named "downtime REPORT" already exists'),
    ({"name": "learning_review"}, "name", "what scripts call a built-in template"),
    ({"name": "Short", "sections": []}, "sections", "choose at least one section"),
    ({"name": "Short", "sections": ["summary", "lessons"]}, "sections", '"lessons" is not a section'),
    ({"name": "Short", "starter": {"lessons": "?"}}, "starter.lessons", "is not a section"),
    ({"name": "Short", "position": "first"}, "position", "must be a whole number"),
])
def test_bad_template_input_is_refused_naming_the_field_and_nothing_is_saved(downtime_report, fields, field, message):
    count, before = PostmortemTemplate.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.create_template(**fields)
    assert refused.value.field == field and message in refused.value.message
    assert (PostmortemTemplate.objects.count(), AuditEvent.objects.count()) == (count, before)


def test_each_template_write_records_one_entry_and_an_unchanged_one_none(downtime_report):
    before = AuditEvent.objects.count()
    services.update_template(downtime_report, name="Downtime report", sections=["summary", "impact", "closing"],
                             starter=dict(downtime_report.starter))
    assert actions_since(before) == []
    services.update_template(downtime_report, sections=["summary", "closing"])
    [entry] = AuditEvent.objects.order_by("id")[before:]
    assert entry.action == "postmortem_template.update" and entry.object_repr == "Downtime report"
    assert entry.before["sections"] == ["summary", "impact", "closing"] and entry.after["sections"] == ["summary",
                                                                                                       "closing"]
    downtime_report.refresh_from_db()
    assert downtime_report.starter == {"summary": "What did customers see, and for how long?"}  # impact's went


def test_a_missing_built_in_template_comes_back(db):
    PostmortemTemplate.objects.all().delete()
    assert [t.key for t in services.postmortem_templates()] == ["learning_review", "postmortem"]
    assert services.find_template("postmortem").starter == {f: STARTER[f] for f in SHORT_SECTIONS}


# --- the API ----------------------------------------------------------------------------------------------


def test_a_script_lists_the_templates_and_starts_a_postmortem_from_one(author_api, downtime_report, incident):
    listed = author_api.call("GET", f"{BASE}/templates")
    assert [(t["name"], t["key"], t["built_in"]) for t in listed] == [
        ("Learning review", "learning_review", True), ("Postmortem", "postmortem", True),
        ("Downtime report", None, False)]
    team = listed[2]
    assert team["sections"] == ["summary", "impact", "closing"] and team["postmortems"] == 0
    assert team["starter"]["summary"] == "What did customers see, and for how long?"

    made = author_api.call("POST", BASE, {"incidents": [incident.public_id], "template": team["id"],
                                          "starter_text": True, "impact": "Mail was late."})
    assert (made["template"], made["template_id"], made["label"]) == ("Downtime report", team["id"], "Downtime report")
    assert made["summary"] == "What did customers see, and for how long?" and made["impact"] == "Mail was late."
    assert author_api.call("GET", f"{BASE}/templates")[2]["postmortems"] == 1


def test_a_script_naming_a_built_in_template_gets_what_it_always_got(author_api, incident):
    made = author_api.call("POST", BASE, {"incidents": [incident.public_id], "template": "Learning review"})
    assert (made["template"], made["label"], made["summary"]) == ("learning_review", "Learning review", "")
    assert made["template_id"] == services.find_template("learning_review").public_id


def test_reading_the_templates_needs_a_token(client, db):
    assert client.get(f"{BASE}/templates").status_code == 401


def test_a_script_adds_edits_and_deletes_a_template_as_the_console_does(author_api, incident):
    before = AuditEvent.objects.count()
    made = author_api.call("POST", f"{BASE}/templates", {
        "name": "Downtime report", "description": "For an outage customers noticed.",
        "sections": ["closing", "summary"], "starter": {"summary": "What did customers see?"}})
    assert (made["name"], made["built_in"], made["sections"], made["postmortems"]) == (
        "Downtime report", False, ["summary", "closing"], 0)
    assert made["starter"] == {"summary": "What did customers see?"}
    assert author_api.call("GET", f"{BASE}/templates/{made['id']}") == made

    changed = author_api.call("PATCH", f"{BASE}/templates/{made['id']}", {"sections": ["summary", "impact"],
                                                                          "position": 7})
    assert (changed["name"], changed["sections"], changed["position"]) == ("Downtime report", ["summary", "impact"], 7)
    assert changed["starter"] == {"summary": "What did customers see?"}
    author_api.call("POST", BASE, {"incidents": [incident.public_id], "template": made["id"]})

    left = author_api.call("DELETE", f"{BASE}/templates/{made['id']}")
    assert [t["name"] for t in left] == ["Learning review", "Postmortem"]
    assert Postmortem.objects.get().template == "Downtime report"  # the postmortem keeps its label
    entries = AuditEvent.objects.order_by("id")[before:]
    assert [(e.action, e.actor_kind, e.source) for e in entries if e.action.startswith("postmortem_template")] == [
        ("postmortem_template.create", "token", "api"), ("postmortem_template.update", "token", "api"),
        ("postmortem_template.delete", "token", "api")]


@pytest.mark.parametrize(("method", "path", "payload", "status", "field", "message"), [
    ("POST", "", {"name": "Postmortem"}, 422, "name", 'a template named "Postmortem" already exists'),
    ("POST", "", {"name": "Short", "sections": []}, 422, "sections", "choose at least one section"),
    ("POST", "", {"name": "Short", "starter": {"lessons": "?"}}, 422, "starter.lessons", "is not a section"),
    ("PATCH", "/{learning}", {"name": ""}, 422, "name", "must not be empty"),
    ("DELETE", "/{learning}", None, 422, "template", "is built in"),
])
def test_a_script_gets_the_consoles_refusals_naming_the_field(author_api, method, path, payload, status, field,
                                                              message):
    learning = services.find_template("learning_review")
    count, before = PostmortemTemplate.objects.count(), AuditEvent.objects.count()
    response = author_api.request(method, f"{BASE}/templates" + path.format(learning=learning.public_id), payload)
    assert response.status_code == status
    assert [(e["field"], message in e["message"]) for e in response.json()["errors"]] == [(field, True)]
    assert (PostmortemTemplate.objects.count(), AuditEvent.objects.count()) == (count, before)
    learning.refresh_from_db()
    assert learning.name == "Learning review"


def test_managing_templates_needs_an_admin_token(client, make_token):
    writer = make_token("write")
    response = client.post(f"{BASE}/templates", {"name": "Downtime report"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {writer}"})
    assert response.status_code == 403
    assert client.get(f"{BASE}/templates/nosuchid", headers={"Authorization": f"Bearer {writer}"}).status_code == 404
    assert not PostmortemTemplate.objects.filter(name="Downtime report").exists()
