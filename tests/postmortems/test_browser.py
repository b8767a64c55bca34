"""A published postmortem in a real browser: it passes axe-core's WCAG 2 A and AA rules in the light and
the dark theme (on a phone), and printed or saved as PDF it is the document alone, tables whole, each
group of action items kept together with its heading."""

import pytest

from tests.browsing import ApiClient
from tests.e2e import seeds_postmortems
from tests.e2e.axe import (
    AXE_CONTEXT,
    BLOCKING,
    LOOKS,
    axe_violations,
    describe,
    require_axe,
)

from .conftest import token_of

pytestmark = pytest.mark.browser


@pytest.fixture
def published(start_server, make_token) -> tuple[str, dict]:
    server = start_server("postmortem-browser")
    author = ApiClient(server.url, token_of("arthur", "admin", "admin", "author"))
    reviewer = ApiClient(server.url, token_of("rita", "responder", "write", "reviewer"))
    return server.url, seeds_postmortems.enter(author, reviewer, seeds_postmortems.postmortem_002())


def test_the_postmortem_and_its_incident_pass_axe(published, browser):
    require_axe()
    url, pm = published
    for look, options in LOOKS.items():
        context = browser.new_context(**AXE_CONTEXT, **options)
        page = context.new_page()
        for path in [f"/postmortems/{pm['id']}", f"/incidents/{pm['incidents'][0]['id']}", "/history/2018-02"]:
            page.goto(url + path, wait_until="load")
            blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
            assert not blocking, f"{path} ({look}):\n{describe(blocking)}"
        context.close()


def test_it_prints_the_document_without_the_sites_furniture(published, browser):
    url, pm = published
    page = browser.new_page()
    page.goto(f"{url}/postmortems/{pm['id']}", wait_until="load")
    assert page.locator("nav.site__nav").is_visible()
    page.emulate_media(media="print")
    for furniture in ["header.site", "footer.site-footer", "p.to-history", "p.pm__export"]:
        assert not page.locator(furniture).is_visible(), furniture
    assert page.get_by_role("heading", level=1).inner_text() == pm["title"]
    groups = page.locator("section.pm-actions__group")
    assert groups.count() == 3
    assert groups.first.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
    cell = page.locator("table.pm-figures td").first
    assert cell.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    assert page.pdf(format="A4")[:4] == b"%PDF"
