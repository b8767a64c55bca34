"""An incident's update reaches its components' subscribers by e-mail, once, with the headers mail
clients need to unsubscribe in one click."""

from datetime import timedelta

from django.utils import timezone

from signalpost.notify.models import Attempt, Delivery
from signalpost.status import services

from .conftest import notify_and_send, subscribe


def test_an_update_with_notify_reaches_its_components_subscribers_and_not_others(sink, components):
    everything = subscribe("all@example.com")
    zurich = subscribe("zh@example.com", components["zh1"])
    subscribe("de@example.com", components["de1"])
    subscribe("waiting@example.com").__class__.objects.filter(address="waiting@example.com").update(confirmed_at=None)

    incident = services.open_incident(name="Database outage", body="We are **looking** into it.",
                                      components={components["zh1"]: "major_outage"})
    notify_and_send()

    assert sink.recipients() == {"all@example.com": 1, "zh@example.com": 1}
    [mail] = sink.messages("zh@example.com")
    assert mail["Subject"] == "[Example Status] Database outage: Investigating"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "We are **looking** into it." in text and "<strong>looking</strong>" in html
    assert f"/incidents/{incident.public_id}" in text and f"/incidents/{incident.public_id}" in html
    assert "CET (" in text and "UTC)" in text  # the page's zone, with UTC beside it
    delivery = Delivery.objects.get(subscriber=zurich)
    assert mail["Message-ID"] == f"<{delivery.key}@127.0.0.1>"
    unsubscribe = mail["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and unsubscribe.endswith("/unsubscribe>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1] in html  # the subscriber's own link, in both parts
    other = sink.messages("all@example.com")[0]
    assert other["List-Unsubscribe"] != unsubscribe
    assert delivery.state == "sent" and Attempt.objects.filter(delivery=delivery, ok=True).count() == 1
    assert everything.deliveries.get().state == "sent"


def test_handling_an_event_twice_sends_nothing_twice(sink, components):
    from signalpost.events.models import Handling

    subscribe("all@example.com")
    services.open_incident(name="Outage", components={components["zh1"]: "major_outage"})
    notify_and_send()
    Handling.objects.filter(consumer="notifier").update(state="pending", attempts=0)  # as if never marked done
    notify_and_send()
    assert sink.recipients() == {"all@example.com": 1}


def test_no_notify_a_retroactive_incident_or_a_past_window_send_nothing(sink, components):
    subscribe("all@example.com")
    services.open_incident(name="Quiet", components={components["zh1"]: "degraded_performance"},
                           deliver_notifications=False)
    now = timezone.now()
    services.backfill_incident(name="Last week", started_at=now - timedelta(days=7),
                               resolved_at=now - timedelta(days=7) + timedelta(hours=1),
                               components={components["zh1"]: "major_outage"})
    services.schedule_maintenance(name="Done already", scheduled_for=now - timedelta(days=2),
                                  scheduled_until=now - timedelta(days=2) + timedelta(hours=1))
    notify_and_send()
    assert sink.recipients() == {}
    assert not Delivery.objects.exists()


def test_without_a_mail_server_no_email_deliveries_are_made(settings, components):
    settings.EMAIL_HOST, settings.SMTP_CONFIGURED = "", False
    subscribe("all@example.com")
    services.open_incident(name="Outage", components={components["zh1"]: "major_outage"})
    notify_and_send()
    assert not Delivery.objects.exists()


def test_the_teams_own_template_replaces_the_default_and_an_empty_field_keeps_it(sink, components):
    from signalpost.notify.models import EmailTemplate

    EmailTemplate.objects.create(kind="incident", subject="Heads up: {{ name }} ({{ status }})",
                                 html="<p>{{ name }}: {{ body_html }}</p><a href=\"{{ unsubscribe_url }}\">Leave</a>")
    subscribe("all@example.com")
    services.open_incident(name="Outage <b>", body="It *broke*.", components={components["zh1"]: "major_outage"})
    notify_and_send()
    [mail] = sink.messages()
    assert mail["Subject"] == "Heads up: Outage <b> (Investigating)"  # a subject is text, not HTML
    html = mail.get_body(("html",)).get_content()
    assert "<p>Outage &lt;b&gt;: <p>It <em>broke</em>.</p>" in html
    assert '/unsubscribe">Leave</a>' in html  # the subscriber's own link in the team's wording
    assert "It *broke*." in mail.get_body(("plain",)).get_content()  # the text part: the default file


def test_a_message_goes_once_to_a_server_that_refuses_the_address_and_fails_for_good(sink, components):
    sink.refuse.add("gone@example.com")
    subscribe("gone@example.com")
    subscribe("here@example.com")
    services.open_incident(name="Outage", components={components["zh1"]: "major_outage"})
    notify_and_send()
    assert sink.recipients() == {"here@example.com": 1}
    gone = Delivery.objects.get(address="gone@example.com")
    assert gone.state == "failed" and "550" in gone.last_error
    assert Attempt.objects.get(delivery=gone).status == 550
