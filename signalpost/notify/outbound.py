"""Every request Signalpost makes to an address a user gave: webhooks, chat tools, the team's alert
channels.

A subscriber's URL is somebody else's choice of where this server connects, so it must not reach what
only this server can reach: its own loopback, the private network it sits on, the cloud's metadata
service. The rules are applied to the addresses a name resolves to, not to the name, and the connection
is made to exactly the address that was checked: the HTTP client asks `CheckedResolver` for addresses,
and that resolver returns only addresses that passed, so there is no second lookup that a DNS rebinding
could answer differently. Redirects are never followed (a redirect is a failure, as Statuspage counts
it), so a public URL cannot send the request on to a private one.

`SIGNALPOST_OUTBOUND_ALLOW` (CIDR ranges) lets an admin allow ranges, e.g. a receiver on the same
machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The incoming-webhook hosts of the chat tools: a chat subscription may point nowhere else.
# Slack: https://hooks.slack.com/services/T…/B…/…  Discord: https://discord.com/api/webhooks/<id>/<token>
# (discordapp.com is the older name, ptb./canary. the test clients). Teams: the Workflows app's URLs on
# Power Automate (…logic.azure.com/workflows/…, and since late 2025 …environment.api.powerplatform.com/…) and
# the older Office 365 connectors (<tenant>.webhook.office.com/webhookb2/…).
CHAT_HOSTS: dict[str, tuple[str, ...]] = {
    "slack": ("hooks.slack.com",),
    "discord": ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"),
    "teams": ("*.webhook.office.com", "*.logic.azure.com", "*.api.powerplatform.com"),
}

# Cloud instance metadata services (AWS, GCP and Azure on 169.254.169.254; AWS's IPv6 endpoint;
# Alibaba Cloud): named apart, as reaching one would hand out the machine's credentials.
METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
BROADCAST = ipaddress.ip_address("255.255.255.255")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

# Response bodies are read only so that the connection can be reused; past this they are not wanted.
BODY_CAP = 64 * 1024
USER_AGENT = "Signalpost-Webhooks/1"


class Refused(Exception):
    """A URL or address the outbound rules refuse; str() is the reason, for the subscriber to read."""


def allowed_ranges() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The ranges SIGNALPOST_OUTBOUND_ALLOW lets through although they are internal."""
    return tuple(getattr(settings, "OUTBOUND_ALLOW", ()))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 address: the one the packet really reaches."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str | None:
    """What makes an address one this server must not connect to, or None for a public one."""
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 4 and address in CGNAT:
        return "a shared (CGNAT) address"
    if any(address in net for net in PRIVATE):
        return "a private address"
    if address == BROADCAST:
        return "a broadcast address"
    # Documentation, benchmarking, protocol and future-use ranges: nothing a webhook lives on.
    if address.is_reserved or address.is_private or not address.is_global:
        return "a reserved address"
    return None


_HINT = "(allow it with SIGNALPOST_OUTBOUND_ALLOW)"


def _address_kind(address: IPAddress) -> str | None:
    """What the rules see in an address ("10.0.0.1, a private address"), or None when it may be reached."""
    allowed = allowed_ranges()
    inner = _embedded_ipv4(address) if address.version == 6 else None
    if any(address in net for net in allowed) or (inner is not None and any(inner in net for net in allowed)):
        return None
    if inner is not None:
        kind = _kind(inner)
        return f"{address} (that is {inner}), {kind}" if kind else None
    kind = _kind(address)
    return f"{address}, {kind}" if kind else None


def _parse_address(address: IPAddress | str) -> IPAddress:
    if isinstance(address, str):
        return ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id names no other host
    return address


def address_problem(address: IPAddress | str) -> str | None:
    """Why the rules refuse this address (the reason a Refused gives), or None when it may be reached."""
    address = _parse_address(address)
    what = _address_kind(address)
    if what is None:
        return None
    return f"refused: {what.replace(', ', ' is ', 1)} {_HINT}"


def check_addresses(host: str, addresses: Iterable[str]) -> None:
    """Raises Refused unless every address `host` resolved to passes: a name with one private address
    among public ones is refused whole, as it could be steered to that one."""
    addresses = list(addresses)
    if not addresses:
        raise Refused(f"refused: {host} resolves to no address")
    for address in addresses:
        parsed = _parse_address(address)
        what = _address_kind(parsed)
        if what is None:
            continue
        if _ip_literal(host) is not None:
            raise Refused(address_problem(parsed))
        raise Refused(f"refused: {host} resolves to {what} {_HINT}")


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def _refuse_odd_spelling(host: str) -> None:
    """An IPv4 address written some other way (2130706433, 127.1, 0x7f.0.0.1) is read differently by
    different parsers: only the usual dotted form is taken."""
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return
    usual = socket.inet_ntoa(packed)
    if host != usual:
        raise Refused(f"refused: {host} is an address written in an unusual form; write it as {usual}")


@dataclass(frozen=True)
class Target:
    """A URL's parts that the rules look at."""

    scheme: str
    host: str  # lower case, without a trailing dot; an IPv6 literal without its brackets
    port: int


def parse_url(url: str, *, hosts: tuple[str, ...] | None = None) -> Target:
    """The URL's scheme, host and port, or Refused naming what is wrong with it (no DNS)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("refused: not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("refused: the URL must start with https:// (or http://)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("refused: the URL has no host")
    _refuse_odd_spelling(host)
    if parts.username is not None or parts.password is not None:
        raise Refused("refused: the URL must not carry a user name or password")
    if hosts is not None:
        if scheme != "https":
            raise Refused("refused: the URL must start with https://")
        if not _host_matches(host, hosts):
            raise Refused(f"refused: {host} is not one of {', '.join(hosts)}")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def check_host(host: str, port: int = 443) -> list[str]:
    """The addresses `host` resolves to, all checked (Refused otherwise): for a client that connects by
    itself (Apprise), once the URL it will reach is known."""
    literal = _ip_literal(host)
    if literal is not None:
        problem = address_problem(literal)
        if problem:
            raise Refused(problem)
        return [str(literal)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"refused: {host} does not resolve (DNS failure)") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    check_addresses(host, addresses)
    return addresses


def check_url(url: str, *, hosts: tuple[str, ...] | None = None) -> None:
    """Raises Refused unless the rules let Signalpost post to `url`: http or https, a host, one of
    `hosts` when given (a chat tool's own; https only), and every address the name resolves to public
    or allowed by SIGNALPOST_OUTBOUND_ALLOW."""
    target = parse_url(url, hosts=hosts)
    check_host(target.host, target.port)


class CheckedResolver(AbstractResolver):
    """Resolves a name for the HTTP client and hands it only addresses that pass the rules: the client
    connects to one of these, never to the result of a lookup of its own. Refused addresses are left
    out (a name with an allowed IPv4 address and a loopback IPv6 one is reached over IPv4); a name
    left with none is refused with the reason of its first."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            results = await self._inner.resolve(host, port, family)
        except (OSError, UnicodeError):
            raise Refused(f"DNS failure: {host} does not resolve") from None
        passed = [r for r in results if _address_kind(_parse_address(r["host"])) is None]
        if not passed:
            check_addresses(host, [r["host"] for r in results])  # raises, naming the reason
        return passed

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class Request:
    key: str  # the caller's name for it (a delivery's id), carried to its Result
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    key: str
    ok: bool  # a 2xx within the timeout
    status: int | None  # the HTTP status, when one came
    error: str  # "" when ok; otherwise what happened, for a person to read
    elapsed_ms: int


def _describe(error: BaseException, target: Target | None, timeout: float) -> str:
    where = f"{target.host}:{target.port}" if target else "the host"
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:g} s"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"DNS failure: {target.host if target else 'the host'} does not resolve"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate of {where} not accepted: {error.certificate_error}"
    if isinstance(error, aiohttp.ClientSSLError):
        return f"TLS failed with {where}: {error}"
    if isinstance(error, aiohttp.ClientConnectorError):
        os_error = error.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return f"connection refused by {where}"
        return f"could not connect to {where}: {os_error.strerror or os_error}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection without answering"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"bad response from {where}: {error.message}"
    if isinstance(error, aiohttp.ClientError):
        return f"{where}: {type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error}"


async def _discard_body(response: aiohttp.ClientResponse) -> None:
    read = 0
    while read < BODY_CAP:
        chunk = await response.content.read(BODY_CAP - read)
        if not chunk:
            return
        read += len(chunk)


async def _post(session: aiohttp.ClientSession, request: Request, target: Target, timeout: float) -> Result:
    started = time.monotonic()

    def result(ok: bool, status: int | None, error: str) -> Result:
        return Result(request.key, ok, status, error, int((time.monotonic() - started) * 1000))

    try:
        async with asyncio.timeout(timeout):
            literal = _ip_literal(target.host)
            if literal is not None:  # the client skips the resolver for an address
                problem = address_problem(literal)
                if problem:
                    raise Refused(problem)
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **request.headers}
            async with session.post(request.url, data=request.body, headers=headers,
                                    allow_redirects=False) as response:
                await _discard_body(response)
                status = response.status
                if 200 <= status < 300:
                    return result(True, status, "")
                if 300 <= status < 400:
                    location = response.headers.get("Location", "")
                    target_url = urljoin(request.url, location)
                    if len(target_url) > 500:  # the receiver's text, kept with every attempt
                        target_url = target_url[:500] + "…"
                    where = f" to {target_url}" if location else " (no Location given)"
                    return result(False, status, f"redirected ({status}){where}")
                reason = f" {response.reason[:100]}" if response.reason else ""
                return result(False, status, f"HTTP {status}{reason}")
    except Exception as error:  # one target's failure is its own Result, never the batch's
        return result(False, None, _describe(error, target, timeout))


async def post_all(requests: list[Request], *, timeout: float = 30.0, concurrency: int = 64,
                   per_host: int = 8, tls: ssl.SSLContext | None = None) -> list[Result]:
    """POSTs every request, at most `concurrency` at a time and `per_host` to one host, and returns one
    Result per request, in order. It never raises because of a target: refused, unreachable, slow,
    failing and redirecting targets each give a failed Result saying so. The timeout counts from the
    moment a request has its turn, not while it waits for one. `tls`: the certificates trusted
    (the system's by default)."""
    overall = asyncio.Semaphore(concurrency)
    per_host_slots: dict[tuple[str, int], asyncio.Semaphore] = {}
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(), limit=concurrency,
                                     limit_per_host=per_host, ttl_dns_cache=60,
                                     ssl=tls if tls is not None else True)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None),
                                    trust_env=False, auto_decompress=False)

    async def one(request: Request) -> Result:
        try:
            target = parse_url(request.url)
        except Refused as error:
            return Result(request.key, False, None, str(error), 0)
        slot = per_host_slots.setdefault((target.host, target.port), asyncio.Semaphore(per_host))
        async with slot, overall:  # a busy host holds back only its own requests
            return await _post(session, request, target, timeout)

    try:
        return list(await asyncio.gather(*(one(r) for r in requests)))
    finally:
        await session.close()


def post_all_sync(requests: list[Request], **kw) -> list[Result]:
    """post_all for a worker thread: runs it in an event loop of its own."""
    return asyncio.run(post_all(requests, **kw))
