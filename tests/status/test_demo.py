"""The demo a new user sees on first start: besides the page and its incidents, a learning review
published next to its incident (written by one demo responder, approved by another) and a postmortem
still in review, so that the postmortem features show at once."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from signalpost.accounts.models import AuditEvent
from signalpost.accounts.roles import role_of
from signalpost.postmortems.models import (
    ActionItem,
    Postmortem,
    PostmortemVersion,
    TimelineEntry,
)
from signalpost.public.models import SnapshotFile
from signalpost.demo import load_demo
from tests.publishing import publish
from signalpost.errors import InvalidInput
from signalpost.status.models import Incident
from tests.postmortems.conftest import action_groups, section, text, timeline


def _published() -> Postmortem:
    return Postmortem.objects.get(status="published")


def _in_review() -> Postmortem:
    return Postmortem.objects.get(status="in_review")


@pytest.fixture
def demo(db) -> None:
    load_demo()


def test_readers_can_open_the_published_learning_review(client, demo):
    pm = _published()
    page = client.get(pm.public_path)
    assert page.status_code == 200
    page = page.content.decode()
    assert "Learning review: a lost hypervisor in Paris" in page and "Learning review" in text(page)
    assert "Requests answered with an error in Paris 3.4%" in text(page)
    assert "A memory module of the hypervisor failed." in text(section(page, "pm-root-cause"))

    groups = action_groups(page)
    assert groups["Improving recovery"] == ["Move pinned add-ons off a lost host automatically"]
    assert groups["Detection"] == ["Alert on corrected memory errors before a host fails"]
    assert set(groups) == {"Preventive (process)", "Preventive (tooling)", "Detection", "Improving recovery"}
    actions = text(section(page, "pm-actions"))
    assert "Never place both add-on reverse proxies on one hypervisor In progress Owner: Platform team" in actions
    assert "Alert on corrected memory errors before a host fails Done" in actions

    # The incident's own record, and the one entry the author wrote from the monitoring.
    entries = [entry for _, _, entry in timeline(page)]
    assert entries[0] == "The hypervisor's health check fails and the on-call engineer is paged."
    assert "A hypervisor has been lost in the Paris zone. We are investigating." in entries
    assert entries[-2:] == ["Status: Resolved", ("Everything is back to normal. We will investigate the reason "
                                                 "of the hardware failure further.")]
    assert "Time to detect 6 minutes" in text(section(page, "pm-numbers"))


def test_the_incident_page_links_it_and_the_draft_stays_private(client, demo):
    published, draft = _published(), _in_review()
    incident = published.incidents.get()
    assert incident.name == "[PAR] A hypervisor has been lost"
    incident_page = client.get(incident.public_path).content.decode()
    assert f'<a href="{published.public_path}">{published.title}</a>' in incident_page

    assert client.get(draft.public_path).status_code == 404
    assert client.get(draft.markdown_path).status_code == 404
    maintenance = draft.incidents.get()
    assert maintenance.is_maintenance and maintenance.name == "Regular weekly maintenance"
    assert "/postmortems/" not in client.get(maintenance.public_path).content.decode()


def test_it_was_written_by_one_demo_responder_and_approved_by_another(demo):
    pm = _published()
    author, reviewer = pm.author, pm.approved_by
    assert author is not None and reviewer is not None and author != reviewer
    assert pm.author_name == "lea.demo" and pm.approved_by_name == "sam.demo"
    for user in (author, reviewer):
        assert role_of(user) == "responder"
        assert not user.has_usable_password()  # nobody can log in as a demo account
    assert pm.template == "learning_review" and pm.from_template.name == "Learning review"
    assert pm.approved_version == pm.version and pm.published_at > pm.approved_at > pm.created_at
    assert pm.timeline.filter(source=TimelineEntry.Source.MANUAL).count() == 1
    assert pm.timeline.exclude(source=TimelineEntry.Source.MANUAL).count() >= 6
    assert {item.state for item in pm.action_items.all()} == {"open", "in_progress", "done"}
    assert pm.figures.count() == 2
    for field in ("summary", "impact", "root_cause", "went_well", "went_badly", "closing"):
        assert getattr(pm, field), field
    # Through the services: a version per change and the workflow's audit entries.
    assert PostmortemVersion.objects.filter(postmortem=pm).count() == pm.version > 1
    workflow = AuditEvent.objects.filter(object_id=pm.public_id, action__in=[
        "postmortem.request_review", "postmortem.approve", "postmortem.publish"]).order_by("id")
    assert list(workflow.values_list("action", flat=True)) == [
        "postmortem.request_review", "postmortem.approve", "postmortem.publish"]

    draft = _in_review()
    assert draft.author == reviewer and draft.reviewer == author and draft.approved_by is None


def test_the_console_shows_the_workflow_and_an_overdue_action_item(client, demo):
    client.force_login(get_user_model().objects.get(username="lea.demo"))
    listing = text(client.get(reverse("console:postmortems")).content.decode())
    assert "Learning review: a lost hypervisor in Paris (Learning review) Published" in listing
    assert "Postmortem: sites unavailable during the weekly maintenance (Postmortem) In review" in listing
    overdue = client.get(reverse("console:action_items"), {"overdue": "1"}).content.decode()
    assert "Move pinned add-ons off a lost host automatically" in overdue
    assert "Never place both add-on reverse proxies" not in overdue


def test_loading_it_again_refuses_and_changes_nothing(demo):
    def counts() -> tuple[int, ...]:
        return (Incident.objects.count(), Postmortem.objects.count(), ActionItem.objects.count(),
                get_user_model().objects.count(), AuditEvent.objects.count())

    before = counts()
    with pytest.raises(InvalidInput):
        load_demo()
    assert counts() == before
    assert Postmortem.objects.filter(status="published").count() == 1


def test_the_published_snapshot_carries_it(transactional_db):
    load_demo()
    publish()  # the worker's publisher, once the demo committed
    published, draft = _published(), _in_review()
    snapshot = dict(SnapshotFile.objects.values_list("path", "body"))
    assert published.title.encode() in snapshot[published.public_path]
    incident = published.incidents.get()
    assert f'href="{published.public_path}"'.encode() in snapshot[incident.public_path]
    assert draft.public_path not in snapshot
