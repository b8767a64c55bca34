"""Targets on loopback that a test controls: an HTTP server whose answers it sets (status, delay, body,
a slow drip, a huge body, redirects), a TCP listener, and a port nobody listens on."""

import asyncio
import socket
import threading

from aiohttp import web


class HttpTarget:
    """An aiohttp server in a thread of its own. `/health` answers `self.status` with `self.body` after
    `self.delay` seconds; the other paths each misbehave in one way."""

    def __init__(self, ssl_context=None):
        self.ssl_context = ssl_context
        self.status, self.body, self.delay = 200, "all good", 0.0
        self.status_for: dict[str, int] = {}
        self.hits = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str = "/health") -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}{path}"

    async def health(self, request):
        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        # A check from a location named in status_for gets that status (the probe names its location in
        # its User-Agent): one target that fails for some locations only.
        agent = request.headers.get("User-Agent", "")
        for location, status in self.status_for.items():
            if agent.endswith(f"(location {location})"):
                return web.Response(status=status, text=self.body)
        return web.Response(status=self.status, text=self.body)

    async def drip(self, request):
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        for _ in range(600):  # a byte a second: headers come at once, the body never ends
            await response.write(b".")
            await asyncio.sleep(1.0)
        return response

    async def huge(self, request):
        response = web.StreamResponse(status=200)
        response.content_type = "text/plain"
        await response.prepare(request)
        chunk = b"x" * 65536
        for _ in range(160):  # 10 MiB
            await response.write(chunk)
        await response.write(b"needle")
        return response

    async def redirect(self, request):
        raise web.HTTPFound(request.query["to"])

    async def reset(self, request):
        request.transport.abort()  # the connection dropped without an answer
        await asyncio.sleep(0.1)
        return web.Response(text="never")

    def _serve(self):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("*", "/health", self.health)
        app.router.add_get("/drip", self.drip)
        app.router.add_get("/huge", self.huge)
        app.router.add_get("/redirect", self.redirect)
        app.router.add_get("/reset", self.reset)
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> "HttpTarget":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self):
        async def shutdown():
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


class TcpListener:
    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]

    def close(self):
        self.socket.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound and released: nobody else takes it meanwhile here)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_context(tmp_path, days: int):
    """A server TLS context with a self-signed certificate for 127.0.0.1 that expires in `days` days."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=days, hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


class DnsTarget:
    """A DNS server on loopback (UDP, in a thread of its own) answering from `self.records`, a mapping of
    (name, record type) to answers in zone-file text. A name with no record of any type is NXDOMAIN; one
    with records of other types only answers with none; with `self.silent` it answers nothing at all."""

    def __init__(self):
        self.records: dict[tuple[str, str], list[str]] = {}
        self.silent = False
        self.queries = 0
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _answer(self, wire: bytes) -> bytes | None:
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        kind = dns.rdatatype.to_text(question.rdtype)
        if not any(known == name for known, _ in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif self.records.get((name, kind)):
            response.answer.append(dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, question.rdtype,
                                                            self.records[(name, kind)]))
        return response.to_wire()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                wire, peer = self.socket.recvfrom(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.queries += 1
            if self.silent:
                continue
            self.socket.sendto(self._answer(wire), peer)

    def start(self) -> "DnsTarget":
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join(5)
        self.socket.close()
