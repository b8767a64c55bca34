"""The production entry point: published snapshots answered from memory, everything else by Django.

Django runs as a WSGI app in a thread pool behind the ASGI front (a2wsgi): on these machines that is
several times faster than Django's own ASGI handler (see docs/benchmarks.md).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")

import django  # noqa: E402

django.setup()

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from signalpost.public.front import SnapshotFront  # noqa: E402

application = SnapshotFront(WSGIMiddleware(get_wsgi_application(), workers=8))
