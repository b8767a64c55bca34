"""The axe helper really finds problems: a check that cannot fail would let every page pass."""

import pytest

from tests.e2e.axe import AXE_CONTEXT, assert_accessible, axe_violations, require_axe

pytestmark = pytest.mark.browser

BAD_PAGE = """<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>
<h1>Subscribe</h1><input type="email" name="email"><button></button>
<p class="faint">Hard to read</p></main></body></html>"""
GOOD_PAGE = """<!doctype html><html lang="en"><head><title>Good</title></head><body><main>
<h1>Subscribe</h1><label for="email">E-mail address</label><input id="email" type="email" name="email">
<button type="submit">Subscribe</button></main></body></html>"""


@pytest.fixture
def tab(browser):
    require_axe()
    context = browser.new_context(**AXE_CONTEXT)
    yield context.new_page()
    context.close()


def test_it_reports_unlabelled_inputs_empty_buttons_and_low_contrast(tab):
    tab.set_content(BAD_PAGE.replace('class="faint"', 'class="faint" style="color:#ccc"'))
    found = {v["id"]: v for v in axe_violations(tab)}
    assert {"label", "button-name", "color-contrast"} <= set(found)
    assert found["label"]["nodes"][0]["target"] == ["input"]
    with pytest.raises(AssertionError, match=r"(?s)button-name \(critical\).*at button"):
        assert_accessible(tab, "the bad page")


def test_it_passes_a_page_without_problems(tab):
    tab.set_content(GOOD_PAGE)
    assert axe_violations(tab) == []
