"""The team's own alerts: one message per event (a delivery that ran out of attempts, a webhook
paused) sent through Apprise to every team channel that takes that kind of event. "team_alerts" is a
consumer of the events machinery: a channel that fails makes the event fail, and it is retried with
back-off; the channels that already took it are remembered with the attempt, so a retry sends only to
those that had not.

Every channel's URL passes the outbound address rules (signalpost.notify.outbound) when it is saved and
again before each message. Apprise makes its own connections, so the hosts it will reach are read from
its plugin (the host named in the URL, the service's fixed endpoints, an SMTP server) and each is
checked just before sending.
"""

import ipaddress
import logging
from urllib.parse import urlsplit


from signalpost.events.consumers import Consumer
from signalpost.events.work import Failed, Outcome, Work

from . import outbound
from .models import TeamAlert, TeamChannel

log = logging.getLogger("signalpost.notify.team")

# Monitors' state changes reach the channels through the monitors' own job, gathered into one message.
CONSUMER = Consumer(name="team_alerts", handler="signalpost.notify.team.handle",
                    kinds=(TeamAlert.DELIVERY_FAILED, TeamAlert.SUBSCRIBER_PAUSED), max_attempts=10)

# Class attributes of Apprise plugins that are documentation, not where they connect.
_NOT_ENDPOINTS = {"service_url", "setup_url"}


def plugin_for(url: str):
    """Apprise's plugin for `url`, or Refused saying the URL is not one Apprise knows."""
    import apprise  # here, not at the top: only the team_alerts job and the channels screen need it

    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if not plugin:
        raise outbound.Refused("refused: not an Apprise URL Signalpost can use (see Apprise's list of services)")
    return plugin


def _looks_like_host(host: str) -> bool:
    if host == "localhost" or "." in host:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def hosts_of(plugin) -> list[tuple[str, int]]:
    """Where the plugin will connect: the host the URL names (a self-hosted service, a JSON endpoint,
    an SMTP server), and the fixed endpoints of a hosted service."""
    secure = bool(getattr(plugin, "secure", False))
    found: list[tuple[str, int]] = []
    for name in ("host", "smtp_host"):
        host = str(getattr(plugin, name, "") or "").strip().lower()
        if host and _looks_like_host(host):
            found.append((host.strip("[]"), int(getattr(plugin, "port", None) or (443 if secure else 80))))
    for name, value in vars(type(plugin)).items():
        if name in _NOT_ENDPOINTS or not isinstance(value, str) or "{" in value:
            continue
        if value.startswith(("https://", "http://")):
            parts = urlsplit(value)
            if parts.hostname:
                found.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    return list(dict.fromkeys(found))


def check(url: str):
    """The plugin for `url` when every host it will reach passes the outbound rules; Refused otherwise."""
    plugin = plugin_for(url)
    hosts = hosts_of(plugin)
    if not hosts:
        raise outbound.Refused("refused: Signalpost cannot tell which address this service connects to")
    for host, port in hosts:
        outbound.check_host(host, port)
    return plugin


def shown(url: str) -> str:
    """The URL as the console shows it: Apprise's form with its credentials elided, without options."""
    return plugin_for(url).url(privacy=True).split("?", 1)[0][:300]


def send(channel: TeamChannel, title: str, body: str) -> str | None:
    """Send one message; None when it went, else the reason (never the URL, which holds credentials)."""
    try:
        plugin = check(channel.url)
    except outbound.Refused as refusal:
        return str(refusal)
    import apprise

    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        try:
            sent = plugin.notify(body=body, title=title)
        except Exception as error:  # noqa: BLE001 - a plugin's own failure is a failed send, retried
            return f"{type(error).__name__}"
    if sent:
        return None
    reason = " ".join(line.strip() for line in captured.getvalue().splitlines() if line.strip())[-300:]
    return _scrub(reason or "the service did not accept the message", channel.url)


def _scrub(text: str, url: str) -> str:
    """Apprise's log lines may quote the URL or its parts: keep those out of what is stored and shown."""
    for part in filter(lambda p: len(p) >= 6, [url, *url.replace("://", "/").replace("@", "/").split("/")]):
        text = text.replace(part, "…")
    return text


def message_for(kind: str, data: dict) -> tuple[str, str]:
    """The title and body of the team's message for one event."""
    if kind == "delivery.failed":
        address = data.get("address", "a subscriber")
        about = data.get("about") or data.get("event_kind") or "an update"
        error = data.get("error") or data.get("last_error") or "its attempts ran out"
        return ("A notification could not be delivered",
                f"The {data.get('channel', '')} delivery about {about} to {address} failed after "
                f"{data.get('attempts', 'all its')} attempts: {error}. It is in the console's dead-letter list, "
                "where it can be retried.")
    if kind == "subscriber.paused":
        address = data.get("address", "a webhook")
        reason = data.get("reason") or "it kept failing"
        return ("A subscriber's webhook is paused",
                f"{address} is paused: {reason}. It is told nothing until an admin resumes it in the console.")
    return (kind, "; ".join(f"{key}: {value}" for key, value in sorted(data.items()))[:2000])


def channels_for(kind: str) -> list[TeamChannel]:
    return [channel for channel in TeamChannel.objects.order_by("id") if channel.takes(kind)]


def handle(work: Work) -> Outcome | None:
    event = work.event
    done = set((work.progress or {}).get("sent", []))
    title, body = message_for(event.kind, event.data or {})
    failures = []
    for channel in channels_for(event.kind):
        if channel.pk in done:
            continue
        problem = send(channel, title, body)
        if problem is None:
            done.add(channel.pk)
            log.info("team alert %s sent to %s", event.kind, channel.name)
        else:
            failures.append(f"{channel.name}: {problem}")
    if failures:
        return Failed("; ".join(failures), progress={"sent": sorted(done)})
    return None
