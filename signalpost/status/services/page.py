"""The page's settings and branding."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .. import branding
from ..changes import record_page
from ..models import Page, PageLogo
from ..validation import required_text, validate_time_zone
from .common import PAGE_FIELDS, get_page


def update_page(
    *,
    name: str | None = None,
    url: str | None = None,
    time_zone: str | None = None,
    accent_color: str | None = None,
    header_color: str | None = None,
    custom_css: str | None = None,
    footer_links: Iterable | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Page:
    """Change the page's settings and branding; a field left None stays as it is. Custom CSS is stored
    sanitized (see branding.py); the logo is kept only if it really is a PNG, JPEG or WebP."""
    # Everything is checked before anything is written: one bad field saves nothing.
    changes: dict = {}
    if name is not None:
        changes["name"] = required_text("name", name, 200)
    if url is not None:
        url = url.strip()
        if url and not branding.is_web_address(url):
            raise InvalidInput("url", f'"{url}" is not a web address: it must start with https:// or http://')
        changes["url"] = url
    if time_zone is not None:
        changes["time_zone"] = validate_time_zone(time_zone)
    if accent_color is not None:
        changes["accent_color"] = branding.check_accent_color(accent_color)
    if header_color is not None:
        changes["header_color"] = branding.check_header_color(header_color)
    if custom_css is not None:
        changes["custom_css"] = branding.sanitize_css(custom_css).css
    if footer_links is not None:
        changes["footer_links"] = branding.check_footer_links(footer_links)
    if logo is not None and remove_logo:
        raise InvalidInput("logo", "upload a new logo or remove the current one, not both")
    if logo is not None:
        changes["logo_type"] = branding.logo_type(logo)
        changes["logo_digest"] = branding.logo_digest(logo)
    elif remove_logo:
        changes["logo_type"] = changes["logo_digest"] = ""
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=get_page().pk)
        before = audit.snapshot(page, PAGE_FIELDS)
        for field, value in changes.items():
            setattr(page, field, value)
        after = audit.snapshot(page, PAGE_FIELDS)
        if after == before:
            return page
        page.updated_at = timezone.now()
        page.save()
        if logo is not None:
            PageLogo.objects.update_or_create(page=page, defaults={
                "content_type": page.logo_type, "body": logo, "uploaded_at": page.updated_at})
        elif remove_logo:
            PageLogo.objects.filter(page=page).delete()
        audit.record("page.update", page, before=before, after=after)
        changed_before, changed_after = audit.changed_only(before, after)
        record_page("settings", before=changed_before, after=changed_after)
    return page
