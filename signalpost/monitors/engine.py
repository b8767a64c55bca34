"""The probe engine: runs every monitor's check on its interval, on one asyncio loop, and hands the
results to a writer in batches.

- Checks are spread over each monitor's interval: a monitor's slot is an offset from a hash of its id,
  so its checks fall at the same second of every interval, whenever the engine started (after a restart
  every monitor is checked again within one interval) and never all in the same second.
- Every check has a hard timeout over all of it (connect, TLS, headers, body: a target that drips bytes
  slowly times out like one that hangs), reads at most BODY_CAP bytes of a body, and holds at most
  PER_HOST connections to one host at once. Whatever a target does becomes a result with its reason; one
  target never stops the engine or holds back the others' checks.
- Targets obey the outbound address rules (signalpost.notify.outbound): the connection goes to an
  address the rules checked, and a redirect is followed only to a URL that passes them too.
- The database is touched from one thread of its own (loading monitors, writing batches), never from
  the loop: a slow write delays no check, and results wait in memory until it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import ipaddress
import logging
import math
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import lru_cache
from urllib.parse import urljoin

import aiohttp

from signalpost.notify.outbound import (
    CheckedResolver,
    Refused,
    address_problem,
    allowed_ranges,
    check_addresses,
    parse_url,
)

from .kinds import check_dns, check_icmp, json_problem
from .store import Outcome

log = logging.getLogger("signalpost.probe")

BODY_CAP = 64 * 1024  # the part of a body a keyword is looked for in
CONCURRENCY = 512  # checks in flight at once
PER_HOST = 4  # connections to one host at once
MAX_REDIRECTS = 10
RELOAD_SECONDS = 10.0  # how soon a monitor created, changed or paused is taken into account
FLUSH_SECONDS = 1.0  # results wait at most this long before they are written (fewer, larger batches)
BATCH = 1000  # results per write
BUFFER = 200_000  # results kept in memory while the database is away; the oldest go beyond this
USER_AGENT = "Signalpost-Monitor/1"
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True, slots=True)  # slots: 50,000 of them stay in memory
class Check:
    """A monitor's settings as the engine uses them (plain values, read once per reload)."""

    id: int
    public_id: str
    kind: str
    target: str
    interval: float
    timeout: float
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    expected: tuple = ("2xx", "3xx")
    keyword: str = ""
    keyword_absent: str = ""
    degraded_above_ms: int | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    tls_expiry_days: int = 14
    json_path: object | None = None  # compiled once, when the monitors are read (jsonpath.JSONPath)
    json_path_text: str = ""
    json_expected: str = ""  # the expected value as JSON; "": the path must find something, whatever it is
    record_type: str = "A"
    dns_expected: tuple[str, ...] = ()
    resolver: str = ""


def offset(public_id: str, interval: float) -> float:
    """The monitor's slot within its interval, in seconds: the same on every start and every engine."""
    digest = int.from_bytes(hashlib.sha256(public_id.encode()).digest()[:8], "big")
    return (digest % max(1, int(interval * 1000))) / 1000


def next_due(now: float, interval: float, slot: float) -> float:
    """The first time after `now` (epoch seconds) that falls on the monitor's slot."""
    return (math.floor((now - slot) / interval) + 1) * interval + slot


def status_expected(code: int, expected) -> bool:
    for item in expected:
        text = str(item).strip().lower()
        if len(text) == 3 and text.endswith("xx") and text[0].isdigit():
            if code // 100 == int(text[0]):
                return True
        elif "-" in text:
            low, _, high = text.partition("-")
            if low.strip().isdigit() and high.strip().isdigit() and int(low) <= code <= int(high):
                return True
        elif text.isdigit() and int(text) == code:
            return True
    return False


def split_host_port(target: str) -> tuple[str, int]:
    """"host:port" or "[v6]:port" → (host, port); ValueError naming what is wrong."""
    target = target.strip()
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = target.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("must be host:port (a port from 1 to 65535)")
    return host.rstrip(".").lower(), int(port_text)


def _literal(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class Failure(Exception):
    """A check that failed, with the reason shown for it."""


def _describe(error: BaseException, where: str, timeout: float) -> str:
    if isinstance(error, (Refused, Failure)):
        return str(error)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:g} s"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"DNS failure: {where} does not resolve"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate of {where} not accepted: {error.certificate_error}"
    if isinstance(error, (aiohttp.ClientSSLError, ssl.SSLError)):
        return f"TLS failed with {where}: {error}"
    if isinstance(error, aiohttp.ClientConnectorError):
        error = error.os_error
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(error, ConnectionResetError):
        return f"connection reset by {where}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection without answering"
    if isinstance(error, aiohttp.ClientPayloadError):
        return f"{where} sent a broken body: {error}"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"bad response from {where}: {error.message}"
    if isinstance(error, OSError):
        return f"could not connect to {where}: {error.strerror or error}"
    if isinstance(error, aiohttp.ClientError):
        return f"{where}: {type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error}"


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    chunks, read = [], 0
    while read < cap:
        chunk = await response.content.read(cap - read)
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)


def user_agent(location: str) -> str:
    """The User-Agent of the checks made from a location: a target's log tells the locations apart."""
    return f"{USER_AGENT} (location {location})"


async def check_http(session: aiohttp.ClientSession, check: Check,
                     agent: str = USER_AGENT) -> tuple[str, int | None, str]:
    """(verdict, status code, reason) of one HTTP check; raises for a failure to get an answer."""
    url, method = check.target, check.method.upper()
    body = check.body.encode() if check.body else None
    headers = {"User-Agent": agent, **dict(check.headers)}
    for _hop in range(MAX_REDIRECTS + 1):
        problem = _literal_problem(url, allowed_ranges())
        if problem:
            raise Refused(problem)
        async with session.request(method, url, data=body, headers=headers, allow_redirects=False,
                                   ssl=None if check.verify_tls else False) as response:
            status = response.status
            if check.follow_redirects and status in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                continue
            expiry = _certificate_expiry(session, url) if check.tls_expiry_days else None
            wanted = bool(check.keyword or check.keyword_absent)
            content = await _read_capped(response, BODY_CAP)  # the answer's time includes its body
            if not status_expected(status, check.expected):
                reason = f" {response.reason}" if response.reason else ""
                return "down", status, f"HTTP {status}{reason}"
            if wanted:
                text = content.decode(response.get_encoding() if response.charset else "utf-8", errors="replace")
                if check.keyword and check.keyword not in text:
                    return "down", status, f"keyword '{check.keyword}' missing"
                if check.keyword_absent and check.keyword_absent in text:
                    return "down", status, f"keyword '{check.keyword_absent}' present"
            if check.json_path is not None:
                problem = json_problem(content, check, cut=len(content) >= BODY_CAP)
                if problem:
                    return "down", status, problem
            return "up", status, _expiry_warning(expiry, check.tls_expiry_days)
    raise Failure(f"more than {MAX_REDIRECTS} redirects")


@lru_cache(maxsize=100_000)
def _literal_problem(url: str, allowed: tuple) -> str | None:
    """Why the rules refuse the URL's host when it is an address (the client skips the resolver for an
    address: the rules are applied here), None when it is a name or an allowed address; Refused for a URL
    the rules refuse outright. Kept per URL and the ranges allowed, so that a URL is not parsed at every
    check (`allowed` is part of the key: the ranges are settings)."""
    literal = _literal(parse_url(url).host)
    return address_problem(literal) if literal is not None else None


class _CertificateConnector(aiohttp.TCPConnector):
    """A connector that keeps the certificate each new TLS connection was shown, by host and port (every
    check opens its own connection, so after a check its host's entry is what that check saw)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.certificates: dict[tuple[str, int], bytes] = {}

    async def connect(self, req, traces, timeout):
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is not None:
            # The DER form: getpeercert() without it is empty when verification is off.
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                self.certificates[(req.host, req.port)] = der
        return connection


def _certificate_expiry(session: aiohttp.ClientSession, url: str) -> datetime | None:
    """When the certificate the last connection to the URL's host was shown expires; None over HTTP."""
    from yarl import URL

    connector = session.connector
    parsed = URL(url)
    der = getattr(connector, "certificates", {}).pop((parsed.host, parsed.port), None)
    if der is None:
        return None
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None


def _expiry_warning(expiry: datetime | None, days: int) -> str:
    """An up check's reason when the certificate expires within `days`: the warning, not a failure."""
    if expiry is None:
        return ""
    left = expiry - datetime.now(dt_timezone.utc)
    if left.total_seconds() > days * 86400:
        return ""
    if left.total_seconds() <= 0:
        return f"TLS certificate expired on {expiry:%Y-%m-%d}"
    whole = int(left.total_seconds() // 86400)
    return f"TLS certificate expires in {whole} day{'s' if whole != 1 else ''} (on {expiry:%Y-%m-%d})"


async def check_tcp(check: Check) -> tuple[str, int | None, str]:
    """A TCP port open: a connection made within the timeout, to an address the rules allow."""
    host, port = split_host_port(check.target)
    literal = _literal(host)
    if literal is not None:
        problem = address_problem(literal)
        if problem:
            raise Refused(problem)
        addresses = [str(literal)]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise Failure(f"DNS failure: {host} does not resolve") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        check_addresses(host, addresses)
    _reader, writer = await asyncio.open_connection(addresses[0], port)
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return "up", None, ""


class Engine:
    """Runs the checks of the monitors `source()` returns and passes their outcomes to `sink()` in
    batches. Both are plain functions that may use the database: they run in the engine's own thread."""

    def __init__(self, source: Callable[[], list[Check]], sink: Callable[[list[Outcome]], object], *,
                 housekeeping: Callable[[], object] | None = None, housekeeping_seconds: float = 600.0,
                 concurrency: int = CONCURRENCY, per_host: int = PER_HOST, clock: Callable[[], float] = time.time,
                 agent: str = USER_AGENT):
        self.source, self.sink, self.housekeeping = source, sink, housekeeping
        self.agent = agent
        self.housekeeping_seconds = housekeeping_seconds
        self.concurrency, self.per_host, self.clock = concurrency, per_host, clock
        self.checks: dict[int, Check] = {}
        self.heap: list[tuple[float, int, int, Check]] = []  # (due, sequence, monitor id, its settings then)
        self.sequence = 0
        self.running: dict[int, asyncio.Task] = {}
        self.pending: list[Outcome] = []  # results not yet written
        self.checked = 0  # results written since start
        self.skipped = 0  # checks not started because the previous one of their monitor was still running
        self.lags: list[float] = []  # seconds each check started after its slot, since lags were last taken
        self.dropped = 0
        self._reload_at = 0.0
        self._housekeeping_at = 0.0
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-db")
        self._session: aiohttp.ClientSession | None = None
        self._overall: asyncio.Semaphore | None = None
        self._hosts: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._host_keys: dict[tuple[str, str, str], tuple[str, int]] = {}  # (kind, target, resolver) → host, port
        self._writer: asyncio.Task | None = None
        self._flush_now: asyncio.Event | None = None

    # --- the database, from the engine's thread --------------------------------------------------

    async def _in_db(self, function: Callable, *args):
        def call():
            from django.db import close_old_connections

            close_old_connections()  # a connection the database dropped meanwhile is replaced
            return function(*args)

        return await asyncio.get_running_loop().run_in_executor(self._db, call)

    # --- scheduling --------------------------------------------------------------------------------

    def _push(self, due: float, check: Check) -> None:
        self.sequence += 1
        heapq.heappush(self.heap, (due, self.sequence, check.id, check))

    async def reload(self) -> None:
        """Take the monitors as they are now: new ones get their slot, changed ones their new settings,
        removed and paused ones are checked no more."""
        checks = {c.id: c for c in await self._in_db(self.source)}
        now = self.clock()
        for check in checks.values():
            previous = self.checks.get(check.id)
            if previous is None or (previous.interval, previous.public_id) != (check.interval, check.public_id):
                self._push(next_due(now, check.interval, offset(check.public_id, check.interval)), check)
        self.checks = checks

    def _start_due(self) -> None:
        now = self.clock()
        while self.heap and self.heap[0][0] <= now:
            due, _seq, monitor_id, scheduled = heapq.heappop(self.heap)
            check = self.checks.get(monitor_id)
            if check is None or check.interval != scheduled.interval:
                continue  # removed, paused, or rescheduled with its new interval
            following = due + check.interval
            if following <= now:  # the engine was held up: back on the slot, without a burst of catch-up
                following = next_due(now, check.interval, offset(check.public_id, check.interval))
            self._push(following, check)
            if monitor_id in self.running:
                self.skipped += 1
                continue
            task = asyncio.create_task(self._run(check, due))
            self.running[monitor_id] = task
            task.add_done_callback(lambda _t, mid=monitor_id: self.running.pop(mid, None))

    def take_lags(self) -> list[float]:
        """The schedule lag of each check started since the last call (when it started against its slot:
        waiting for the loop, for a free connection to its host, for one of the checks in flight)."""
        lags, self.lags = self.lags, []
        return lags

    # --- one check ---------------------------------------------------------------------------------

    def _host_slot(self, check: Check) -> asyncio.Semaphore:
        key = self._host_keys.get((check.kind, check.target, check.resolver))
        if key is None:
            try:
                if check.kind in OTHER_KINDS:
                    key = (check.resolver or check.target, 0)
                elif check.kind == "tcp":
                    key = split_host_port(check.target)
                else:
                    target = parse_url(check.target)
                    key = (target.host, target.port)
            except (Refused, ValueError):
                key = ("", 0)
            if len(self._host_keys) >= 4 * BUFFER:  # targets changed many times over: start again
                self._host_keys.clear()
            self._host_keys[(check.kind, check.target, check.resolver)] = key
        slot = self._hosts.get(key)
        if slot is None:
            slot = self._hosts[key] = asyncio.Semaphore(self.per_host)
        return slot

    async def _run(self, check: Check, due: float | None = None) -> None:
        # The host's slot first: a host with many monitors waits for its own turns without holding the
        # slots of every other host's checks.
        async with self._host_slot(check), self._overall:
            at = datetime.now(dt_timezone.utc)
            if due is not None:
                if len(self.lags) >= BUFFER:  # nobody takes them: keep the recent half
                    del self.lags[:BUFFER // 2]
                self.lags.append(self.clock() - due)
            started = time.monotonic()
            status_code = None
            try:
                async with asyncio.timeout(check.timeout):
                    if check.kind == "tcp":
                        result, status_code, reason = await check_tcp(check)
                    elif check.kind in OTHER_KINDS:
                        result, status_code, reason = await OTHER_KINDS[check.kind](check)
                    else:
                        result, status_code, reason = await check_http(self._session, check, self.agent)
            except Exception as error:  # whatever the target did is this check's result, never the engine's
                result, reason = "down", _describe(error, _where(check), check.timeout)
            latency = int((time.monotonic() - started) * 1000)
            if result == "up" and check.degraded_above_ms is not None and latency > check.degraded_above_ms:
                result, reason = "degraded", f"slow: {latency} ms (above {check.degraded_above_ms} ms)"
        self._keep(Outcome(check.id, at, result, latency, status_code, reason[:300]))

    def _keep(self, outcome: Outcome) -> None:
        self.pending.append(outcome)
        if len(self.pending) > BUFFER:
            drop = len(self.pending) - BUFFER
            del self.pending[:drop]
            self.dropped += drop
            log.warning("the database is away: %d results dropped (the oldest)", drop)
        if len(self.pending) >= BATCH and self._flush_now is not None:
            self._flush_now.set()

    # --- writing -----------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what is pending, a batch at a time; on failure keep it for the next try."""
        while self.pending:
            batch = self.pending[:BATCH]
            try:
                await self._in_db(self.sink, batch)
            except Exception:
                log.exception("writing %d results failed; they are kept and written again", len(batch))
                raise
            del self.pending[:len(batch)]
            self.checked += len(batch)

    async def _write_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._flush_now.wait(), FLUSH_SECONDS)
            except (asyncio.TimeoutError, TimeoutError):
                pass
            self._flush_now.clear()
            try:
                await self.flush()
            except Exception:
                await asyncio.sleep(1.0)

    # --- running -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._session is not None:
            return
        self._overall = asyncio.Semaphore(self.concurrency)
        self._flush_now = asyncio.Event()
        # c-ares (aiodns) on the loop itself: thousands of lookups a minute without a thread each.
        resolver = CheckedResolver(aiohttp.AsyncResolver())
        connector = _CertificateConnector(resolver=resolver, limit=self.concurrency,
                                         limit_per_host=self.per_host, ttl_dns_cache=60,
                                         force_close=True)  # each check connects, as a visitor would
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None),
                                              trust_env=False, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
        self._writer = asyncio.create_task(self._write_loop())

    async def run(self, done: Callable[[], bool]) -> None:
        """Schedule checks until done() says so. Checks in flight and results not yet written stay: a
        later run() continues with them, close() finishes them."""
        await self.start()
        while not done():
            now = self.clock()
            if now >= self._reload_at:
                try:
                    await self.reload()
                except Exception:
                    log.exception("reading the monitors failed; trying again shortly")
                self._reload_at = now + RELOAD_SECONDS
            if self.housekeeping is not None and now >= self._housekeeping_at:
                self._housekeeping_at = now + self.housekeeping_seconds
                try:
                    await self._in_db(self.housekeeping)
                except Exception:
                    log.exception("pruning old results failed")
            self._start_due()
            soonest = self.heap[0][0] if self.heap else now + 0.25
            await asyncio.sleep(max(0.005, min(0.25, soonest - self.clock(), self._reload_at - self.clock())))

    async def close(self, grace: float = 5.0) -> None:
        """Let the checks in flight finish (within `grace`), write every result, release everything."""
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=grace)
        for task in list(self.running.values()):
            task.cancel()
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except (asyncio.CancelledError, Exception):
                pass
        try:
            await self.flush()
        except Exception:
            log.error("%d results could not be written before stopping", len(self.pending))
        if self._session is not None:
            await self._session.close()
        self._session = None

        def close_connections():
            from django.db import connections

            connections.close_all()

        await asyncio.get_running_loop().run_in_executor(self._db, close_connections)
        self._db.shutdown(wait=True)


OTHER_KINDS = {"dns": check_dns, "icmp": check_icmp}


def _where(check: Check) -> str:
    try:
        if check.kind in ("dns", "icmp"):
            return check.target
        if check.kind == "tcp":
            host, port = split_host_port(check.target)
        else:
            target = parse_url(check.target)
            host, port = target.host, target.port
    except (Refused, ValueError):
        return "the target"
    return f"{host}:{port}"
