"""The production entry point: published snapshots answered from memory, everything else by Django.

By default Django runs as a WSGI app in a thread pool behind the ASGI front (a2wsgi): on these
machines that is several times faster than Django's own ASGI handler (docs/benchmarks.md measures
both; SIGNALPOST_DJANGO_INTERFACE=asgi selects Django's ASGI handler instead).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")

import django  # noqa: E402

django.setup()

from signalpost.public.front import SnapshotFront  # noqa: E402

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

application = SnapshotFront(django_app)
