# ruff: noqa: F811 - the fixtures of postmortem_support are imported by name
"""The action items of every postmortem in one list: filtered by state, owner and kind, overdue ones
marked in words, each row followed up in place; and the team's list of kinds, kept by admins."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.postmortems import services
from signalpost.postmortems.models import ActionItem, ActionItemKind
from tests.console.postmortem_support import (  # noqa: F401
    draft,
    entries_since,
    incident,
    signed_in,
    team,
)

LIST = "/console/action-items/"


@pytest.fixture
def items(draft):
    today = timezone.now().date()
    made = {
        "late": services.add_action_item(draft, title="Peer sign-off for write queries", kind="Preventive (process)",
                                         owner="Infrastructure", due_date=today - timedelta(days=3)),
        "started": services.add_action_item(draft, title="Read-only snapshots from S3", kind="Improving recovery",
                                            owner="Storage", due_date=today - timedelta(days=1), state="in_progress"),
        "soon": services.add_action_item(draft, title="Alert on origin failures per deploy", kind="Detection",
                                         owner="Storage", due_date=today + timedelta(days=20)),
        "done": services.add_action_item(draft, title="Restore drill", kind="Improving recovery", owner="Infrastructure",
                                         due_date=today - timedelta(days=30), state="done"),
        "nobody": services.add_action_item(draft, title="Write the runbook", kind="Mitigation"),
    }
    return made


def titles(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t).strip() for t in
            re.findall(r'<tr id="ai-[^"]+"[^>]*>\s*<th scope="row">(.*?)(?: <span class="badge|</th>)', html, re.DOTALL)]


def overdue_titles(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(
        r'<th scope="row">([^<]*(?:<a [^>]*>[^<]*</a>)?[^<]*) <span class="badge badge--overdue">Overdue</span>', html)]


def test_the_list_shows_unfinished_items_overdue_first_marked_in_words(signed_in, items):
    html = signed_in("vera").get(LIST).content.decode()
    assert titles(html) == ["Peer sign-off for write queries", "Read-only snapshots from S3",
                            "Alert on origin failures per deploy", "Write the runbook"]
    assert overdue_titles(html) == ["Peer sign-off for write queries", "Read-only snapshots from S3"]
    assert "2 overdue" in html
    assert "Origin outage" in html  # the postmortem each comes from


@pytest.mark.parametrize(("query", "expected"), [
    ("?state=done", ["Restore drill"]),
    ("?state=any", ["Peer sign-off for write queries", "Read-only snapshots from S3", "Restore drill",
                    "Alert on origin failures per deploy", "Write the runbook"]),
    ("?state=in_progress", ["Read-only snapshots from S3"]),
    ("?owner=Storage", ["Read-only snapshots from S3", "Alert on origin failures per deploy"]),
    ("?owner=-", ["Write the runbook"]),
    ("?overdue=1", ["Peer sign-off for write queries", "Read-only snapshots from S3"]),
    ("?state=any&owner=Infrastructure", ["Peer sign-off for write queries", "Restore drill"]),
])
def test_filters_by_state_owner_and_overdue(signed_in, items, query, expected):
    assert titles(signed_in("vera").get(LIST + query).content.decode()) == expected


def test_filters_by_kind(signed_in, items):
    kind = services.find_kind("Improving recovery").public_id
    html = signed_in("vera").get(f"{LIST}?state=any&kind={kind}").content.decode()
    assert titles(html) == ["Read-only snapshots from S3", "Restore drill"]


def _tracking(item, **fields) -> dict:
    prefix = f"item-{item.public_id}"
    data = {"state": item.state, "owner": item.owner, "due_date": item.due_date.isoformat() if item.due_date else "",
            "next": ""}
    data.update(fields)
    return {f"{prefix}-{k}": v for k, v in data.items()}


def test_a_row_is_followed_up_in_place_and_the_same_filtered_list_comes_back(signed_in, items):
    client = signed_in("bob")
    item = items["late"]
    back = f"{LIST}?owner=Infrastructure&state=any"
    before = AuditEvent.objects.count()
    response = client.post(reverse("console:action_item_update", args=[item.public_id]),
                           _tracking(item, state="done", owner="Infra team", due_date="2026-12-31", next=back))
    assert response.status_code == 302 and response["Location"] == back
    item.refresh_from_db()
    assert (item.state, item.owner, item.due_date) == ("done", "Infra team", date(2026, 12, 31))
    [entry] = entries_since(before)
    assert (entry.action, entry.actor) == ("postmortem.action_item_update", "bob")


def test_following_up_does_not_withdraw_an_approval(signed_in, items, draft, team):
    services.request_review(draft, team["bob"], user=team["alice"])
    services.approve(draft, team["bob"])
    signed_in("alice").post(reverse("console:action_item_update", args=[items["late"].public_id]),
                            _tracking(items["late"], state="in_progress"))
    draft.refresh_from_db()
    assert draft.status == "approved"


def test_a_refused_follow_up_shows_the_error_in_its_row_and_saves_nothing(signed_in, items):
    item = items["soon"]
    back = f"{LIST}?owner=Storage"
    response = signed_in("bob").post(reverse("console:action_item_update", args=[item.public_id]),
                                     _tracking(item, due_date="soon", owner="Someone", next=back))
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(rf'id="id_item-{item.public_id}-due_date_error">Enter a date', html)
    assert titles(html) == ["Read-only snapshots from S3", "Alert on origin failures per deploy"]  # still filtered
    item.refresh_from_db()
    assert item.owner == "Storage"


def test_an_outside_address_to_return_to_is_ignored(signed_in, items):
    response = signed_in("bob").post(reverse("console:action_item_update", args=[items["soon"].public_id]),
                                     _tracking(items["soon"], state="done", next="https://evil.example.com/"))
    assert response["Location"] == LIST


def test_a_viewer_sees_the_state_but_no_form(signed_in, items):
    html = signed_in("vera").get(LIST).content.decode()
    assert "action-items/" in html and 'action="/console/action-items/' not in html
    response = signed_in("vera").post(reverse("console:action_item_update", args=[items["soon"].public_id]),
                                      _tracking(items["soon"], state="done"))
    assert response.status_code == 403
    items["soon"].refresh_from_db()
    assert items["soon"].state == "open"


# --- kinds -----------------------------------------------------------------------------------------


def kind_names() -> list[str]:
    return list(ActionItemKind.objects.order_by("position", "name").values_list("name", flat=True))


def test_an_admin_adds_renames_reorders_and_deletes_kinds(signed_in, db):
    client = signed_in("adam")
    client.post(reverse("console:action_item_kind_add"), {"new-kind-name": "Game days"})
    assert kind_names()[-1] == "Game days"
    game_days = services.find_kind("Game days")
    client.post(reverse("console:action_item_kind_rename", args=[game_days.public_id]),
                {f"kind-{game_days.public_id}-name": "Game days and drills"})
    client.post(reverse("console:action_item_kind_move", args=[game_days.public_id]), {"direction": "up"})
    assert kind_names()[-2:] == ["Game days and drills", "Improving recovery"]
    html = client.get(reverse("console:action_item_kinds")).content.decode()
    assert html.index("Game days and drills") < html.index('value="Improving recovery"')
    before = AuditEvent.objects.count()
    client.post(reverse("console:action_item_kind_move", args=[services.find_kind(kind_names()[0]).public_id]),
                {"direction": "up"})  # already first: nothing changes, nothing is recorded
    assert AuditEvent.objects.count() == before
    client.post(reverse("console:action_item_kind_delete", args=[game_days.public_id]))
    assert "Game days and drills" not in kind_names()


def test_a_kind_that_groups_items_is_not_deleted_and_says_why(signed_in, items):
    kind = services.find_kind("Detection")
    response = signed_in("adam").post(reverse("console:action_item_kind_delete", args=[kind.public_id]))
    assert response.status_code == 400
    assert "groups 1 action item; move them to another kind first" in response.content.decode()
    assert ActionItemKind.objects.filter(pk=kind.pk).exists()


def test_a_duplicate_kind_name_is_refused_beside_the_field(signed_in, db):
    count = ActionItemKind.objects.count()
    response = signed_in("adam").post(reverse("console:action_item_kind_add"), {"new-kind-name": "detection"})
    assert response.status_code == 400
    assert 'id="id_new-kind-name_error">a kind named &quot;detection&quot; already exists' in response.content.decode()
    assert ActionItemKind.objects.count() == count


def test_reordering_kinds_reorders_the_groups_of_a_published_postmortem(client, signed_in, items, draft, team):
    services.request_review(draft, team["bob"], user=team["alice"])
    services.approve(draft, team["bob"])
    services.publish(draft, team["alice"])
    detection = services.find_kind("Detection")
    signed_in("adam").post(reverse("console:action_item_kind_move", args=[detection.public_id]), {"direction": "up"})
    signed_in("adam").post(reverse("console:action_item_kind_move", args=[detection.public_id]), {"direction": "up"})
    client.logout()
    page = client.get(draft.public_path).content.decode()
    assert page.index(">Detection<") < page.index(">Preventive (process)<")
    assert ActionItem.objects.count() == 5
