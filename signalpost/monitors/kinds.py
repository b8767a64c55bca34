"""The checks of the kinds besides HTTP and TCP, each a function of its own that the engine calls with a
monitor's settings and that returns (verdict, status code, reason), and the JSON path of an HTTP check:

- dns: the name's records of one type, asked of the monitor's resolver or the system's (dnspython's
  asyncio resolver), within the check's timeout; every expected answer must be among those given.
- icmp: one echo request over an unprivileged ping socket (icmplib, privileged=False), where the kernel
  allows it (net.ipv4.ping_group_range); where it does not, the reason says so.
- a JSON path (python-jsonpath, compiled when the monitors are read): every value it finds in the body
  must equal the expected one, as JSON values.

The addresses they reach obey the outbound rules (signalpost.notify.outbound), as the engine's do.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

from signalpost.notify.outbound import Refused, address_problem, check_addresses

Check = Any  # the engine's Check (engine.py imports this module, not the other way round)


def _literal(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# --- JSON path ------------------------------------------------------------------------------------


def _json_text(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def json_equal(found, expected) -> bool:
    """JSON value equality: numbers by value (1 == 1.0), true never 1, objects and arrays item by item."""
    if isinstance(found, bool) or isinstance(expected, bool):
        return isinstance(found, bool) and isinstance(expected, bool) and found == expected
    if isinstance(found, (int, float)) and isinstance(expected, (int, float)):
        return found == expected
    if isinstance(found, list) and isinstance(expected, list):
        return len(found) == len(expected) and all(json_equal(a, b) for a, b in zip(found, expected))
    if isinstance(found, dict) and isinstance(expected, dict):
        return found.keys() == expected.keys() and all(json_equal(found[k], expected[k]) for k in found)
    return type(found) is type(expected) and found == expected


def json_problem(content: bytes, check: Check, cut: bool = False) -> str:
    """Why the body fails the monitor's JSON path ("" when it passes): not JSON, nothing found, or a value
    other than the expected one. Every value the path finds must be the expected one."""
    import json

    try:
        document = json.loads(content)
    except ValueError:
        return f"body is not JSON{' (cut at 64 KiB)' if cut else ''}, so JSON path {check.json_path_text} cannot be read"
    try:
        found = check.json_path.findall(document)
    except Exception as error:  # a filter that meets a value it cannot compare
        return f"JSON path {check.json_path_text} failed: {error}"
    if not found:
        return f"JSON path {check.json_path_text} matches nothing"
    if check.json_expected:
        expected = json.loads(check.json_expected)
        for value in found:
            if not json_equal(value, expected):
                return f"JSON path {check.json_path_text} is {_json_text(value)[:100]}, expected {check.json_expected[:100]}"
    return ""


# --- DNS -------------------------------------------------------------------------------------------


def split_resolver(text: str) -> tuple[str, int]:
    """"ip", "ip:port" or "[v6]:port" → (ip, port); ValueError naming what is wrong."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ("53" if not rest else "")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, "53"
    if _literal(host) is None:
        raise ValueError("must be an IP address, with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("must have a port from 1 to 65535")
    return str(_literal(host)), int(port_text)


def _strip_dot(text: str) -> str:
    return text.rstrip(".").lower()


def _answer_forms(rdata) -> set[str]:
    """The ways an expected answer may be written for one record: its text (names without the final dot,
    in lower case), an address in any spelling, an MX by its host alone, a TXT without its quotes."""
    import dns.rdatatype

    kind = rdata.rdtype
    if kind in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return {str(ipaddress.ip_address(rdata.address))}
    if kind == dns.rdatatype.TXT:
        return {b"".join(rdata.strings).decode("utf-8", errors="replace")}
    forms = {" ".join(_strip_dot(part) for part in rdata.to_text().split())}
    if kind == dns.rdatatype.MX:
        forms.add(_strip_dot(rdata.exchange.to_text()))
    return forms


def normalize_answer(record_type: str, text: str) -> str:
    """An expected answer as `_answer_forms` writes it."""
    if record_type in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            return text.strip()
    if record_type == "TXT":
        return text
    return " ".join(_strip_dot(part) for part in text.split())


async def check_dns(check: Check) -> tuple[str, int | None, str]:
    """The name has records of the type (and every expected answer among them), asked of the monitor's
    resolver (an address the outbound rules allow) or the system's."""
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    name, kind = check.target.strip(), check.record_type
    if check.resolver:
        address, port = split_resolver(check.resolver)
        problem = address_problem(address)
        if problem:
            raise Refused(f"resolver {problem}")
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = [address], port
        asked = f" (asking {check.resolver})"
    else:
        resolver = dns.asyncresolver.Resolver()
        asked = ""
    # Inside the check's own timeout, so that the reason says what was asked of whom.
    resolver.lifetime = resolver.timeout = check.timeout * 0.7
    silent = f"DNS: no answer for {name} {kind} within {check.timeout:g} s{asked}"
    try:
        async with asyncio.timeout(check.timeout * 0.75):
            answer = await resolver.resolve(name, kind, search=False, raise_on_no_answer=True)
    except (asyncio.TimeoutError, TimeoutError, dns.resolver.LifetimeTimeout):
        return "down", None, silent
    except dns.resolver.NXDOMAIN:
        return "down", None, f"DNS: {name} does not exist (NXDOMAIN){asked}"
    except dns.resolver.NoAnswer:
        return "down", None, f"DNS: {name} has no {kind} record{asked}"
    except dns.resolver.NoNameservers as error:
        return "down", None, f"DNS: no server could answer for {name} {kind}{asked}: {error}"[:300]
    except dns.exception.DNSException as error:
        return "down", None, f"DNS: {name} {kind}: {error}{asked}"[:300]
    given: set[str] = set()
    shown: list[str] = []
    for rdata in answer:
        forms = _answer_forms(rdata)
        given |= forms
        shown.append(min(forms, key=len) if kind != "MX" else max(forms, key=len))
    missing = [text for text in check.dns_expected if normalize_answer(kind, text) not in given]
    if missing:
        return ("down", None,
                f"DNS {kind} {name} is {', '.join(sorted(shown))}, expected {', '.join(check.dns_expected)}{asked}")
    return "up", None, ""


# --- ICMP ping -------------------------------------------------------------------------------------

PING_FORBIDDEN = ("this machine does not allow unprivileged ping (its net.ipv4.ping_group_range leaves out "
                  "this process's group)")


def ping_allowed() -> bool:
    """Whether this process may open an unprivileged ICMP socket (net.ipv4.ping_group_range)."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
    except PermissionError:
        return False
    except OSError:
        return False
    return True


async def check_icmp(check: Check) -> tuple[str, int | None, str]:
    """An echo reply from the host (an address the rules allow) to one echo request, within the timeout,
    over an unprivileged ping socket."""
    import icmplib

    host = check.target.strip().strip("[]").rstrip(".").lower()
    literal = _literal(host)
    if literal is not None:
        problem = address_problem(literal)
        if problem:
            raise Refused(problem)
        address = str(literal)
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError):
            return "down", None, f"DNS failure: {host} does not resolve"
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        check_addresses(host, addresses)
        address = addresses[0]
    try:
        reply = await icmplib.async_ping(address, count=1, timeout=max(0.1, check.timeout - 0.05),
                                         privileged=False)
    except icmplib.SocketPermissionError:
        return "down", None, PING_FORBIDDEN
    except icmplib.ICMPLibError as error:
        return "down", None, f"ping {host} failed: {error}"[:300]
    if not reply.is_alive:
        return "down", None, f"no echo reply from {host} within {check.timeout:g} s"
    return "up", None, ""
