"""The production entry point: published snapshots answered from memory, everything else by Django.

By default Django runs as a WSGI app in a thread pool behind the ASGI front (a2wsgi): on these
machines that is several times faster than Django's own ASGI handler (docs/benchmarks.md measures
both; SIGNALPOST_DJANGO_INTERFACE=asgi selects Django's ASGI handler instead).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")

import django  # noqa: E402

django.setup()

from signalpost.public.front import SnapshotFront, scope_header  # noqa: E402

if os.environ.get("SIGNALPOST_DJANGO_INTERFACE", "wsgi") == "asgi":
    from django.core.asgi import get_asgi_application

    django_app = get_asgi_application()
else:
    from a2wsgi import WSGIMiddleware
    from django.core.wsgi import get_wsgi_application

    wsgi_app = WSGIMiddleware(get_wsgi_application(), workers=8)

    async def django_app(scope, receive, send):
        # a2wsgi reads a request body with asyncio.run_coroutine_threadsafe(receive()), which needs a
        # coroutine; Granian's receive() returns another kind of awaitable, so every POST failed.
        async def receive_message():
            return await receive()

        await wsgi_app(scope, receive_message, send)


def with_whole_bodies(app):
    """A body sent in chunks (Transfer-Encoding: chunked, no Content-Length) is read whole first and
    handed on with its length: a WSGI application reads exactly Content-Length bytes, so without one it
    would see no body at all. Reading stops one byte past Django's limit (DATA_UPLOAD_MAX_MEMORY_SIZE),
    which the API then refuses with a 413."""
    from django.conf import settings

    async def wrapper(scope, receive, send):
        if scope["type"] != "http" or scope_header(scope, b"content-length") is not None or \
                scope_header(scope, b"transfer-encoding") is None:
            await app(scope, receive, send)
            return
        limit = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31) + 1
        pieces, size, more = [], 0, True
        while more and size < limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            piece = message.get("body", b"")
            pieces.append(piece)
            size += len(piece)
            more = message.get("more_body", False)
        body = b"".join(pieces)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"transfer-encoding"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app({**scope, "headers": headers}, replay, send)

    return wrapper


application = SnapshotFront(with_whole_bodies(django_app))
