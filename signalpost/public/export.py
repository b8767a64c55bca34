"""Export the published snapshot as a static site: every public URL as a file (with its .gz twin) and
the public stylesheet and script, for nginx, a CDN or object storage.

Subscribing needs the application (a form, a confirmation mail), so a static copy has no subscription
pages of its own: its `subscribe.html` says so and links to the page itself (SIGNALPOST_URL), so that
the pages' "Subscribe to updates" links still lead somewhere on a static host."""

import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from signalpost.status.services import get_page

from .front import disk_name
from .models import RETIRED, SnapshotFile

PUBLIC_ASSETS = ["public/public.css", "public/public.js"]


def export_site(target: Path) -> int:
    """Write the current snapshot under `target`; returns the number of pages written."""
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    published = SnapshotFile.objects.exclude(content_type=RETIRED)
    for path, body, gzip_body in published.values_list("path", "body", "gzip_body").iterator():
        file = target / disk_name(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(bytes(body))
        file.with_name(file.name + ".gz").write_bytes(bytes(gzip_body))
        count += 1
    elsewhere = render_to_string("public/subscribe_elsewhere.html", {
        "page": get_page(), "subscribe_url": settings.SITE_URL.rstrip("/") + "/subscribe"})
    (target / "subscribe.html").write_text(elsewhere)
    count += 1
    for asset in PUBLIC_ASSETS:
        source = finders.find(asset)
        destination = target / "static" / asset
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return count
