"""The page settings screen: one form for the name, address, time zone and branding. A good submission
saves everything with one audit entry; a bad field is refused beside itself and nothing is saved."""

import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from signalpost.accounts.models import AuditEvent, Profile
from signalpost.status import services
from signalpost.status.models import Page, PageLogo


def png(width: int = 2, height: int = 1, padding: int = 0) -> bytes:
    """A real PNG image (grey pixels), optionally padded with a private chunk to a given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    extra = chunk(b"sPad", b"\x00" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

GOOD = {
    "name": "Acme Status", "url": "https://status.acme.example", "time_zone": "America/New_York",
    "accent_color": "#0550AE", "header_color": "#0a3069",
    "custom_css": ".banner { font-weight: 700; }",
    "footer_links": "Support | https://acme.example/support\nPrivacy | https://acme.example/privacy",
}


@pytest.fixture
def admin(client, page):
    user = get_user_model().objects.create_user("ada")
    Profile.objects.create(user=user, role="admin")
    client.force_login(user)
    return client


def _page_state() -> tuple:
    page = Page.objects.get(pk=1)
    return (page.name, page.url, page.time_zone, page.accent_color, page.header_color, page.custom_css,
            page.footer_links, page.logo_type, PageLogo.objects.count())


def _error_beside(html: str, field: str, words: str) -> bool:
    marker = f'id="id_{field}_error">'
    return marker in html and words in html[html.index(marker):html.index(marker) + 500]


def test_it_shows_the_current_settings(admin):
    services.update_page(footer_links=[{"label": "Support", "url": "https://example.com/help"}],
                         accent_color="#0550ae")
    html = admin.get("/console/settings").content.decode()
    assert 'value="Example Status"' in html and 'value="#0550ae"' in html
    assert "Support | https://example.com/help" in html
    assert '<option value="Europe/Zurich" selected>' in html


def test_an_admin_saves_every_setting_with_one_audit_entry(admin):
    before = AuditEvent.objects.count()
    response = admin.post("/console/settings", {**GOOD, "logo": SimpleUploadedFile("logo.png", png(), "image/png")})
    assert response.status_code == 302 and response["Location"] == "/console/settings"
    page = Page.objects.get(pk=1)
    assert (page.name, page.url, page.time_zone) == ("Acme Status", "https://status.acme.example", "America/New_York")
    assert (page.accent_color, page.header_color) == ("#0550ae", "#0a3069")
    assert page.custom_css.strip() == ".banner {\n  font-weight: 700;\n}"
    assert page.footer_links == [{"label": "Support", "url": "https://acme.example/support"},
                                 {"label": "Privacy", "url": "https://acme.example/privacy"}]
    assert page.logo_type == "image/png" and bytes(PageLogo.objects.get().body) == png()
    [entry] = AuditEvent.objects.order_by("id")[before:]
    assert entry.action == "page.update" and entry.actor == "ada"
    assert entry.after["accent_color"] == "#0550ae" and entry.after["logo_type"] == "image/png"

    # Saving the same again changes nothing and records nothing.
    before = AuditEvent.objects.count()
    assert admin.post("/console/settings", GOOD).status_code == 302
    assert AuditEvent.objects.count() == before


def test_it_strips_unsafe_css_and_says_what_it_removed(admin):
    css = ('@import url("https://evil.example/x.css");\n'
           ".a { color: #123456; background: url(https://evil.example/t.png); }\n"
           ".b { width: expression(alert(1)); margin: 0 }\n"
           "@font-face { font-family: X; src: url(https://evil.example/f.woff) }\n"
           ".c { behavior: url(x.htc); -moz-binding: url(x.xml#x); color: red; }\n")
    response = admin.post("/console/settings", {**GOOD, "custom_css": css}, follow=True)
    assert response.status_code == 200
    saved = Page.objects.get(pk=1).custom_css
    for banned in ("@import", "url(", "expression(", "@font-face", "behavior", "-moz-binding"):
        assert banned not in saved
    assert "color: #123456" in saved and "margin: 0" in saved and "color: red" in saved
    html = response.content.decode()
    assert "Removed from the custom CSS" in html and "@import (line 1)" in html and "expression(alert(1))" in html


@pytest.mark.parametrize(("field", "value", "words"), [
    ("name", "", "required"),
    ("url", "ftp://status.acme.example", "not a web address"),
    ("time_zone", "Mars/Olympus", "valid choice"),
    ("accent_color", "#aaaaaa", "contrast of 2.18:1"),
    ("accent_color", "red", "not a colour"),
    ("header_color", "#777777", "at least 4.5:1"),
    ("footer_links", "Click me | javascript:alert(1)", "not a web address"),
    ("footer_links", "Support https://acme.example", "Label | https://address"),
    ("footer_links", "\n".join(f"Link {n} | https://acme.example/{n}" for n in range(11)), "at most 10"),
    ("custom_css", ".a { color: red }\n" * 1300, "the limit is 20 KB"),
])
def test_a_bad_field_is_refused_beside_itself_and_nothing_is_saved(admin, field, value, words):
    state, audits = _page_state(), AuditEvent.objects.count()
    response = admin.post("/console/settings", {**GOOD, field: value,
                                                "logo": SimpleUploadedFile("logo.png", png(), "image/png")})
    assert response.status_code == 400
    assert _error_beside(response.content.decode(), field, words), response.content.decode()[-4000:]
    assert _page_state() == state and AuditEvent.objects.count() == audits


@pytest.mark.parametrize(("name", "content", "words"), [
    ("logo.svg", SVG, "SVG"),
    ("logo.png", SVG, "SVG"),  # the name and the browser's type are not believed
    ("logo.png", b"GIF89a\x01\x00\x01\x00", "not a PNG, JPEG or WebP"),
    ("logo.png", b"just text", "not a PNG, JPEG or WebP"),
    ("logo.png", png(padding=600 * 1024), "the limit is 512 KB"),
])
def test_a_logo_that_is_not_a_small_image_is_refused(admin, name, content, words):
    state, audits = _page_state(), AuditEvent.objects.count()
    response = admin.post("/console/settings", {**GOOD, "logo": SimpleUploadedFile(name, content, "image/png")})
    assert response.status_code == 400
    assert _error_beside(response.content.decode(), "logo", words)
    assert _page_state() == state and AuditEvent.objects.count() == audits


def test_an_admin_removes_the_logo(admin):
    services.update_page(logo=png())
    before = AuditEvent.objects.count()
    response = admin.post("/console/settings", {**GOOD, "remove_logo": "on"})
    assert response.status_code == 302
    assert Page.objects.get(pk=1).logo_type == "" and not PageLogo.objects.exists()
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_only_an_admin_may_see_or_change_the_settings(client, page, role):
    user = get_user_model().objects.create_user(f"{role}-person")
    Profile.objects.create(user=user, role=role)
    client.force_login(user)
    state, audits = _page_state(), AuditEvent.objects.count()
    assert client.get("/console/settings").status_code == 403
    assert client.post("/console/settings", GOOD).status_code == 403
    assert _page_state() == state and AuditEvent.objects.count() == audits
