"""The real incident communications of shared/seeds/ as management API calls, entered the way a team
would record them: page settings, groups and components, then each incident or maintenance with its
updates at the times the seed shows.

Texts are the seeds' own. Where a seed prints an update's time inside its text ("EDIT 06:04 UTC: …",
"19:40: …") the time becomes the update's display time and the prefix is dropped: Signalpost shows
each update's time itself. Where a seed gives a day but no time, the update is entered with its date
alone ("2022-06-10"), and the pages show that date with no clock time; a time the seed does not give at
all is marked "not in the seed". Redacted names stay redacted.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # may name an earlier answer's id: "/api/v1/incidents/{lost}/updates"
    payload: dict
    key: str | None = None  # remember the answer under this name


@dataclass
class Seed:
    file: str
    calls: list[Call] = field(default_factory=list)

    def page(self, **settings) -> None:
        self.calls.append(Call("PATCH", "/api/v1/page", settings))

    def group(self, name: str) -> None:
        self.calls.append(Call("POST", "/api/v1/groups", {"name": name}))

    def component(self, name: str, group: str | None = None, **fields) -> None:
        self.calls.append(Call("POST", "/api/v1/components", {"name": name, "group": group, **fields}))

    def incident(self, key: str, **payload) -> None:
        self.calls.append(Call("POST", "/api/v1/incidents", payload, key))

    def incident_update(self, key: str, **payload) -> None:
        self.calls.append(Call("POST", f"/api/v1/incidents/{{{key}}}/updates", payload))

    def maintenance(self, key: str, **payload) -> None:
        self.calls.append(Call("POST", "/api/v1/maintenance", payload, key))

    def maintenance_update(self, key: str, **payload) -> None:
        self.calls.append(Call("POST", f"/api/v1/maintenance/{{{key}}}/updates", payload))

    def edit(self, kind: str, key: str, **payload) -> None:
        """Correct an incident ("incidents") or maintenance after the fact: its customer impact window."""
        self.calls.append(Call("PATCH", f"/api/v1/{kind}/{{{key}}}", payload))


def enter(api, seed: Seed) -> dict[str, dict]:
    """Make the seed's calls through `api` (see conftest.ApiClient); the answers by key."""
    answers: dict[str, dict] = {}
    for call in seed.calls:
        path = call.path.format(**{key: answer["id"] for key, answer in answers.items()})
        answer = api.call(call.method, path, call.payload)
        if call.key:
            answers[call.key] = answer
    # The final state of each, as the API reports it after all its updates.
    for key, answer in answers.items():
        kind = "maintenance" if "scheduled_for" in answer else "incidents"
        answers[key] = api.call("GET", f"/api/v1/{kind}/{answer['id']}")
    return answers


# --- 000: a hosting company's scheduled-maintenance report ----------------------------------------
#
# The maintenance page's stamps are CEST (Europe/Zurich) and dated Sep 12, 2017; the post-mortem
# below them dates the same events Sep 13. The updates follow the stamps, since those are what the
# maintenance page showed. The post-mortem itself (Sep 13, 10:41 CEST) is not an update.

REGIONS_000 = [
    ("South Africa", ["sa1.compact"]),
    ("Germany", ["de1.compact"]),
    ("United Kingdom", ["uk1.compact"]),
    ("Finland", ["fi1.compact"]),
    ("Switzerland", ["zh1.single", "zh2.single", "zh1.compact", "zh2.cluster"]),
    ("General", ["dev1.compact"]),
]
ON_PREMISE_000 = "On-premise servers"

TEXTS_000 = {
    "scheduled": "We are conducting regular maintenance on our systems.",
    "in_progress": "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    "overrun": "Maintenance is taking longer than anticipated.",
    "bug": (
        "During a feature rollout a few sites were affected by a bug which caused temporary unavailability. "
        "All affected sites have been checked and should be back online. If you still see unavailability "
        "please get back to us in slack or via"
    ),
    "completed": (
        "Maintenance has concluded. We will publish a post-mortem report within the next couple of hours "
        "after we can debrief the incident together with our team."
    ),
}


def seed_000() -> Seed:
    seed = Seed("000_2654b95863ac015b.txt")
    seed.page(name="Hosting Status", time_zone="Europe/Zurich")
    for region, members in REGIONS_000:
        seed.group(region)
        for member in members:
            seed.component(member, region)
    seed.component(ON_PREMISE_000)
    seed.maintenance(
        "weekly",
        name="Regular Weekly Maintenance",
        scheduled_for="2017-09-12T20:00:00Z",  # 22:00 CEST, when it went in progress
        scheduled_until="2017-09-12T21:00:00Z",  # not in the seed: the usual hour, before the overrun
        body=TEXTS_000["scheduled"],
        display_at="2017-09-12T17:46:00Z",  # announced Sep 12, 19:46 CEST
        components=[f"{region}/{member}" for region, members in REGIONS_000 for member in members]
        + [ON_PREMISE_000],
        # Recorded after the fact: the updates below are the record, no worker is to act on it.
        auto_start=False,
        auto_complete=False,
        deliver_notifications=False,
    )
    seed.maintenance_update("weekly", status="in_progress", body=TEXTS_000["in_progress"],
                            display_at="2017-09-12T20:00:00Z", deliver_notifications=False)
    # The overrun is an update, not a new maintenance; the seed gives no new end: the window stays open.
    seed.maintenance_update("weekly", status="in_progress", body=TEXTS_000["overrun"], overrun=True,
                            display_at="2017-09-12T20:53:00Z", deliver_notifications=False)
    seed.maintenance_update("weekly", status="in_progress", body=TEXTS_000["bug"],
                            display_at="2017-09-12T21:32:00Z", deliver_notifications=False)
    seed.maintenance_update("weekly", status="completed", body=TEXTS_000["completed"],
                            display_at="2017-09-12T22:25:00Z", deliver_notifications=False)
    # The report's "Time: 20:30 UTC - 21:32 UTC": sites were not reachable for 62 minutes inside the
    # window, a partial outage of the platform (major impact).
    seed.edit("maintenance", "weekly", **IMPACT_000)
    return seed


IMPACT_000 = {"impact": "major", "impact_started_at": "2017-09-12T20:30:00Z", "impact_ended_at": "2017-09-12T21:32:00Z"}


# --- 001: a cloud provider's status history, June 5-11 2022, all times UTC -----------------------

SERVICES_001 = ["Infrastructure", "Reverse Proxies", "Mails", "Deployments", "Pulsar", "Cellar"]

TEXTS_001 = {
    "lost": [
        ("2022-06-10", "investigating",  # the first post's time is not in the seed: its date alone
         "An hypervisor has been lost on the Paris zone. We are investigating."),
        ("2022-06-10T06:04:00Z", "identified",
         "The server experienced a hardware failure. It may not be able to come back. Applications on it "
         "were redeployed elsewhere. Custom services and add-ons are currently impacted."),
        ("2022-06-10T06:23:00Z", "identified",
         "A public reverse proxy serving requests for ( was on this hypervisor. This IP was moved to another "
         "server. Between 05:23 and 05:35, it was unreachable."),
        ("2022-06-10T06:52:00Z", "identified", "ETA for server to come back is 08:00"),
        ("2022-06-10T07:46:00Z", "identified", "Hardware has been changed, server will be rebooted."),
        ("2022-06-10T07:57:00Z", "monitoring", "Server is back online, we are making sure all services are up."),
        ("2022-06-10T09:10:00Z", "resolved",
         "Everything is now back to normal, the incident is over. We will investigate further on the reason "
         "of the hardware failure."),
    ],
    "mails": [
        ("2022-06-09", "investigating",  # the first post's time is not in the seed: its date alone
         "Our mail provider is currently experiencing issues. You may notice delays in receiving emails for "
         "notification, password forgotten, or account signup, billing and other services. You may also "
         'experience errors when clicking on links in those emails, like "Bad request".'),
        ("2022-06-09T13:55:00Z", "monitoring",
         "Our provider now indicates that emails should now be received with some delays."),
        ("2022-06-09T16:15:00Z", "resolved",
         "Email delivery should now be working fine again. Our provider's incident is over."),
    ],
    "errors_503": [
        ("2022-06-08T20:58:00Z", "investigating",  # the first post, hours after the errors began
         "We are seeing an unusual amount of 503 errors on public reverse proxies, we are looking into it."),
        ("2022-06-08T21:28:00Z", "monitoring", "The issue has been found and fixed. We are monitoring the situation."),
        ("2022-06-08T21:40:00Z", "resolved",
         "Everything seems to be back to normal. The issue was happening for a couple of applications starting "
         "around 16:30 UTC. We will investigate further on why its configuration was out of sync during that "
         "time period."),
    ],
    "down": [
        ("2022-06-08T16:13:00Z", "investigating",
         "A hypervisor has stopped responding. We are investigating why. The system is redeploying the "
         "applications that were on it. Some reverse proxies are not responding."),
        ("2022-06-08T16:24:00Z", "identified",
         "At first look, it seems that a network error is making us see that hypervisor as down. No information "
         "yet on if it's a hardware or software network issue."),
        ("2022-06-08T16:28:00Z", "monitoring",
         "The hypervisor seems to be back up again. We are making sure everything on it is responding well."),
        ("2022-06-08T16:40:00Z", "resolved",
         "Everything has been check and is responding correctly.\n\n"
         "- Some add-ons became unresponsive.\n"
         "- Logs were not served.\n"
         "- One public reverse proxy was unresponsive. Traffic should have been diverted to others. "
         "Applications may have been a bit slow.\n"
         "- Some custom services for customers were unresponsive."),
    ],
    "deployments": [
        ("2022-06-08", "investigating",  # the first post's time is not in the seed: its date alone
         "Deployments are currently experiencing various issues, we are investigating."),
        ("2022-06-08T14:55:00Z", "resolved",
         "The problem has been identified and fixed. Deployments should now be working for the last 10 "
         "minutes. Sorry for the inconvenience."),
    ],
    "pulsar": [
        ("2022-06-07", "investigating",  # neither time is in the seed: their date alone
         "Our monitoring shows abnormal CPU usage on some Pulsar brokers, we are investigating."),
        ("2022-06-07", "resolved",
         "we stop some components which were increasing load of the cluster. it should be more stable now"),
    ],
    "cellar": [
        ("2022-06-06T19:30:00Z", "investigating", "We are experiencing network issues in our Paris data center."),
        ("2022-06-06T19:40:00Z", "identified",
         "The culprit is a switch that half stopped responding. Turns out that it's not broken enough so its "
         "routes are automatically removed. Our DC contractor is moving to physically remove the switch. ETA "
         "is 30 minutes."),
        ("2022-06-06T20:00:00Z", "monitoring",
         "Cellar seems to be up again. We are still watching and waiting for a direct confirmation from our DC "
         "contractor."),
        ("2022-06-07T00:00:00Z", "resolved", "Everything is back to normal"),
    ],
}

INCIDENTS_001 = {
    # key: (title, component, its status while open)
    "lost": ("[PAR] An hypervisor has been lost", "Infrastructure", "partial_outage"),
    "mails": ("Mails delivery issues", "Mails", "degraded_performance"),
    "errors_503": ("[PAR] Random 503 unavailable errors on public reverse proxies", "Reverse Proxies", "partial_outage"),
    "down": ("A hypervisor is down", "Infrastructure", "partial_outage"),
    "deployments": ("Deployments are experiencing issues", "Deployments", "partial_outage"),
    "pulsar": ("Service instabilities", "Pulsar", "degraded_performance"),
    "cellar": ("Paris zone is experiencing network issues", "Cellar", "major_outage"),
}

RETROACTIVE_001 = {
    "name": "[PAR] An add-on reverse proxy was unreachable",  # the seed's [RETROACTIVE] tag is a flag here
    "started_at": "2022-06-07T14:45:00Z",
    "resolved_at": "2022-06-07T14:48:00Z",
    "body": "An add-on reverse proxy was unreachable between 14:45 and 14:48 UTC. It has been restarted and is now "
            "serving requests as expected. Applications may have failed reaching their add-on during this time.",
    "components": {"Reverse Proxies": "partial_outage"},
}

MAINTENANCE_001 = {
    "name": "[PAR] Unique IP service planned unavailability",
    "scheduled_for": "2022-06-07T20:00:00Z",
    "scheduled_until": "2022-06-07T20:30:00Z",
    "display_at": "2022-05-17T09:00:00Z",  # "scheduled 3 weeks ago"; the hour is not in the seed
    "body": "The unique IP service will undergo a maintenance period for 30 minutes on June 7th starting at 20:00 "
            "UTC. During this time period, the service will be unavailable. Applications using the service will "
            "encounter timeouts or various errors when trying to use the service.\n\n"
            "Applications will automatically be restarted once the maintenance is over.",
}
MAINTENANCE_UPDATES_001 = [
    ("2022-06-07T20:05:00Z", "in_progress", "The maintenance is beginning"),
    ("2022-06-07T20:28:00Z", "completed",
     "The downtime was reduced to a few minutes but multiple network cuts may have happened. Applications "
     "linked to this service are currently redeploying."),
]


IMPACT_STARTED_503 = "2022-06-08T16:30:00Z"


def seed_001() -> Seed:
    seed = Seed("001_3783be2937c1b8e8.txt")
    seed.page(name="Cloud Status", time_zone="UTC")
    for service in SERVICES_001:
        # The mail provider is another company's service: it is shown as third-party.
        seed.component(service, **({"third_party": True} if service == "Mails" else {}))
    # Oldest first, as they were posted.
    for key in ["cellar", "pulsar", "deployments", "down", "errors_503", "mails", "lost"]:
        title, component, status = INCIDENTS_001[key]
        (first_at, first_status, first_body), *later = TEXTS_001[key]
        seed.incident(key, name=title, status=first_status, impact="minor", body=first_body,
                      components={component: status}, display_at=first_at, deliver_notifications=False)
        for at, update_status, body in later:
            seed.incident_update(key, status=update_status, body=body, display_at=at, deliver_notifications=False)
        if key == "errors_503":
            # "The issue was happening ... starting around 16:30 UTC": customers were affected long before
            # the first post, until it was resolved.
            seed.edit("incidents", key, impact_started_at=IMPACT_STARTED_503)
        if key == "pulsar":
            seed.incident("add_on_proxy", impact="minor", **RETROACTIVE_001)
    seed.maintenance("unique_ip", **MAINTENANCE_001, components=[], auto_start=False, auto_complete=False,
                     deliver_notifications=False)
    for at, status, body in MAINTENANCE_UPDATES_001:
        seed.maintenance_update("unique_ip", status=status, body=body, display_at=at, deliver_notifications=False)
    return seed


# --- 004: a forum downtime report -----------------------------------------------------------------

BODY_004 = """For still unknown reasons the CPU load on the central backend went to 100% at 16:10 UTC. As a result the web server/API became unresponsive. Pinging the server was still possible though. SSH access was unsuccessful due to the CPU load. Using the cloud providers direct console access was unsuccessful as well as the terminal was completely unresponsive. So far some kind of kernel problem or hardware issue seems most likely as the reason. The access log looked completely normal up to that point, so the issue wasn’t triggered from outside somehow.

The box was therefore shut down forcefully. This took about 2 minutes as the system first tried a graceful shutdown which didn’t work. We were about to announce a scheduled download in the next 2-3 weeks for hardware resizing and took the chance to do the resize now. This took about 1 minute extra. After that the server was powered back on and came up without problems. The web server process was shut down temporarily to prevent user/API/device access. The primary database was then compared with the backup system to see if there was any data loss due to the hard shutdown. No data was lost, so after a few minutes the web server was switched back on. Immediately the devices slowly reconnected.

(Intermission) Devices have a permanent websocket connection to the backend service. If this connection gets interrupted (like in this case), the devices wait for a random time (up to 60 seconds) before they try to reconnect. If this fails, it increases the wait time between further connection attempts up to a maximum of 6 minutes between attempts. So after the service was back online it took up to 6 minutes before all devices reconnected.

I’m not entirely sure if the root cause for the outage can be discovered at this point. There was no kernel error message in the last log lines and everything looked perfectly normal until the server suddenly became unresponsive. So it seems there is not a lot to learn from this to prevent this kind of issue in the future.

On the positive side, the new bigger box will make things a bit smoother in the future.

Sorry for the downtime. Feel free to post here if you have any questions.

Adding to this: During outages that affect the backend system, all devices continue to show their content. In fact even devices that have been offline before the outage, assigned new content and are turned on during the outage will fetch their assigned content. The backend system isn’t required for that. It’s only required to make changes to a device. A small outage should therefore have little to no impact at all. All devices continue to show their content.

You can read more about the system design in this older blog post:

If you’re building your own packages, thinking about how you implement them best to avoid problems due to outages like this was handled in a recent blog post here:"""

TITLE_004 = "Downtime on Nov 4 16:10-16:34 UTC"


def seed_004() -> Seed:
    seed = Seed("004_d1a5fa54565f66e8.txt")
    seed.page(name="Forum Status", time_zone="UTC")
    seed.component("Backend")  # "the central backend": the web server, the API and the devices' connections
    # The seed has no year: a recent one.
    seed.incident("downtime", name=TITLE_004, impact="major", body=BODY_004,
                  started_at="2025-11-04T16:10:00Z", resolved_at="2025-11-04T16:34:00Z",
                  components={"Backend": "major_outage"})
    return seed
