"""Branding on the public pages: the logo in the header, the colours and the sanitized custom CSS as a
published stylesheet (the pages allow no inline style), footer links; served from the snapshot like
every public URL, and exported with the static site."""

import gzip

import pytest

from signalpost.public.export import export_site
from signalpost.public.models import SnapshotFile
from tests.publishing import publish
from signalpost.status import services
from signalpost.status.branding import contrast_ratio
from tests.console.test_page_settings import png

UNSAFE_CSS = ('@import url("https://evil.example/x.css");\n'
              ".notice { color: #1a7f37; background: url(https://evil.example/t.png); }\n"
              ".x { width: expression(alert(1)); }\n"
              "@media (max-width: 600px) { .notice { display: none } }\n")


def _branded() -> None:
    services.update_page(accent_color="#0550ae", header_color="#0a3069", custom_css=UNSAFE_CSS, logo=png(),
                         footer_links=[{"label": "Support", "url": "https://example.com/support"}])


def _published(path: str) -> SnapshotFile:
    return SnapshotFile.objects.get(path=path)


def test_the_front_page_shows_the_logo_stylesheet_and_footer_links(client, page):
    _branded()
    html = client.get("/").content.decode()
    assert '<img class="site__logo" src="/brand/logo.png?v=' in html and 'alt="Example Status"' in html
    assert '<link rel="stylesheet" href="/brand.css?v=' in html
    footer = html[html.index("<footer"):]
    assert '<a href="https://example.com/support" rel="noopener">Support</a>' in footer
    assert "style=" not in html  # CSP style-src 'self': no inline style


def test_a_page_without_branding_links_no_stylesheet_and_shows_its_name(client, page):
    html = client.get("/").content.decode()
    assert "/brand.css" not in html and "site__logo" not in html
    assert '<a class="site__name" href="/">Example Status</a>' in html


def test_the_published_stylesheet_has_the_colours_and_only_safe_css(page):
    _branded()
    publish()
    brand = _published("/brand.css")
    css = bytes(brand.body).decode()
    assert brand.content_type == "text/css; charset=utf-8"
    assert "--link: #0550ae" in css and "--header-bg: #0a3069" in css and "--header-text: #ffffff" in css
    assert ".notice {\n  color: #1a7f37;\n}" in css and "@media (max-width: 600px)" in css
    for banned in ("@import", "url(", "expression(", "evil.example"):
        assert banned not in css
    logo = _published("/brand/logo.png")
    assert logo.content_type == "image/png" and bytes(logo.body) == png()


def test_the_dark_theme_gets_a_lighter_tint_of_the_accent_that_links_can_be_read_in(page):
    services.update_page(accent_color="#0550ae")
    publish()
    css = bytes(_published("/brand.css").body).decode()
    assert ":root { --link: #0550ae; }" in css
    dark = css[css.index("@media (prefers-color-scheme: dark) { :root { --link: ") + 54:][:7]
    assert dark != "#0550ae" and contrast_ratio(dark, "#151b23") >= 4.5 and contrast_ratio(dark, "#0d1117") >= 4.5


def test_removing_the_branding_empties_the_published_stylesheet(page):
    _branded()
    publish()
    services.update_page(accent_color="", header_color="", custom_css="", remove_logo=True)
    publish()
    css = bytes(_published("/brand.css").body).decode()
    assert "--link" not in css and ".notice" not in css


def test_the_static_export_has_the_stylesheet_and_logo_under_their_own_names(page, tmp_path):
    _branded()
    publish()
    export_site(tmp_path / "site")
    assert (tmp_path / "site" / "brand" / "logo.png").read_bytes() == png()
    assert "--link: #0550ae" in (tmp_path / "site" / "brand.css").read_text()
    assert gzip.decompress((tmp_path / "site" / "brand.css.gz").read_bytes()).startswith(b"/* Branding")


@pytest.fixture
def branded_site(transactional_db, start_server):
    services.update_page(name="Example Status", time_zone="Europe/Zurich")
    _branded()
    publish()  # what the worker's publisher does once the write commits
    return start_server()


def test_a_reader_gets_the_logo_and_stylesheet_with_their_content_types(branded_site):
    server = branded_site
    status, headers, body = server.get("/brand/logo.png")
    assert status == 200 and headers["content-type"] == "image/png" and body == png()
    etag = headers["etag"]
    assert server.get("/brand/logo.png", {"If-None-Match": etag})[0] == 304

    status, headers, body = server.get("/brand.css?v=anything", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert headers["content-encoding"] == "gzip" and b"--header-bg: #0a3069" in gzip.decompress(body)

    status, headers, html = server.get("/")
    assert b'src="/brand/logo.png?v=' in html and b'href="/brand.css?v=' in html
    assert "style-src 'self'" in headers["content-security-policy"]


@pytest.mark.browser
def test_a_branded_page_applies_under_its_csp_and_stays_accessible(branded_site, browser):
    chromium = browser
    from tests.e2e.axe import (
        AXE_CONTEXT,
        BLOCKING,
        LOOKS,
        axe_violations,
        describe,
        require_axe,
    )

    # As a reader gets it, with the Content-Security-Policy enforced: the stylesheet and logo load.
    context = chromium.new_context()
    tab = context.new_page()
    blocked = []
    tab.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    tab.goto(branded_site.url + "/", wait_until="load")
    assert tab.evaluate("getComputedStyle(document.querySelector('.site')).backgroundColor") == "rgb(10, 48, 105)"
    assert tab.evaluate("getComputedStyle(document.querySelector('.site__nav a')).color") == "rgb(255, 255, 255)"
    assert tab.evaluate("document.querySelector('.site__logo').naturalWidth") == 2
    assert not blocked, blocked
    context.close()

    require_axe()
    problems = []
    for look, options in LOOKS.items():
        context = chromium.new_context(**AXE_CONTEXT, **options)
        tab = context.new_page()
        tab.goto(branded_site.url + "/", wait_until="load")
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        if blocking:
            problems.append(f"[{look}]\n{describe(blocking)}")
        context.close()
    assert not problems, "\n".join(problems)


def test_the_static_export_sends_subscribers_to_the_page_itself(page, tmp_path, settings):
    settings.SITE_URL = "https://status.example.com"
    publish()
    export_site(tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="/subscribe"' in index  # the pages link to /subscribe, as on the live page ...
    elsewhere = (tmp_path / "site" / "subscribe.html").read_text()  # ... which a static host answers with this
    assert '<a href="https://status.example.com/subscribe">' in elsewhere
