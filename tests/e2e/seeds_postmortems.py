"""The postmortems of shared/seeds/ (000, 002, 003, 004) as management API calls, written the way a team
would write them after the fact: the incidents first (000 and 004 exactly as tests/e2e/seeds.py enters
them; 002 and 003, which are only postmortems, get the incident they are about), then the postmortem,
its timeline in the seed's zone, its impact figures and its action items under their kinds; then a
review by a second token and the publication.

Texts are the seeds' own, cut into the postmortem's sections; where a seed gives a time only inside a
sentence ("At 11:25am PST we had a fix live") the time becomes the entry's and the prefix is dropped.
What a seed does not give is marked "not in the seed". Redacted names and links stay redacted.
"""

from dataclasses import dataclass, field

from . import seeds


@dataclass
class PostmortemSeed:
    file: str
    incidents: seeds.Seed  # the page, components and incidents, entered first
    covers: list[str]  # keys of `incidents`' answers this postmortem covers
    postmortem: dict  # POST /api/v1/postmortems, without "incidents"
    timeline: list[dict] = field(default_factory=list)  # [{"at", "text"}], UTC
    figures: list[dict] = field(default_factory=list)  # [{"label", "value"}]
    kinds: list[str] = field(default_factory=list)  # action item kinds the team adds for it
    action_items: list[dict] = field(default_factory=list)
    published_at: str | None = None  # when the seed says it was posted, if it does


def enter(author, reviewer, seed: PostmortemSeed) -> dict:
    """Enter the seed with `author`'s token, have `reviewer` (another token) approve it, publish it;
    the published postmortem as the API answers it. Both are clients with .call(method, path, payload)."""
    answers = seeds.enter(author, seed.incidents)
    for name in seed.kinds:
        author.call("POST", "/api/v1/postmortems/action-item-kinds", {"name": name})
    pm = author.call("POST", "/api/v1/postmortems", {
        **seed.postmortem, "incidents": [answers[key]["id"] for key in seed.covers], "prefill_timeline": False,
    })
    base = f"/api/v1/postmortems/{pm['id']}"
    if seed.timeline:
        author.call("PUT", f"{base}/timeline", {"entries": seed.timeline})
    if seed.figures:
        author.call("PUT", f"{base}/figures", {"figures": seed.figures})
    for item in seed.action_items:
        author.call("POST", f"{base}/action-items", item)
    author.call("POST", f"{base}/request-review", {})
    reviewer.call("POST", f"{base}/approve", None)
    author.call("POST", f"{base}/publish", {"published_at": seed.published_at} if seed.published_at else None)
    return author.call("GET", base)


def _utc(day: str, *times: str) -> list[str]:
    return [f"{day}T{t}:00Z" for t in times]


# --- 000: the post-mortem attached to the weekly maintenance ------------------------------------------
#
# The report dates its timeline 2017-09-13, but it was posted Sep 13, 10:41 CEST, before 20:00 UTC that
# day, and its times of day are those of the maintenance's own updates of Sep 12 (20:53 UTC, "page
# updated" = the 22:53 CEST overrun notice): the events were on Sep 12, as the maintenance records them.

SUMMARY_000 = (
    "During our regular maintenance windows the rollout of a new release of the 3rd generation hosting platform "
    "an unforeseen situation caused the public_html symlink of production deployments to be removed and with that "
    "the sites not reachable (read more about our deployment system here: No data loss occurred."
)

TIMELINE_000 = [
    ("20:00", "Start of regular weekly maintenance window"),
    ("20:17", "New release of hosting platform merged into production environment and started to roll out across "
              "all servers."),
    ("20:30", "During monitoring of roll out, engineers see first sites not accessible anymore. team decides to "
              "immediately stop the rollout of the code and assess the situation via a taskforce video call."),
    ("20:45", "Situation has been analyzed and showed that the newest code of the hosting platform had a case where "
              "it was possible that public_html symlink were unintentionally removed and replaced with an empty "
              "directory. The team started to implement a script that will recreate symlinks of the public_html "
              "folders for each site."),
    ("20:53", "Maintenance page updated that maintenance will take longer than usual."),
    ("21:13", "The team implemented a script that recreates the symlink and has been tested on test servers for "
              "it’s full functionality. Team starts to run the symlink script on all servers."),
    ("21:32", "Symlink script executed on all servers and all symlinks restored"),
    ("21:44", "Monitoring showed that some sites appeared to not be back online. After short research it was found "
              "that Varnish had cached the error in these cases. Team decided that all varnish caches should be "
              "cleared. All sites are fully working again."),
    ("21:53", "As the rollout is still halted, the team searches and finds the cause of the removal of the symlink "
              "and fixes the code in the hosting platform."),
    ("22:08", "New code is tested on several test servers and sites and found fully functioning. Started to roll out "
              "on all servers."),
    ("22:21", "Newest code rolled out on all servers. team tests full functioning of hosting platform with test "
              "deployments and finds the platform to be fully stable and working again."),
]

# The "Actions & Mitigations" table: Issue | Status / Action Taken.
ACTIONS_000 = [
    ("Not found case of public_html symlink removal during development & testing",
     "develops and test every new code on dedicated servers for testing and does code reviews with 4 eye check by "
     "the team. Unfortunately no process is perfect and it’s possible for bugs to slip through. We will adapt our "
     "testing process with more rigorous testing and edge case finding procedures.",
     "Preventive (process)", "open"),
    ("Maintenance page updated late",
     "As our platform was already in maintenance mode and with that the status page showing a maintenance window, "
     "we did not consider to update the maintenance page when the first websites did not work anymore. Also at that "
     "time we were not sure how wide across our platform the symlink issue caused issues. Only a couple of minutes "
     "after the issue occured we updated the maintenance page to state that during this maintenance window the "
     "sites are not reachable longer than usual. We updated our processes to update the status page immediately "
     "even if we are in a maintenance window already.",
     "Communication", "done"),  # a kind the team adds: keeping readers informed
]

CLOSING_000 = ("**Further information**\n\nIf you like further information about this incident, please don't "
               "hesitate to contact us at or directly via Slack.")


def postmortem_000() -> PostmortemSeed:
    return PostmortemSeed(
        file="000_2654b95863ac015b.txt",
        incidents=seeds.seed_000(),
        covers=["weekly"],
        postmortem={
            "title": "Regular Weekly Maintenance",
            "template": "Scheduled Maintenance Report",
            "timeline_zone": "UTC",
            "summary": SUMMARY_000,
            "impact": "The public_html symlink of production deployments was removed and with that the sites not "
                      "reachable. No data loss occurred.",
            "root_cause": "The newest code of the hosting platform had a case where it was possible that "
                          "public_html symlink were unintentionally removed and replaced with an empty directory.",
            "contributing_factors": "- The case of public_html symlink removal was not found during development "
                                    "& testing.\n- Varnish had cached the error for some sites, which stayed "
                                    "unreachable after the symlinks were restored until all caches were cleared.",
            "closing": CLOSING_000,
            "first_signal_at": "2017-09-12T20:30:00Z",  # engineers see first sites not accessible
            "detected_at": "2017-09-12T20:30:00Z",
            "acknowledged_at": "2017-09-12T20:53:00Z",  # the maintenance page said so
        },
        timeline=[{"at": f"2017-09-12T{at}:00Z", "text": text} for at, text in TIMELINE_000],
        published_at="2017-09-13T08:41:00Z",  # "Posted … Sep 13, 2017 - 10:41 CEST"
        figures=[{"label": "Sites not reachable", "value": "20:30 – 21:32 UTC"},
                 {"label": "Data lost", "value": "None"}],
        kinds=["Communication"],
        action_items=[{"title": title, "description": text, "kind": kind, "state": state}
                      for title, text, kind, state in ACTIONS_000],
    )


# --- 002: a long learning review, times in PST --------------------------------------------------------
#
# "Yesterday" is Feb 2; the seed gives no year: 2018. February is PST (UTC-8) throughout.

PAGE_002 = {"name": "Deploy Platform Status", "time_zone": "America/Los_Angeles"}  # not in the seed
COMPONENTS_002 = ["Sites (origin)", "API", "Web UI"]  # what the seed says failed

SUMMARY_002 = ("Yesterday we had a serious incident where human error caused a data migration to go wrong and "
               "caused metadata for 5.2% of the deploys in our system to get overwritten.")

IMPACT_002 = (
    "This caused downtime for sites if they had one of these deploys active, and the given CDN node did not have "
    "the site content in its cache. Our API and web UI also failed to fetch any sites that included a deploy in an "
    "invalid state.\n\n"
    "Some of the sites that were deployed in the interval between the moment we ran the original migration and "
    "until the issue had been fixed, ran into a secondary issue where the bad metadata for existing deploys would "
    "cause some new file uploads to get into a bad state. We’re identifying all sites affected by this and will get "
    "in touch with clients that may have files that didn’t upload correctly."
)

TIMELINE_INTRO_002 = (
    "Our immediate priority was to get affected sites back to normal first, focusing on affected paying customers "
    "on Enterprise and Global plans first, and then on fixing API serialization errors and, second, getting our web "
    "UI back to normal.\n\n"
    "All sites affected were configured to deploy automatically from git, so to get sites back in a good state we "
    "started working in parallel on two tasks:\n\n"
    "1. Immediately start triggering re-runs of builds for sites that were directly affected by this.\n"
    "2. Meanwhile restore the latest database backup, get a dump of the deploy metadata collection and work on "
    "scripts to restore affected deploys."
)

TIMELINE_002 = [  # PST, Feb 2 2018
    ("09:17", "The failed migration instantly triggered alerts for failed origin requests."),
    ("10:20", "We were running some emergency processing scripts that would push through any deploys with this issue "
              "automatically."),
    ("11:25", "We had a fix live in our background processors that finally allowed all the new builds to go through "
              "normally."),
    ("12:30", "We started being able to get deploy metadata from our latest backup and directly fix broken deploys on "
              "a site by site basis through a manual process. Since most affected sites were still working fine due "
              "to the CDN caching, we started manually restoring sites focusing on the ones that were reported down "
              "through all of our support channels."),
    ("13:45", "We had scripts in place to automate this process and get any site back into the last known good state "
              "on a site by site basis."),
    ("15:15", "All affected deploys that were present in our DB backup had been restored at this point. We started "
              "running a script to identify sites that had not been restored from the DB backup and had not had any "
              "new build go through since the incident start."),
    ("15:46", "We registered all affected deploys as having been dealt with either by restoring from backup or "
              "reverting the site to the last known state."),
]

RECOVERY_002 = (
    "We wrote a series of queries to determine the list of affected sites and deploys that belonged to customers "
    "with SLAs to get their sites ahead in the queue. In general those sites were much less prone to hit the origin "
    "failures due to more dedicated cache disk space on our global custom CDN. Due to this none of our enterprise "
    "clients were down for more than 10 minutes and most experienced no downtime.\n\n"
    "However, when triggering the initial badges of rebuilds, in some cases, the final step to getting the new "
    "deploy live would fail during a step where we compare the timestamp of the latest completed deploy — because "
    "the deploy metadata for that deploy was invalid. We were however able to manually push through deploys.\n\n"
    "Meanwhile we were waiting for the backup to restore from S3. However we managed to cut down the waiting time "
    "considerable as our backup system allows us to spin up a read-only database with access to a specific "
    "snapshot directly from a fuse mounted S3 bucket."
)

ROOT_CAUSE_002 = (
    "Human error caused a data migration to go wrong: a custom write query against live data overwrote the deploy "
    "metadata of 5.2% of the deploys, a considerable amount of data irrecoverably lost from the production "
    "database.\n\n"
    "Most of the deploy metadata can be reconstituted from other objects in the database or inferred from the files "
    "in the deploys, etc. However, the deploy metadata object contains a “pointer” to a “tree object” in our large "
    "distributed filesystem. Without this pointer we have no way of knowing what files are in the deploy (hence the "
    "404s for affected pages)."
)

FACTORS_002 = (
    "Ironically we had our first major disaster recovery exercise scheduled for the end of this month, in order to "
    "improve our processes around major issues. Instead we had to learn during the real deal."
)

WENT_WELL_002 = (
    "One positive note during this incident, was that our database backup system is working well and we had no "
    "problems recovering our latest backup."
)

WENT_BADLY_002 = (
    "It took us much longer than needed to realize that we have the ability to mount any database snapshot as a "
    "read-only database directly from our S3 backups and connect to that straight from our application servers. Had "
    "we realized this earlier we would not have wasted time waiting to recover a full dump of the deploy metadata "
    "and could have started the process of repairing the broken data a few moments after the incident began. Had "
    "this occurred after our planned disaster recovery exercise, we would no doubt have been able to react much "
    "faster."
)

ACTIONS_INTRO_002 = (
    "Yesterday’s incident was in many ways the worst case scenario for any service, where human error caused a "
    "considerable amount of data to be irrecoverably lost from the production database.\n\n"
    "The action items coming out of this come in two groups:\n\n"
    "1. How can we avoid any incident like this from ever occurring again.\n"
    "2. How can we recover faster from an incident like this.\n\n"
    "Eventually avoiding similar incidents comes down to avoiding human error, whether we’re talking database "
    "updates or major configuration changes. There’s two ways we can address this: processes and tooling. Whenever "
    "possible, the second should take precedence."
)

ACTIONS_002 = [  # (kind, title, state, description); states from the seed's tense ("we're now", "we will")
    ("Preventive (process)", "Peer signoff", "in_progress",
     "In terms of processes we’re instilling a hard rule that no-one, however experienced, should run a custom "
     "write query against live data without getting the OK from at least one other senior infrastructure engineer. "
     "Even if the query has been tested against a staging environment."),
    ("Preventive (process)", "Pre migration database snapshot", "open",
     "We will also start triggering a database snapshot before running any write query that operates on more than "
     "one document. Our database backup system makes taking snapshots fast and efficient, and we will take better "
     "advantage of this."),
    ("Preventive (tooling)", "Enforced Auditing and Reviews", "in_progress",
     "In terms of tooling, we’re now wrapping our database interface in a custom layer that scans for certain types "
     "of command and runs them by a Slack channel before executing them. This tool also announces in Slack whenever "
     "a developer starts a console session and leaves an audit trail in Slack of all commands."),
    ("Improving recovery", "Logging more deploy metadata", "open",
     "Going forward we’re going to log this pointer whenever we set it on a deploy object. This will make it "
     "possible to reconstruct all recent deploys from our logs if needed."),
    ("Improving recovery", "Better internal documentation", "in_progress",
     "Now we’re writing up extensive docs on how to granularly access data from any DB snapshot, and we’ll be "
     "increasing the rate with which we take snapshots, so we can cut down the time it would take to do partial "
     "data recovery at any time in the future."),
    ("Improving recovery", "Support for Triggering Rebuilds", "open",
     "Currently our API and web UI allows users to trigger a new build on their main branch. Being able to easily "
     "trigger a rerun of a specific build from the same Git commit, both through our UI and our API, has been a "
     "common feature request. We’re now going to push that to the front of the product roadmap, since it would "
     "also help in quickly rebuilding a specific deploy in the future."),
]

CLOSING_002 = (
    "Preventing human error is of course always hard but fortunately we have found a number of ways to better "
    "prevent something like this from happening ever again, and to recover faster if it should so anyway."
)


def _pst(hhmm: str) -> str:
    """Feb 2 2018, h:mm PST, as UTC (PST is UTC-8; 15:46 PST is 23:46 UTC the same day)."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return f"2018-02-02T{hours + 8:02d}:{minutes:02d}:00Z"


def incidents_002() -> seeds.Seed:
    seed = seeds.Seed("002_6871d009a54c0ad3.txt")
    seed.page(**PAGE_002)
    for name in COMPONENTS_002:
        seed.component(name)
    seed.incident(
        "origin", name="Origin outage: sites, API and web UI failing for some deploys", impact="major",
        body=SUMMARY_002, started_at=_pst("09:17"), resolved_at=_pst("15:46"),
        resolution_body=TIMELINE_002[-1][1],
        components={"Sites (origin)": "partial_outage", "API": "degraded_performance",
                    "Web UI": "degraded_performance"},
    )
    return seed


def postmortem_002() -> PostmortemSeed:
    return PostmortemSeed(
        file="002_6871d009a54c0ad3.txt",
        incidents=incidents_002(),
        covers=["origin"],
        postmortem={
            "title": "Learning Review for our Feb 2 Origin Outage",
            "template": "learning_review",
            "timeline_zone": "America/Los_Angeles",
            "summary": SUMMARY_002,
            "impact": IMPACT_002,
            "timeline_intro": TIMELINE_INTRO_002,
            "recovery": RECOVERY_002,
            "root_cause": ROOT_CAUSE_002,
            "contributing_factors": FACTORS_002,
            "went_well": WENT_WELL_002,
            "went_badly": WENT_BADLY_002,
            "actions_intro": ACTIONS_INTRO_002,
            "closing": CLOSING_002,
            "first_signal_at": _pst("09:17"),  # the alerts fired at once
        },
        timeline=[{"at": _pst(at), "text": text} for at, text in TIMELINE_002],
        figures=[{"label": "Deploys whose metadata was overwritten", "value": "5.2%"},
                 {"label": "Longest downtime of an enterprise client", "value": "10 minutes at most"}],
        action_items=[{"kind": kind, "title": title, "state": state, "description": text}
                      for kind, title, state, text in ACTIONS_002],
    )


# --- 003: a short postmortem naming regions and the root cause -----------------------------------------
#
# The seed gives the day (July 22nd, 2015) and no times: the incident's hours are not in the seed.

GROUPS_003 = {"Joyent us-east-1": ["Projects"], "Joyent eu-ams-1": ["Projects"], "AWS us-east-1": ["Projects"]}

INTRO_003 = (
    "In the spirit of maintaining a relationship of transparency and trust with our customers, we’ve provided a "
    "rundown of events that transpired yesterday that affected a number of regions. We sincerely apologize to those "
    "affected and have taken steps to ensure this particular issue cannot happen again."
)
IMPACT_003 = (
    "On July 22nd, 2015 we inadvertently took a subset of projects offline. The largest impacted region was Joyent "
    "us-east-1 and Joyent eu-ams-1."
)
ROOT_CAUSE_003 = (
    "The underlying cause was a bug in a newly launched internal auditing tool. The responsibility of the auditing "
    "tool was to continually scan our infrastructure for servos that are no longer associated with a project and "
    "deprovision them. Unfortunately, the tool incorrectly identified a subset of live servos.\n\n"
    "The effects of the bug were confined to only our previous generation of application hosts. The bug was caused "
    "by a slight and overlooked difference between how we store information about what servos on are each hosts. "
    "Whereas the tool did go through code review, staging testing, and we successfully rolled it out to multiple "
    "smaller regions, it wasn't until it hit the large Joyent us-east-1 region that the bug manifested itself."
)
RECOVERY_003 = (
    "The projects were restored with a simple stop/start command to the project, which causes a re-provision, but "
    "the projects were down during this time."
)
FACTORS_003 = (
    "We already have in place tighter release and review policies for changes that impact customer uptime. For "
    "example, changes to the load balancers are tightly controlled. This tool should have gone through a more "
    "stringent review because it did have the potential to affect uptime."
)
ACTION_003 = (
    "We have changed our policy to better identify tools that can affect uptime and ensure they pass through the "
    "appropriate release procedure."
)
CLOSING_003 = (
    "We apologize again if you were one of the people affected. Maintaining uptime is one of our most important "
    "goals as a product and as a company and we did not meet that goal yesterday. We have learned from this and as "
    "a result will move forward with a more stable environment for our customers and their applications."
)


def incidents_003() -> seeds.Seed:
    seed = seeds.Seed("003_494c45958b0e881d.txt")
    seed.page(name="Cloud Hosting Status", time_zone="UTC")  # not in the seed
    for group, members in GROUPS_003.items():
        seed.group(group)
        for member in members:
            seed.component(member, group)
    seed.incident(
        "servos", name="Projects offline in Joyent us-east-1 and eu-ams-1", impact="major", body=IMPACT_003,
        started_at="2015-07-22", resolved_at="2015-07-22",  # the seed gives the day, not the times
        resolution_body=RECOVERY_003,
        components={"Joyent us-east-1/Projects": "partial_outage", "Joyent eu-ams-1/Projects": "partial_outage"},
    )
    return seed


def postmortem_003() -> PostmortemSeed:
    return PostmortemSeed(
        file="003_494c45958b0e881d.txt",
        incidents=incidents_003(),
        covers=["servos"],
        postmortem={
            "title": "Postmortem - Partial Outage on July 22nd 2015",
            "template": "postmortem",
            "timeline_zone": "UTC",
            "summary": INTRO_003,
            "impact": IMPACT_003,
            "recovery": RECOVERY_003,
            "root_cause": ROOT_CAUSE_003,
            "contributing_factors": FACTORS_003,
            "closing": CLOSING_003,
        },
        action_items=[{"kind": "Preventive (process)", "state": "done", "description": ACTION_003,
                       "title": "Tools that can affect uptime go through the release procedure for uptime changes"}],
    )


# --- 004: the forum downtime report, root cause unknown ------------------------------------------------

PARAGRAPHS_004 = seeds.BODY_004.split("\n\n")


def postmortem_004() -> PostmortemSeed:
    p = PARAGRAPHS_004
    return PostmortemSeed(
        file="004_d1a5fa54565f66e8.txt",
        incidents=seeds.seed_004(),
        covers=["downtime"],
        postmortem={
            "title": seeds.TITLE_004,
            "template": "Downtime report",
            "timeline_zone": "UTC",
            "summary": p[0].split(" Pinging")[0],  # the CPU at 100%, the web server/API unresponsive
            "impact": p[6],  # "Adding to this: ... All devices continue to show their content."
            "recovery": "\n\n".join([p[1], p[2]]),  # the forced shutdown and resize; clients back off with jitter
            "root_cause": "\n\n".join([p[0], p[3]]),  # what was seen, and that the cause may not be found
            "root_cause_unknown": True,
            "went_well": p[4],
            "closing": "\n\n".join([p[5], p[7], p[8]]),
            "first_signal_at": "2025-11-04T16:10:00Z",
        },
        timeline=[
            {"at": "2025-11-04T16:10:00Z",
             "text": "The CPU load on the central backend went to 100%. As a result the web server/API became "
                     "unresponsive."},
            {"at": "2025-11-04T16:34:00Z",
             "text": "The web server was switched back on. Immediately the devices slowly reconnected."},
        ],
        action_items=[{"kind": "Mitigation", "state": "done", "title": "Hardware resizing (a bigger box)",
                       "description": "We were about to announce a scheduled download in the next 2-3 weeks for "
                                      "hardware resizing and took the chance to do the resize now."}],
    )


ALL = {"000": postmortem_000, "002": postmortem_002, "003": postmortem_003, "004": postmortem_004}
