"""The postmortem, action item and reliability screens' CONSOLE_SCENARIOS, merged into
tests/test_audit_coverage.py: a valid submission that changes something, as (world) -> (URL, form
data), `world` having .components and .owner, the user signed in. Their roles are in
tests/test_routes_roles.py's EXPECTED. Reading: viewer. Writing, reviewing and publishing a postmortem and following up its
action items: responder (as the API's write scope). The kinds of action items, the postmortem
templates and whether readers see the reliability report are the team's configuration: admin (as the
API's admin scope); responders see the templates they choose from."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.accounts.models import Profile
from signalpost.console.localtime import local_input_value
from signalpost.console.postmortem_forms import zone_of
from signalpost.postmortems import services
from signalpost.postmortems.models import Postmortem
from signalpost.status import services as status

# Someone other than the signed-in owner, who wrote the postmortems the scenarios act on.
WRITER = audit.Actor(kind="user", name="wanda (writer)", source="console")


def resolved_incident(w, name: str = "Volumes unreachable in ZH1"):
    now = timezone.now()
    return status.backfill_incident(
        name=name, started_at=now - timedelta(hours=5), resolved_at=now - timedelta(hours=4),
        body="Volumes cannot be attached.", components={w.components["zh1"]: "major_outage"})


def draft(w) -> Postmortem:
    with audit.acting(WRITER):
        return services.create_postmortem(incidents=[resolved_incident(w)], title="Volumes unreachable in ZH1",
                                           summary="Volumes could not be attached for an hour.")


def in_review(w) -> Postmortem:
    pm = draft(w)
    with audit.acting(WRITER):
        return services.request_review(pm)


def approved(w) -> Postmortem:
    pm = in_review(w)
    rosa, _ = get_user_model().objects.get_or_create(username="rosa")
    Profile.objects.get_or_create(user=rosa, defaults={"role": "responder"})
    return services.approve(pm, rosa)


def published(w) -> Postmortem:
    pm = approved(w)
    with audit.acting(WRITER):
        return services.publish(pm)


def with_item(w):
    pm = draft(w)
    with audit.acting(WRITER):
        return pm, services.add_action_item(pm, title="Alert on attach failures", kind="Detection", owner="Storage")


def _url(name: str, *args) -> str:
    return reverse(f"console:{name}", args=args)


def _entry_url(name: str):
    def make(w):
        pm = draft(w)
        entry = pm.timeline.first()
        shown = local_input_value(entry.at, zone_of(pm.timeline_zone)).strftime("%Y-%m-%dT%H:%M")
        prefix = f"entry-{entry.public_id}"
        return _url(name, pm.public_id, entry.public_id), {
            f"{prefix}-at": shown, f"{prefix}-text": "Volumes stop answering.", f"{prefix}-shown_zone": pm.timeline_zone}
    return make


def _document(w) -> tuple[str, dict]:
    pm = draft(w)
    return _url("postmortem_save", pm.public_id), document_data(pm, root_cause="A failed switch cut ZH1 off.")


def document_data(pm: Postmortem, **changes) -> dict:
    """The document form as the editor shows it, with some fields changed."""
    from signalpost.postmortems.models import SECTIONS

    data = {"title": pm.title, "template": pm.document_label, "timeline_zone": pm.timeline_zone,
            "shown_zone": pm.timeline_zone, "incidents": [i.public_id for i in pm.incidents.all()],
            "first_signal_at": "", "detected_at": "", "acknowledged_at": ""}
    for section in SECTIONS:
        data[section.field] = getattr(pm, section.field)
    if pm.root_cause_unknown:
        data["root_cause_unknown"] = "on"
    data.update(changes)
    return data


def _item_form(prefix: str, **fields) -> dict:
    base = {"title": "Alert on attach failures", "kind": services.find_kind("Detection").public_id, "owner": "",
            "due_date": "", "state": "open", "link": "", "description": ""}
    base.update(fields)
    return {f"{prefix}-{k}": v for k, v in base.items()}


def _kind_id(name: str) -> str:
    return services.find_kind(name).public_id


def _tracking(w) -> tuple[str, dict]:
    _, item = with_item(w)
    prefix = f"item-{item.public_id}"
    return _url("action_item_update", item.public_id), {
        f"{prefix}-state": "in_progress", f"{prefix}-owner": "Storage team", f"{prefix}-due_date": "2030-01-31",
        f"{prefix}-next": "/console/action-items/?state=any"}


def _review(w) -> tuple[str, dict]:
    from tests.routes import make_user

    pm = draft(w)
    reviewer = make_user("responder", "rex")
    return _url("postmortem_request_review", pm.public_id), {"review-reviewer": str(reviewer.pk)}


def _figures(w) -> tuple[str, dict]:
    pm = draft(w)
    return _url("postmortem_figures", pm.public_id), {
        "figures-TOTAL_FORMS": "1", "figures-INITIAL_FORMS": "0", "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "30", "figures-0-label": "Volumes affected", "figures-0-value": "7%"}


def _entry_add(w) -> tuple[str, dict]:
    pm = draft(w)
    return _url("postmortem_entry_add", pm.public_id), {
        "new-entry-at": "2025-06-02T08:00", "new-entry-text": "On-call paged.", "new-entry-shown_zone": pm.timeline_zone}


def _prefill(w) -> tuple[str, dict]:
    with audit.acting(WRITER):
        pm = services.create_postmortem(incidents=[resolved_incident(w, "Slow API")], title="Slow API", prefill=False)
    return _url("postmortem_prefill", pm.public_id), {}


def _entry_remove(w) -> tuple[str, dict]:
    pm = draft(w)
    return _url("postmortem_entry_remove", pm.public_id, pm.timeline.first().public_id), {}


def _item_add(w) -> tuple[str, dict]:
    return _url("postmortem_item_add", draft(w).public_id), _item_form("new-item")


def _item_edit(w) -> tuple[str, dict]:
    pm, item = with_item(w)
    return (_url("postmortem_item_edit", pm.public_id, item.public_id),
            _item_form(f"item-{item.public_id}", owner="Storage", state="done"))


def _item_remove(w) -> tuple[str, dict]:
    pm, item = with_item(w)
    return _url("postmortem_item_remove", pm.public_id, item.public_id), {}


def team_template(name: str = "Downtime report"):
    with audit.acting(WRITER):
        return services.create_template(name=name, description="For an outage of a customer-facing service.",
                                        sections=["summary", "impact", "closing"],
                                        starter={"summary": "What did customers see?"})


def template_form(name: str, sections: list[str], **starter: str) -> dict:
    """The template form as an admin fills it in."""
    from signalpost.postmortems.models import SECTION_FIELDS

    data = {"name": name, "description": "", "position": "", "sections": sections}
    data.update({f"starter_{field}": starter.get(field, "") for field in SECTION_FIELDS})
    return data


def _template_edit(w) -> tuple[str, dict]:
    template = team_template()
    return _url("postmortem_template_edit", template.public_id), template_form(
        "Downtime report", ["summary", "impact", "recovery", "closing"], summary="What did customers see?",
        recovery="How was service restored?")


CONSOLE_SCENARIOS: dict[str, Callable] = {
    "console:postmortem_new": lambda w: (_url("postmortem_new"), {
        "incidents": [resolved_incident(w).public_id], "template": "learning_review", "title": ""}),
    "console:postmortem_save": _document,
    "console:postmortem_figures": _figures,
    "console:postmortem_entry_add": _entry_add,
    "console:postmortem_prefill": _prefill,
    "console:postmortem_entry_edit": _entry_url("postmortem_entry_edit"),
    "console:postmortem_entry_remove": _entry_remove,
    "console:postmortem_item_add": _item_add,
    "console:postmortem_item_edit": _item_edit,
    "console:postmortem_item_remove": _item_remove,
    "console:postmortem_request_review": _review,
    "console:postmortem_approve": lambda w: (_url("postmortem_approve", in_review(w).public_id), {}),
    "console:postmortem_publish": lambda w: (_url("postmortem_publish", approved(w).public_id), {}),
    "console:postmortem_unpublish": lambda w: (_url("postmortem_unpublish", published(w).public_id), {}),
    "console:action_item_update": _tracking,
    "console:action_item_kind_add": lambda w: (_url("action_item_kind_add"), {"new-kind-name": "Game days"}),
    "console:action_item_kind_rename": lambda w: (
        _url("action_item_kind_rename", _kind_id("Mitigation")),
        {f"kind-{_kind_id('Mitigation')}-name": "Mitigation (during the incident)"}),
    "console:action_item_kind_move": lambda w: (_url("action_item_kind_move", _kind_id("Mitigation")),
                                                {"direction": "up"}),
    "console:action_item_kind_delete": lambda w: (_url("action_item_kind_delete", _kind_id("Mitigation")), {}),
    "console:reliability_public": lambda w: (_url("reliability_public"), {"public-public": "on",
                                                                          "public-months": "6"}),
    "console:postmortem_template_new": lambda w: (_url("postmortem_template_new"), template_form(
        "Security incident report", ["summary", "impact", "root_cause", "closing"],
        impact="Whose data was exposed, and which?")),
    "console:postmortem_template_edit": _template_edit,
    "console:postmortem_template_delete": lambda w: (
        _url("postmortem_template_delete", team_template().public_id), {}),
}
