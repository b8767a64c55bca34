"""Writing, reviewing and publishing a postmortem: someone other than the author approves it, only an
approved one is published, every change is kept as a version, and the public pages follow."""

from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest

from signalpost.accounts import audit
from signalpost.postmortems import services
from signalpost.postmortems.models import (
    ActionItem,
    Postmortem,
    PostmortemVersion,
    State,
    TimelineEntry,
)
from signalpost.status import services as status
from signalpost.errors import InvalidInput

UTC = dt_timezone.utc


@pytest.fixture
def incident(components):
    return status.backfill_incident(
        name="Database failover", started_at=datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
        resolved_at=datetime(2025, 3, 4, 9, 40, tzinfo=UTC), body="Writes fail.",
        components={components["zh1"]: "major_outage"},
        updates=[{"display_at": datetime(2025, 3, 4, 9, 12, tzinfo=UTC), "status": "identified",
                  "body": "The primary lost its disk."}])


@pytest.fixture
def draft(incident, people):
    return services.create_postmortem(incidents=[incident], title="Database failover", author=people["alice"],
                                      summary="Writes failed for 40 minutes.", root_cause="A full disk.")


def reviewed(pm, people):
    services.request_review(pm, people["bob"], user=people["alice"])
    return services.approve(pm, people["bob"])


def refused(call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        call(*args, **kwargs)
    return error.value


def test_a_new_postmortem_is_a_draft_with_the_incidents_timeline(draft, incident):
    assert draft.status == State.DRAFT and draft.author_name == "alice" and draft.version == 1
    assert draft.timeline_zone == "Europe/Zurich"  # the page's
    assert [(e.at.astimezone(UTC).strftime("%H:%M"), e.text, e.source) for e in draft.timeline.all()] == [
        ("09:00", "Status: Investigating (zh1.single: major outage)", TimelineEntry.Source.STATE),
        ("09:00", "Writes fail.", TimelineEntry.Source.UPDATE),
        ("09:12", "Status: Identified", TimelineEntry.Source.STATE),
        ("09:12", "The primary lost its disk.", TimelineEntry.Source.UPDATE),
        ("09:40", "Status: Resolved (zh1.single: operational)", TimelineEntry.Source.STATE),
        ("09:40", "This incident has been resolved.", TimelineEntry.Source.UPDATE),
    ]
    # Prefilling again adds nothing: those entries are there already.
    assert services.prefill_timeline(draft) == 0


def test_an_author_cannot_approve_their_own_postmortem(draft, people):
    services.request_review(draft, people["bob"], user=people["alice"])
    error = refused(services.approve, draft, people["alice"])
    assert (error.field, error.message) == ("approved_by", "an author cannot approve their own postmortem")
    draft.refresh_from_db()
    assert draft.status == State.IN_REVIEW and draft.approved_at is None


def test_a_token_cannot_approve_what_it_wrote(incident, people):
    bot = audit.Actor(kind="token", name="token bot (sp_abc…)", source="api", token_id=1)
    with audit.acting(bot):
        pm = services.create_postmortem(incidents=[incident], title="By a script")
        services.request_review(pm)
        assert refused(services.approve, pm).message == "an author cannot approve their own postmortem"
    # a token made on the server acts for no one, and four eyes need a second person
    other = audit.Actor(kind="token", name="token reviewer (sp_def…)", source="api", token_id=2)
    with audit.acting(other):
        assert refused(services.approve, pm).message.startswith("approving needs a person")
    bobs = audit.Actor(kind="token", name="token bob's (sp_ghi…)", source="api", token_id=3, user_id=people["bob"].pk)
    with audit.acting(bobs):
        pm = services.approve(pm)
    assert pm.status == State.APPROVED and pm.approved_by == people["bob"] and pm.approved_by_name == "bob"


def test_a_review_is_asked_of_someone_who_may_give_it(draft, people):
    assert refused(services.request_review, draft, people["alice"]).message == (
        "the author cannot review their own postmortem")
    assert "needs the responder role" in refused(services.request_review, draft, people["vera"]).message
    services.request_review(draft, people["bob"], user=people["alice"])
    assert "approving needs the responder role" in refused(services.approve, draft, people["vera"]).message


def test_publishing_needs_an_approval_first(draft, people):
    assert "only an approved postmortem can be published" in refused(services.publish, draft, people["alice"]).message
    services.request_review(draft, people["bob"], user=people["alice"])
    assert "only an approved postmortem" in refused(services.publish, draft, people["alice"]).message
    services.approve(draft, people["bob"])
    pm = services.publish(draft, people["alice"])
    assert pm.status == State.PUBLISHED and pm.published_at is not None and pm.first_published_at == pm.published_at
    assert refused(services.publish, pm, people["alice"]).message == "the postmortem is already published"


def test_it_is_published_only_after_its_incidents_end(components, people):
    ongoing = status.open_incident(name="Still down", components={components["zh1"]: "major_outage"})
    pm = services.create_postmortem(incidents=[ongoing], title="Too early", author=people["alice"])
    reviewed(pm, people)
    error = refused(services.publish, pm, people["alice"])
    assert error.field == "incidents" and "still open" in error.message


def test_changing_an_approved_postmortem_withdraws_the_approval(draft, people):
    reviewed(draft, people)
    item = services.add_action_item(draft, title="Alert on disk usage", kind="Detection", user=people["alice"])
    draft.refresh_from_db()
    assert draft.status == State.IN_REVIEW and draft.approved_by is None  # a new item: read it again
    reviewed(draft, people)
    # Following an item up is not rewriting the document.
    services.update_action_item(item, state="in_progress", owner="Storage team", due_date=date(2025, 4, 1),
                                link="https://tracker.example.com/OPS-12", user=people["alice"])
    draft.refresh_from_db()
    assert draft.status == State.APPROVED and draft.approved_by_name == "bob"
    services.update_postmortem(draft, root_cause="A full disk, and no alert before it filled.", user=people["alice"])
    draft.refresh_from_db()
    assert draft.status == State.IN_REVIEW and draft.approved_at is None


def test_a_published_postmortem_stays_public_while_corrected(draft, people):
    reviewed(draft, people)
    pm = services.publish(draft, people["alice"])
    services.update_postmortem(pm, summary="Writes failed for 40 minutes in ZH1.", user=people["alice"])
    pm.refresh_from_db()
    assert pm.status == State.PUBLISHED and pm.revised_at is not None
    with pytest.raises(InvalidInput) as error:
        services.update_postmortem(pm, incidents=[])
    assert error.value.field == "incidents"


def test_every_change_is_a_version_and_the_diff_shows_it(draft, people):
    services.update_postmortem(draft, root_cause="A full disk on the primary.", user=people["alice"])
    services.set_figures(draft, [("Writes lost", "0")], user=people["bob"])
    services.update_postmortem(draft, root_cause="A full disk on the primary.")  # no change: no version
    versions = list(PostmortemVersion.objects.filter(postmortem=draft))
    assert [(v.number, v.saved_by, v.action) for v in versions] == [
        (1, "alice", "postmortem.create"), (2, "alice", "postmortem.update"), (3, "bob", "postmortem.figures")]
    assert versions[0].content["root_cause"] == "A full disk."  # the old text is kept whole
    changes = services.diff_versions(versions[0], versions[2])
    assert [(c.part, c.title) for c in changes] == [("figures", "Impact figures"), ("root_cause", "Root cause")]
    assert "+Writes lost: 0" in changes[0].diff
    assert changes[1].diff.splitlines() == [
        "--- version 1: Root cause", "+++ version 3: Root cause", "@@ -1 +1 @@",
        "-A full disk.", "+A full disk on the primary."]
    assert services.diff_versions(versions[1], versions[1]) == []


def test_the_timeline_is_edited_by_hand(draft):
    entry = services.add_timeline_entry(draft, at=datetime(2025, 3, 4, 8, 55, tzinfo=UTC),
                                        text="Disk usage alert fired (unseen).")
    assert draft.timeline.first() == entry and entry.source == TimelineEntry.Source.MANUAL
    prefilled = draft.timeline.get(text="Writes fail.")
    services.edit_timeline_entry(prefilled, text="Writes failed in ZH1.")
    prefilled.refresh_from_db()
    assert prefilled.source == TimelineEntry.Source.MANUAL  # no longer the record's words
    services.remove_timeline_entry(entry)
    assert not draft.timeline.filter(pk=entry.pk).exists()
    error = refused(services.add_timeline_entry, draft, at=None, text="When?")
    assert error.field == "entry.at"
    assert refused(services.set_timeline, draft, [{"at": datetime(2025, 3, 4, 9, 0, tzinfo=UTC), "text": " "}]).field \
        == "entries[0].text"


def test_action_items_are_checked(draft):
    cases = [
        ({"title": "", "kind": "Detection"}, "title", "must not be empty"),
        ({"title": "X", "kind": "Prayer"}, "kind", '"Prayer" is not a kind of action item (one of: Preventive '
                                                   '(process), Preventive (tooling), Detection, Mitigation, '
                                                   'Improving recovery)'),
        ({"title": "X", "kind": "Detection", "state": "maybe"}, "state", '"maybe" is not one of: open, in_progress, '
                                                                        'done, wont_do'),
        ({"title": "X", "kind": "Detection", "link": "javascript:alert(1)"}, "link",
         "must be an http:// or https:// address (the item in your tracker)"),
        ({"title": "X", "kind": "Detection", "due_date": "soon"}, "due_date", "must be a date (e.g. 2026-03-31)"),
    ]
    for fields, field, message in cases:
        error = refused(services.add_action_item, draft, **fields)
        assert (error.field, error.message) == (field, message)
    assert not ActionItem.objects.exists()
    item = services.add_action_item(draft, title="Alert on disk usage", kind="detection")  # any case
    assert item.kind.name == "Detection" and item.state == ActionItem.State.OPEN


def test_an_incident_has_one_postmortem_and_one_covers_one_maintenance(draft, incident, components):
    error = refused(services.create_postmortem, incidents=[incident], title="Again")
    assert error.field == "incidents" and "already has a postmortem" in error.message
    windows = [status.schedule_maintenance(name=f"Window {n}", scheduled_for=datetime(2030, 1, n, 1, tzinfo=UTC),
                                           scheduled_until=datetime(2030, 1, n, 2, tzinfo=UTC)) for n in (1, 2)]
    error = refused(services.create_postmortem, incidents=windows, title="W")
    assert "not several maintenance windows" in error.message
    assert refused(services.create_postmortem, incidents=[], title="Nothing").field == "incidents"
    assert Postmortem.objects.count() == 1


def test_unpublishing_takes_it_back_to_draft(draft, people):
    reviewed(draft, people)
    pm = services.unpublish(services.publish(draft, people["alice"]), people["olga"])
    assert pm.status == State.DRAFT and pm.withdrawn_at is not None and pm.approved_at is None
    assert refused(services.unpublish, pm).message == "the postmortem is not published"


def test_the_teams_kinds_of_action_item(draft):
    kinds = [k.name for k in services.action_item_kinds()]
    assert kinds == ["Preventive (process)", "Preventive (tooling)", "Detection", "Mitigation", "Improving recovery"]
    communication = services.create_kind(name="Communication")
    assert services.action_item_kinds()[-1] == communication
    assert refused(services.create_kind, name="communication").message == 'a kind named "communication" already exists'
    services.update_kind(communication, name="Keeping readers informed", position=0)
    assert services.action_item_kinds()[0].name == "Keeping readers informed"
    services.add_action_item(draft, title="Update the page first", kind="Keeping readers informed")
    assert "move them to another kind first" in refused(services.delete_kind, communication).message
    services.delete_kind(services.find_kind("Mitigation"))
    assert "Mitigation" not in [k.name for k in services.action_item_kinds()]
