"""The audit log: what it shows, its filters, its CSV and JSON exports, and that nobody can change it."""

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from signalpost.accounts import audit
from signalpost.accounts.models import AuditEvent
from signalpost.status import services

from .helpers import field_error


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def rows(response) -> list[str]:
    """The rows of the log's main table, newest first."""
    html = response.content.decode()
    table = html.split('<section aria-labelledby="entries-title">')[1]
    return re.findall(r'<tr>\s*<td><time.*?</tr>\s*(?=<tr>\s*<td><time|</tbody>\s*</table>\s*</div>)', table, re.DOTALL)


def event_at(when: datetime, action: str = "component.update", **fields) -> AuditEvent:
    defaults = {"actor_kind": "user", "actor": "adam", "source": "console", "address": "127.0.0.1",
                "object_type": "component", "object_id": "c1", "object_repr": "zh1.single"}
    return AuditEvent.objects.create(at=when, action=action, **{**defaults, **fields})


def test_it_shows_who_changed_what_from_where_newest_first(admin, login, components):
    client = login(admin)
    client.post("/console/users/invite", {"email": "ines@example.com", "role": "viewer"})
    with audit.acting(audit.Actor(kind="token", name="token chat-ops (sp_abc…)", source="api", address="192.0.2.7")):
        services.update_component(components["zh1"], name="zh1.primary")
    response = client.get("/console/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    newest, second = rows(response)[:2]
    assert "component.update" in newest and "invitation.create" in second
    assert "token chat-ops (sp_abc…)" in newest and "192.0.2.7" in newest and "api" in newest
    assert re.search(r'<time class="ts" datetime="\d{4}-\d\d-\d\dT', newest)
    # The change, as field: before → after.
    assert re.search(r'<th scope="row">name</th><td>zh1.single</td><td>→ zh1.primary</td>', newest)
    assert "zh1.primary" in newest  # the object
    assert "<strong>" not in newest
    assert 'action="/console/audit/"' in html


def test_it_pages_fifty_entries_at_a_time_and_keeps_the_filters(admin, login, db):
    for n in range(120):
        event_at(datetime(2026, 3, 1, 12, 0, n % 60, tzinfo=UTC), object_id=f"c{n}")
    client = login(admin)
    first = client.get("/console/audit/", {"action": "component.update"})
    assert len(rows(first)) == 50
    assert "page 1 of 3" in first.content.decode()
    assert 'href="?action=component.update&amp;page=2"' in first.content.decode()
    last = client.get("/console/audit/", {"action": "component.update", "page": 3})
    assert len(rows(last)) == 20


def test_it_filters_by_actor_action_object_source_and_day_in_the_pages_zone(admin, login, page):
    # 23:30 UTC on 1 March is 00:30 on 2 March in Zurich, the page's zone.
    late = event_at(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), object_id="late")
    early = event_at(datetime(2026, 3, 1, 8, 0, tzinfo=UTC), object_id="early", actor="token ci (sp_x…)",
                     actor_kind="token", source="api")
    other = event_at(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), action="incident.open", object_type="incident",
                     object_id="inc1")
    client = login(admin)

    def ids(**filters) -> set[str]:
        response = client.get("/console/audit/", filters)
        assert response.status_code == 200
        return {row for row in ("late", "early", "inc1") if any(f"component {row}<" in r or f"incident {row}<" in r
                                                                   for r in rows(response))}

    assert ids(since="2026-03-02", until="2026-03-02") == {"late"}
    assert ids(until="2026-03-01") == {"early"}
    assert ids(actor="TOKEN ci") == {"early"}
    assert ids(source="api") == {"early"}
    assert ids(action="incident.open") == {"inc1"}
    assert ids(object_type="component") == {"late", "early"}
    assert ids(object_type="component", object_id="late") == {"late"}
    assert {late.pk, early.pk, other.pk} <= set(AuditEvent.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("filters, field, message", [
    ({"since": "yesterday"}, "since", "Enter a valid date."),
    ({"until": "2026-13-01"}, "until", "Enter a valid date."),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "until", "This is before the start date."),
    ({"action": "nothing.ever"}, "action", "Select a valid choice"),
    ({"source": "telepathy"}, "source", "Select a valid choice"),
])
def test_a_bad_filter_is_shown_beside_its_field(admin, login, db, filters, field, message):
    client = login(admin)
    response = client.get("/console/audit/", filters)
    assert response.status_code == 400
    assert message in field_error(response, field)
    export = client.get("/console/audit/export.csv", filters)
    assert export.status_code == 400
    assert message in export.content.decode()


def test_the_exports_hold_every_row_matching_the_filters(admin, login, db):
    for n in range(70):
        event_at(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), object_id=f"c{n}", before={"name": "a"},
                 after={"name": f"b{n}"})
    event_at(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), action="incident.open", object_type="incident",
             object_id="inc1", after={"name": "Database failover"})
    client = login(admin)
    response = client.get("/console/audit/export.csv", {"action": "component.update"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(body(response))))
    assert len(table) == 70
    assert {row["action"] for row in table} == {"component.update"}
    assert json.loads(table[0]["after"])["name"].startswith("b")
    assert table[0]["at"].endswith("Z") and table[0]["actor"] == "adam" and table[0]["address"] == "127.0.0.1"

    response = client.get("/console/audit/export.json", {"object_type": "incident"})
    assert response.status_code == 200 and response.streaming
    entries = json.loads(body(response))
    assert [(e["action"], e["object_id"], e["after"]) for e in entries] == [
        ("incident.open", "inc1", {"name": "Database failover"})]
    everything = json.loads(body(client.get("/console/audit/export.json")))
    assert len(everything) == 71
    assert everything[0]["at"] > everything[-1]["at"]  # newest first, like the page


def test_the_csv_export_defuses_spreadsheet_formulas(admin, login, db):
    event_at(datetime(2026, 3, 1, tzinfo=UTC), object_repr='=HYPERLINK("http://evil.example","click")')
    table = list(csv.DictReader(io.StringIO(body(login(admin).get("/console/audit/export.csv")))))
    assert table[0]["object_repr"] == '\'=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize("typed", [
    "＝HYPERLINK(\"http://evil.example\")", "＋1+1", "－1+1", "＠SUM(A1)",
    "\u200b=1+1", "\u200c=1+1", "\u200d=1+1", "\u2060=1+1", "\ufeff=1+1", "\u200bhello",
    " =1+1", "  +1+1", "\t=1+1", "\n=1+1", "\u00a0=1+1", "\u3000＝1+1", " \u200b @SUM(A1)",
])
def test_the_csv_export_defuses_formulas_behind_lookalikes_and_invisible_characters(admin, login, db, typed):
    event_at(datetime(2026, 3, 1, tzinfo=UTC), object_repr=typed)
    table = list(csv.DictReader(io.StringIO(body(login(admin).get("/console/audit/export.csv")))))
    assert table[0]["object_repr"] == "'" + typed


@pytest.mark.parametrize("typed", ["Database failover", "zh1 = down", "v1.2-beta", "a@b.example"])
def test_the_csv_export_leaves_plain_text_as_typed(admin, login, db, typed):
    event_at(datetime(2026, 3, 1, tzinfo=UTC), object_repr=typed)
    table = list(csv.DictReader(io.StringIO(body(login(admin).get("/console/audit/export.csv")))))
    assert table[0]["object_repr"] == typed


def test_the_audit_log_is_read_only_in_the_console(admin, login, db):
    event_at(datetime(2026, 3, 1, tzinfo=UTC))
    client = login(admin)
    for path in ("/console/audit/", "/console/audit/export.csv", "/console/audit/export.json"):
        assert client.post(path).status_code == 405
    assert AuditEvent.objects.count() == 1


def test_an_audit_entry_cannot_be_changed_or_deleted(db):
    event = event_at(datetime(2026, 3, 1, tzinfo=UTC))
    event.actor = "someone else"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).update(actor="someone else")
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Below the model, the database itself refuses.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET actor = 'someone else' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":  # SQLite's trigger covers UPDATE only (see the migration)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).actor == "adam"
