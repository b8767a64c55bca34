"""The demo's postmortems (signalpost/demo.py loads them with the rest): a learning review of the lost
hypervisor, written by one demo responder, approved by another and published next to its incident;
and a short postmortem of the weekly maintenance, still in review, so that the console's list shows the
workflow. Everything goes through the services, with the times a team would have written it at."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from signalpost.accounts import audit
from signalpost.accounts.models import Profile, Role
from signalpost.status.models import Incident

from . import services
from .models import Postmortem

AUTHOR, REVIEWER = "lea.demo", "sam.demo"
TRACKER = "https://tracker.example.com/browse"


def demo_account(username: str) -> AbstractBaseUser:
    """A responder who cannot log in (no usable password): the demo's postmortems need an author and
    someone else to approve them. An account left by an earlier demo is reused."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            Profile.objects.create(user=user, role=Role.RESPONDER)
            audit.record("user.create", user, object_repr=username, after={"role": Role.RESPONDER, "demo": True})
    return user


def load_demo_postmortems(*, lost_hypervisor: Incident, maintenance: Incident, zone: str,
                          now: datetime) -> list[Postmortem]:
    author, reviewer = demo_account(AUTHOR), demo_account(REVIEWER)
    for incident in (lost_hypervisor, maintenance):
        incident.refresh_from_db()  # the status services changed their own copies
    return [_published_review(lost_hypervisor, author, reviewer, ZoneInfo(zone), now),
            _review_in_progress(maintenance, reviewer, author)]


def _published_review(incident: Incident, author, reviewer, zone: ZoneInfo, now: datetime) -> Postmortem:
    began = incident.started_at
    written = began + timedelta(days=1, hours=2)
    today = now.astimezone(zone).date()
    pm = services.create_postmortem(
        incidents=[incident], template="learning_review", author=author, now=written,
        title="Learning review: a lost hypervisor in Paris",
        first_signal_at=began - timedelta(minutes=6),  # the host's health check, before anyone looked
        summary="One of the hypervisors of our Paris zone failed. Reverse proxies, add-ons and custom services "
                "running on it were unreachable or slow for up to two hours, until they were redeployed on other "
                "hosts and the faulty hardware was replaced. No data was lost.",
        impact="- Applications in Paris answered part of their requests with errors while traffic still went "
               "to the lost reverse proxies.\n"
               "- Add-ons (databases, caches) hosted on the hypervisor were slow or unreachable until they were "
               "moved.\n"
               "- Other zones were not affected.",
        timeline_intro="The entries come from the incident's updates, and from our monitoring for the first one.",
        recovery="1. Stateless applications were redeployed on other hosts automatically, within minutes.\n"
                 "2. Add-ons and custom services, which are pinned to a host, were moved by hand, the most used "
                 "first.\n"
                 "3. The faulty memory module was replaced and the hypervisor went back into the pool after a "
                 "burn-in test.",
        root_cause="A memory module of the hypervisor failed. Its error-correcting memory had logged a rising "
                   "number of corrected errors for two weeks before the failure, and nothing alerted on them.",
        contributing_factors="- Both reverse proxies serving add-on traffic ran on the same hypervisor, so "
                             "losing one host took out the pair.\n"
                             "- Moving pinned add-ons is a manual procedure that few of us had done before.",
        went_well="- Monitoring paged the on-call engineer before the first customer wrote to us.\n"
                  "- Stateless applications recovered by themselves.\n"
                  "- The status page said which components were affected from the first update on.",
        went_badly="- Two weeks of warnings in the host's logs went unnoticed.\n"
                   "- Moving pinned add-ons by hand took most of the two hours.\n"
                   "- The update saying what had failed came 19 minutes after the first one.",
        actions_intro="Each item is tracked in our tracker; we update its state here as the work progresses.",
        closing="We are sorry for the disruption to your applications. If you have questions about this "
                "incident, write to our support team: we read every message.",
    )
    services.add_timeline_entry(pm, at=began - timedelta(minutes=6), user=author, now=written,
                                text="The hypervisor's health check fails and the on-call engineer is paged.")
    services.set_figures(pm, [("Requests answered with an error in Paris", "3.4%"),
                              ("Add-ons moved to other hosts", "212")], user=author, now=written)
    items = [
        {"title": "Alert on corrected memory errors before a host fails", "kind": "Detection", "state": "done",
         "owner": "Infrastructure team", "due_date": today - timedelta(days=6), "link": f"{TRACKER}/INFRA-311",
         "description": "Page the on-call engineer when a host logs more corrected errors in a day than it used "
                        "to in a month."},
        {"title": "Never place both add-on reverse proxies on one hypervisor", "kind": "Preventive (tooling)",
         "state": "in_progress", "owner": "Platform team", "due_date": today + timedelta(days=10),
         "link": f"{TRACKER}/PLAT-87"},
        {"title": "Move pinned add-ons off a lost host automatically", "kind": "Improving recovery",
         "state": "open", "owner": "Add-ons team", "due_date": today - timedelta(days=3),  # overdue
         "link": f"{TRACKER}/ADDON-54", "description": "Until then, the runbook lists the add-ons to move first."},
        {"title": "Rehearse the lost-hypervisor runbook every quarter", "kind": "Preventive (process)",
         "state": "open", "owner": "On-call rotation", "due_date": today + timedelta(days=45)},
    ]
    for item in items:
        services.add_action_item(pm, **item, user=author, now=written)
    services.request_review(pm, reviewer, user=author, now=written + timedelta(hours=1))
    services.approve(pm, reviewer, now=written + timedelta(days=1))
    return services.publish(pm, author, now=written + timedelta(days=1, hours=1))


def _review_in_progress(maintenance: Incident, author, reviewer) -> Postmortem:
    written = maintenance.resolved_at + timedelta(days=1)
    pm = services.create_postmortem(
        incidents=[maintenance], template="postmortem", author=author, now=written,
        title="Postmortem: sites unavailable during the weekly maintenance",
        summary="During the weekly maintenance, a bug in a feature rollout made a few sites on zh2.cluster "
                "unavailable for about 40 minutes, and the window ran an hour longer than announced.",
        impact="Sites on zh2.cluster answered with errors until they were checked one by one. Other clusters "
               "in the window were not affected.",
        root_cause="The new release removed a link that every deployment needs, in a case our tests did not "
                   "cover.",
    )
    services.add_action_item(pm, title="Update the status page as soon as a maintenance breaks something",
                             kind="Preventive (process)", owner="On-call rotation", user=author, now=written)
    return services.request_review(pm, reviewer, user=author, now=written + timedelta(hours=2))
