"""The public pages pass axe-core's WCAG 2 A and AA rules (no serious or critical violation), with the
kind of content a real page has: groups, an open incident with several updates and Markdown, a past
incident, upcoming maintenance, a component under an override, a component monitors watch (its days
without checks "No data", its response-time chart)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.axe import BLOCKING, LOOKS, axe_violations, describe

pytestmark = pytest.mark.browser


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def watched_by_a_monitor(now: datetime) -> None:
    """zh1.single watched for the last two days, its response times in the hourly roll-ups."""
    from signalpost.monitors import hourly
    from signalpost.monitors.models import Monitor, MonitorComponent, StateChange
    from signalpost.status.models import Component

    monitor = Monitor.objects.create(name="API", target="https://api.example.com/")
    MonitorComponent.objects.create(monitor=monitor, component=Component.objects.get(name="zh1.single"))
    start = (now - timedelta(days=2)).replace(minute=0, second=0)
    StateChange.objects.create(monitor=monitor, at=start, from_state="unknown", to_state="up")
    hourly.write([hourly.Hour(monitor.pk, "local", start + timedelta(hours=n), 60, latency_p50_ms=40 + n % 7,
                              latency_p95_ms=120 + n % 11, latency_max_ms=300) for n in range(49)])


def demo_like_page(site) -> dict:
    api, now = site.api, datetime.now(UTC).replace(microsecond=0)
    api.patch("/api/v1/page", {"name": "Example Status", "time_zone": "Europe/Zurich"})
    for group in ("Switzerland", "Germany"):
        api.post("/api/v1/groups", {"name": group})
    for name, group in [("zh1.single", "Switzerland"), ("zh2.cluster", "Switzerland"),
                        ("de1.compact", "Germany"), ("de2.compact", "Germany")]:
        api.post("/api/v1/components", {"name": name, "group": group})
    watched_by_a_monitor(now)
    mail = api.post("/api/v1/components", {"name": "Mail delivery", "third_party": True})
    api.post(f"/api/v1/components/{mail['id']}/override", {"status": "degraded_performance",
                                                          "reason": "Our provider reports delays"})
    incident = api.post("/api/v1/incidents", {
        "name": "Volumes unreachable in ZH1", "impact": "major", "display_at": iso(now - timedelta(minutes=40)),
        "body": "We are investigating **connectivity issues** with volumes in [ZH1](https://example.com/zh1).",
        "components": {"Switzerland/zh1.single": "major_outage", "Switzerland/zh2.cluster": "degraded_performance"},
    })
    api.post(f"/api/v1/incidents/{incident['id']}/updates", {
        "status": "identified", "display_at": iso(now - timedelta(minutes=10)),
        "body": "A failed switch:\n\n- volumes in ZH1 are unreachable\n- ZH2 is slower than usual\n\n`ping` times out.",
    })
    api.post("/api/v1/incidents", {
        "name": "Delayed e-mail notifications", "impact": "minor", "body": "Notifications were delayed.",
        "started_at": iso(now - timedelta(days=3, hours=2)), "resolved_at": iso(now - timedelta(days=3)),
        "components": {"Mail delivery": "degraded_performance"},
        "resolution_body": "The queue has drained; all notifications were sent.",
    })
    maintenance = api.post("/api/v1/maintenance", {
        "name": "Storage upgrade in DE1", "body": "We upgrade the storage cluster; volumes stay reachable.",
        "scheduled_for": iso(now + timedelta(days=2)), "scheduled_until": iso(now + timedelta(days=2, hours=2)),
        "components": ["Germany/de1.compact"],
    })
    site.wait_for_text("/", "Volumes unreachable in ZH1", "Storage upgrade in DE1", "failed switch", "Response times")
    return {"incident": incident, "maintenance": maintenance}


def test_the_public_pages_have_no_serious_accessibility_violation(site, axe_tab):
    made = demo_like_page(site)
    pages = ["/", "/history", f"/incidents/{made['incident']['id']}", f"/maintenance/{made['maintenance']['id']}"]
    site.wait_for_text(pages[3], "Storage upgrade in DE1")
    found, errors = {}, []
    for look in LOOKS:
        tab = axe_tab(look)
        for path in pages:
            response = tab.goto(site.url + path, wait_until="load")
            assert response is not None and response.status == 200, f"{path}: {response and response.status}"
            blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
            if blocking:
                found[f"{path} ({look})"] = blocking
        errors += tab.script_errors
    assert not found, "axe found serious or critical violations:\n" + "\n".join(
        f"{where}:\n{describe(violations)}" for where, violations in found.items())
    assert errors == []


def test_the_subscription_pages_have_no_serious_accessibility_violation(site, axe_tab, start_server):
    from django.conf import settings
    from django.utils import timezone

    from signalpost.notify import links
    from signalpost.notify.models import Subscriber

    demo_like_page(site)
    pending = Subscriber.objects.create(channel="email", address="new@example.com", address_key="new@example.com")
    reader = Subscriber.objects.create(channel="email", address="reader@example.com", address_key="reader@example.com",
                                       confirmed_at=timezone.now(), all_components=False)

    def path(url: str) -> str:
        return url.removeprefix(settings.SITE_URL)

    answering = start_server("a11y-answers", EMAIL_HOST="127.0.0.1", EMAIL_PORT="9",
                             SIGNALPOST_OUTBOUND_ALLOW="127.0.0.1/32", DJANGO_ALLOW_ASYNC_UNSAFE="")
    pages = ["/subscribe", path(links.confirm_url(pending)), path(links.manage_url(reader)),
             path(links.unsubscribe_url(reader)), "/subscriptions/not-a-link"]
    found, errors = {}, []
    for look in LOOKS:
        tab = axe_tab(look)
        for where in pages:
            tab.goto(site.url + where, wait_until="load")
            blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
            if blocking:
                found[f"{where} ({look})"] = blocking
        # the form with its errors beside the fields, and the page that answers a webhook's signup
        tab.goto(site.url + "/subscribe", wait_until="load")
        tab.get_by_role("radio", name="Webhook").check()
        tab.get_by_label("URL", exact=True).fill("http://10.0.0.1/hook")
        tab.get_by_label("Only the ones I choose").check()
        tab.get_by_role("button", name="Subscribe").click()
        tab.wait_for_load_state("load")
        assert "private" in tab.locator("#id_url_error").inner_text()
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        if blocking:
            found[f"/subscribe with errors ({look})"] = blocking
        # the answers to a signup, on a server with e-mail and a webhook receiver allowed on loopback
        for channel, fill, heading in [("E-mail", ("E-mail address", "reader@example.com"), "Check your inbox"),
                                       ("Webhook", ("URL", "http://127.0.0.1:9/hook"), "Subscribed")]:
            tab.goto(answering.url + "/subscribe", wait_until="load")
            tab.get_by_role("radio", name=channel).check()
            tab.get_by_label(fill[0], exact=True).fill(fill[1])
            tab.get_by_role("button", name="Subscribe").click()
            tab.wait_for_load_state("load")
            assert tab.get_by_role("heading", level=1).inner_text() == heading
            blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
            if blocking:
                found[f"{heading} ({look})"] = blocking
            Subscriber.objects.filter(address__in=["reader@example.com", "http://127.0.0.1:9/hook"]).delete()
        errors += tab.script_errors
    assert not found, "axe found serious or critical violations:\n" + "\n".join(
        f"{where}:\n{describe(violations)}" for where, violations in found.items())
    assert errors == []
