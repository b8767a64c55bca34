"""Real HTTP receivers on loopback for the outbound tests: each answers as its path says and keeps
what it was sent."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the bounded-concurrency test opens many connections at once


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on 127.0.0.1. Paths: /ok (200), /fail (500), /hang (answers only when the test
    ends), /redirect?to=URL (302 there), /verify (204 if the Standard Webhooks signature verifies with
    `secret`, 400 with the reason otherwise)."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.received: list[Received] = []
        self.verdicts: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                try:
                    self._answer(body)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def _answer(self, body: bytes):
                path, _, query = self.path.partition("?")
                if path == "/fail":
                    return self._send(500, b"boom")
                if path == "/hang":
                    receiver.release.wait(30)  # the client has given up by then
                    return None
                if path == "/redirect":
                    return self._send(302, b"", {"Location": query.removeprefix("to=")})
                if path == "/verify":
                    try:
                        Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    except WebhookVerificationError as error:
                        receiver.verdicts.append(str(error))
                        return self._send(400, str(error).encode())
                    receiver.verdicts.append("verified")
                    return self._send(204, b"")
                return self._send(200, b"thanks")

            def _send(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/ok", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
