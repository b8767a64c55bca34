"""The demo's status page: a hosting company with four regions, a few past incidents and maintenance
(signalpost/demo.py loads it with the demo's postmortems)."""

from datetime import datetime, timedelta

from . import services
from .models import Component, Incident


def load_status_demo(now: datetime) -> dict[str, Incident]:
    """The page, its components, past incidents and maintenance, and one maintenance ahead. Returns the
    events the demo's postmortems are about."""
    services.update_page(name="Acme Hosting Status", time_zone="Europe/Zurich")
    regions = {
        "Switzerland": ["zh1.single", "zh2.single", "zh1.compact", "zh2.cluster"],
        "Germany": ["de1.compact", "de2.cluster"],
        "Paris": ["Reverse proxies", "Deployments", "Cellar object storage"],
        "Services": ["Dashboard & API", "Add-ons"],
    }
    c: dict[str, Component] = {}
    for region, names in regions.items():
        group = services.create_group(name=region)
        for name in names:
            c[name] = services.create_component(name=name, group=group)
    c["Mail delivery"] = services.create_component(
        name="Mail delivery", third_party=True, description="Notification and account e-mails, sent through our mail provider."
    )

    day = timedelta(days=1)
    hv = services.open_incident(
        name="[PAR] A hypervisor has been lost", impact="major", status="investigating",
        body="A hypervisor has been lost in the Paris zone. We are investigating.",
        components={c["Reverse proxies"]: "partial_outage", c["Add-ons"]: "degraded_performance"},
        display_at=now - 12 * day, now=now - 12 * day,
    )
    services.post_update(
        hv, status="identified",
        body="The server experienced a hardware failure. Applications on it were redeployed elsewhere. "
             "Custom services and add-ons are currently impacted.",
        display_at=now - 12 * day + timedelta(minutes=19), now=now - 12 * day + timedelta(minutes=19),
    )
    services.post_update(
        hv, status="monitoring", body="Hardware has been changed and the server is back online. "
        "We are making sure all services are up.",
        components={c["Reverse proxies"]: "operational", c["Add-ons"]: "operational"},
        display_at=now - 12 * day + timedelta(hours=2), now=now - 12 * day + timedelta(hours=2),
    )
    services.resolve_incident(
        hv, body="Everything is back to normal. We will investigate the reason of the hardware failure further.",
        display_at=now - 12 * day + timedelta(hours=3, minutes=13), now=now - 12 * day + timedelta(hours=3, minutes=13),
    )

    mail = services.open_incident(
        name="Mail delivery delays", impact="minor",
        body="Our mail provider is experiencing issues. You may notice delays in receiving notification, "
             "password reset and sign-up e-mails.",
        components={c["Mail delivery"]: "degraded_performance"},
        display_at=now - 9 * day, now=now - 9 * day,
    )
    services.resolve_incident(
        mail, body="E-mail delivery works normally again. Our provider's incident is over.",
        display_at=now - 9 * day + timedelta(hours=2, minutes=20), now=now - 9 * day + timedelta(hours=2, minutes=20),
    )

    services.backfill_incident(
        name="[PAR] An add-on reverse proxy was unreachable", impact="minor",
        started_at=now - 5 * day, resolved_at=now - 5 * day + timedelta(minutes=3),
        body="An add-on reverse proxy was unreachable for three minutes. Applications may have failed to reach "
             "their add-on during this time.",
        resolution_body="It has been restarted and is serving requests as expected.",
        components={c["Add-ons"]: "major_outage"}, now=now - 5 * day + timedelta(hours=1),
    )

    window_start = now - 20 * day
    weekly = services.schedule_maintenance(
        name="Regular weekly maintenance", scheduled_for=window_start, scheduled_until=window_start + timedelta(hours=1),
        body="We are conducting regular maintenance on our systems.",
        components=[c["zh1.single"], c["zh2.single"], c["zh1.compact"], c["zh2.cluster"], c["de1.compact"]],
        now=window_start - 3 * day,
    )
    services.start_maintenance(weekly, now=window_start)
    services.post_maintenance_update(
        weekly, status="in_progress", body="Maintenance is taking longer than anticipated.",
        components={c["zh2.cluster"]: "major_outage"}, scheduled_until=window_start + timedelta(hours=2),
        now=window_start + timedelta(minutes=53),
    )
    services.post_maintenance_update(
        weekly, status="verifying",
        body="During a feature rollout a few sites were affected by a bug which caused temporary unavailability. "
             "All affected sites have been checked and should be back online.",
        components={c["zh2.cluster"]: "operational"}, now=window_start + timedelta(hours=1, minutes=32),
    )
    services.complete_maintenance(
        weekly, body="Maintenance has concluded. We will publish a post-mortem report once we have debriefed.",
        now=window_start + timedelta(hours=2, minutes=25),
    )

    upcoming_start = (now + 21 * day).replace(hour=19, minute=0)
    services.schedule_maintenance(
        name="[PAR] Unique IP service planned unavailability",
        scheduled_for=upcoming_start, scheduled_until=upcoming_start + timedelta(minutes=30),
        body="The unique IP service will undergo a maintenance period of 30 minutes. During this time the "
             "service will be unavailable; applications using it will be restarted automatically afterwards.",
        components=[c["Reverse proxies"], c["Deployments"]], now=now,
    )

    return {"lost_hypervisor": hv, "maintenance": weekly}
