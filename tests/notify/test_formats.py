"""The webhook bodies (Statuspage's shape, key by key against two bodies Statuspage really sent), their
signature (verified by a receiver with the standardwebhooks package), and the chat tools' messages, as
each tool's incoming webhooks read them. Everything is sent to real receivers on loopback."""

import ipaddress
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from signalpost.events.models import Event
from signalpost.notify import formats
from signalpost.notify.outbound import Request, post_all_sync
from signalpost.status import services
from tests.notify.receivers import Receiver

REPO_ROOT = Path(__file__).resolve().parents[2]
# CI lays shared/ beside the repository, as the workspace does.
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference" / "statuspage-webhooks"
# Keys Signalpost sends beyond the two captured bodies: Statuspage's documentation lists them for
# webhooks (organization_id, scheduled_auto_transition) or its v2 objects carry them (the rest).
DOCUMENTED_EXTRAS = {"organization_id", "scheduled_auto_transition", "started_at", "tweet_id", "start_date",
                     "group", "only_show_if_degraded"}
LINK = "https://status.example.com/incidents/abc"


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("127.0.0.1/32")]


def _reference(name: str) -> dict:
    path = REFERENCE_DIR / name
    assert path.is_file(), f"the reference bodies are missing: {path}"
    return json.loads(path.read_text())


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}[type(value)]


def assert_same_shape(ours, theirs, where: str = "body") -> None:
    """Every key Statuspage sent is there with the same JSON type (null where it sent null); any other
    key is one of the documented extras."""
    assert _json_type(ours) == _json_type(theirs), f"{where}: {ours!r} is not like {theirs!r}"
    if isinstance(theirs, dict):
        missing = theirs.keys() - ours.keys()
        assert not missing, f"{where}: missing {sorted(missing)}"
        extra = ours.keys() - theirs.keys()
        assert extra <= DOCUMENTED_EXTRAS, f"{where}: unexpected {sorted(extra - DOCUMENTED_EXTRAS)}"
        for key, value in theirs.items():
            assert_same_shape(ours[key], value, f"{where}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items, Statuspage sent {len(theirs)}"
        for index, (mine, its) in enumerate(zip(ours, theirs)):
            assert_same_shape(mine, its, f"{where}[{index}]")


def _as_sent(body: dict) -> dict:
    return json.loads(formats.with_links(body, unsubscribe_url="https://status.example.com/subscriptions/x"))


def _send(receiver: Receiver, body: bytes, headers: dict | None = None, path: str = "/ok"):
    [result] = post_all_sync([Request("one", receiver.url(path), body, headers or {})])
    return result


@pytest.fixture
def portal(page):
    return services.create_component(name="Management Portal")


@pytest.fixture
def resolved_incident(portal):
    """The reference body's incident: identified, then resolved, one component named in both updates."""
    incident = services.open_incident(name="Database query delays", status="identified", impact="none",
                                      body="We see database queries timing out.", components={portal: "operational"})
    services.resolve_incident(incident, body="The database issue is resolved.", components={portal: "operational"})
    return incident


def test_an_incident_body_has_every_key_and_type_statuspage_sends(resolved_incident):
    body = _as_sent(formats.incident_body(resolved_incident.pk))
    assert_same_shape(body, _reference("incident_update.json"))
    incident = body["incident"]
    assert (incident["name"], incident["status"], incident["id"]) == (
        "Database query delays", "resolved", resolved_incident.public_id)
    # Newest first, as Statuspage lists them; receivers read the first one's body.
    assert [u["status"] for u in incident["incident_updates"]] == ["resolved", "identified"]
    assert incident["incident_updates"][0]["body"] == "The database issue is resolved."
    assert [c["name"] for c in incident["components"]] == ["Management Portal"]
    assert body["page"]["status_indicator"] == "none"
    assert body["page"]["status_description"] == "All Systems Operational"
    assert incident["created_at"].endswith("Z") and body["meta"]["generated_at"].endswith("Z")


def test_a_maintenance_body_carries_its_window(portal):
    start = timezone.now() + timedelta(days=1)
    window = services.schedule_maintenance(name="Database upgrade", scheduled_for=start,
                                           scheduled_until=start + timedelta(hours=2), components=[portal],
                                           body="We upgrade the database.")
    incident = formats.incident_body(window.pk)["incident"]
    assert incident["status"] == "scheduled" and incident["impact"] == "maintenance"
    assert incident["scheduled_for"] == start.astimezone(formats.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{start.microsecond // 1000:03d}Z"
    assert incident["scheduled_auto_in_progress"] is True and incident["scheduled_auto_completed"] is True
    assert incident["scheduled_remind_prior"] is True


def test_a_component_body_has_every_key_and_type_statuspage_sends(portal):
    services.set_override(portal, "under_maintenance", reason="Database upgrade")
    event = Event.objects.get(kind="component.override_set")
    body = _as_sent(formats.component_body(event))
    assert_same_shape(body, _reference("component_update.json"))
    assert body["component_update"]["old_status"] == "operational"
    assert body["component_update"]["new_status"] == "under_maintenance"
    assert body["component_update"]["component_id"] == body["component"]["id"] == portal.public_id
    assert body["component"]["status"] == "under_maintenance"
    assert body["page"]["status_indicator"] == "maintenance"


def test_each_subscriber_gets_its_own_unsubscribe_link_in_one_rendering(resolved_incident):
    body = formats.incident_body(resolved_incident.pk)
    first = json.loads(formats.with_links(body, unsubscribe_url="https://status.example.com/u/1"))
    second = json.loads(formats.with_links(body, unsubscribe_url="https://status.example.com/u/2"))
    assert first["meta"]["unsubscribe"] == "https://status.example.com/u/1"
    assert second["meta"]["unsubscribe"] == "https://status.example.com/u/2"
    assert body["meta"]["unsubscribe"] is None  # the shared rendering is left as it was
    assert {**first, "meta": None} == {**second, "meta": None}


def test_a_receiver_verifies_the_signature_with_the_standardwebhooks_package(resolved_incident):
    secret = formats.new_secret()
    assert secret.startswith("whsec_") and formats.new_secret() != secret
    body = formats.with_links(formats.incident_body(resolved_incident.pk), unsubscribe_url="https://x.example/u")
    headers = formats.signature_headers(secret, "msg_42.7", body, timezone.now())
    assert headers["webhook-id"] == "msg_42.7" and headers["webhook-signature"].startswith("v1,")
    with Receiver(secret) as receiver:
        result = _send(receiver, body, headers, "/verify")
    assert (result.ok, result.status) == (True, 204)
    assert receiver.verdicts == ["verified"]
    assert json.loads(receiver.received[0].body)["incident"]["name"] == "Database query delays"


def test_a_receiver_refuses_a_replay_an_altered_body_and_another_secret(resolved_incident):
    secret = formats.new_secret()
    body = formats.with_links(formats.incident_body(resolved_incident.pk), unsubscribe_url="https://x.example/u")
    old = formats.signature_headers(secret, "msg_1", body, timezone.now() - timedelta(minutes=10))
    fresh = formats.signature_headers(secret, "msg_1", body, timezone.now())
    other = formats.signature_headers(formats.new_secret(), "msg_1", body, timezone.now())
    with Receiver(secret) as receiver:
        results = [_send(receiver, body, old, "/verify"), _send(receiver, body + b" ", fresh, "/verify"),
                   _send(receiver, body, other, "/verify")]
    assert [(r.ok, r.status) for r in results] == [(False, 400)] * 3
    assert receiver.verdicts == ["Message timestamp too old", "No matching signature found",
                                 "No matching signature found"]


def test_the_signature_does_not_depend_on_the_zone_of_the_time_given(resolved_incident):
    secret = formats.new_secret()
    at = datetime(2026, 12, 4, 18, 0, tzinfo=formats.UTC)
    zurich = at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Zurich"))
    assert formats.signature_headers(secret, "m", b"{}", at) == formats.signature_headers(secret, "m", b"{}", zurich)
    assert formats.signature_headers(secret, "m", b"{}", at)["webhook-timestamp"] == str(int(at.timestamp()))


# --- chat tools -----------------------------------------------------------------------------------------


@pytest.fixture
def opened(portal):
    services.open_incident(name="Login errors", impact="major", components={portal: "partial_outage"},
                           body="We see **errors** on <login>. Details in [the log](https://log.example/1).\n\n"
                                "- EU\n- US\n\n@everyone <!channel>")
    return Event.objects.get(kind="incident.opened")


def _delivered(tool: str, event: Event) -> dict:
    """The message as the tool's webhook receives it, sent over HTTP."""
    with Receiver() as receiver:
        result = _send(receiver, formats.chat_bytes(formats.chat_body(tool, event, link=LINK)))
    assert result.ok
    assert receiver.received[0].headers["Content-Type"] == "application/json"
    return json.loads(receiver.received[0].body)


def test_slack_gets_an_attachment_with_the_status_colour_and_mrkdwn_blocks(opened):
    message = _delivered("slack", opened)
    assert message["text"]  # Slack's notification text
    [attachment] = message["attachments"]
    assert attachment["color"] == formats.ORANGE  # major impact
    sections = [b["text"]["text"] for b in attachment["blocks"] if b["type"] == "section"]
    assert all(b["text"]["type"] == "mrkdwn" for b in attachment["blocks"] if b["type"] == "section")
    assert f"*<{LINK}|Login errors>*" in sections[0] and "Investigating · Major impact" in sections[0]
    text = sections[1]
    assert "*errors*" in text and "<https://log.example/1|the log>" in text and "• EU\n• US" in text
    # Raw text is never read as Slack's own syntax: no <!channel> mention.
    assert "&lt;login&gt;" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert any(b["type"] == "context" and LINK in b["elements"][0]["text"] for b in attachment["blocks"])


def test_discord_gets_an_embed_with_an_integer_colour_and_no_mentions(opened):
    message = _delivered("discord", opened)
    [embed] = message["embeds"]
    assert embed["color"] == 0xE67E22 and isinstance(embed["color"], int)
    assert embed["url"] == LINK and "Login errors" in embed["title"] and len(embed["title"]) <= 256
    assert "**errors**" in embed["description"] and "[the log](https://log.example/1)" in embed["description"]
    assert message["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in embed["description"]
    assert datetime.fromisoformat(embed["timestamp"]) == opened.occurred_at


def test_teams_gets_an_adaptive_card_with_a_link_to_the_incident(opened):
    message = _delivered("teams", opened)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    header = card["body"][0]
    assert header["type"] == "Container" and header["style"] == "warning"
    texts = [i["text"] for i in header["items"]] + [b["text"] for b in card["body"][1:]]
    assert "Login errors" in texts and any("[the log](https://log.example/1)" in t for t in texts)
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "View on the status page", "url": LINK}]


def test_chat_colours_follow_the_status(portal, opened):
    incident = services.open_incident(name="Resolved soon", impact="critical", components={portal: "major_outage"})
    critical = Event.objects.filter(kind="incident.opened").latest("id")
    services.resolve_incident(incident)
    resolved = Event.objects.get(kind="incident.resolved")
    assert formats.chat_body("slack", critical, link=LINK)["attachments"][0]["color"] == formats.RED
    assert formats.chat_body("discord", resolved, link=LINK)["embeds"][0]["color"] == int(formats.GREEN[1:], 16)
    assert formats.chat_body("teams", resolved, link=LINK)["attachments"][0]["content"]["body"][0]["style"] == "good"
    services.set_override(portal, "degraded_performance")
    component = Event.objects.get(kind="component.override_set")
    slack = formats.chat_body("slack", component, link=LINK)
    assert slack["attachments"][0]["color"] == formats.YELLOW
    assert "Management Portal is now degraded performance" in json.dumps(slack)


def test_an_unknown_chat_tool_is_an_error(opened):
    with pytest.raises(ValueError, match="unknown chat tool 'irc'"):
        formats.chat_body("irc", opened, link=LINK)
