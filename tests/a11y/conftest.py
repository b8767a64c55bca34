"""Accessibility tests: real server, Debian's Chromium, axe-core (tests/e2e/axe.py). The browser and the
server come from the end-to-end fixtures."""

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.axe import AXE_CONTEXT, LOOKS, require_axe


@pytest.fixture
def axe_tab(browser, site) -> Iterator[Callable[..., object]]:
    """Opens browser tabs for axe: a context that ignores the Content-Security-Policy (axe is injected
    as an inline script), in one of LOOKS, each tab with a short default timeout and a record of script
    errors."""
    require_axe()
    contexts = []

    def open_tab(look: str = "light"):
        context = browser.new_context(**AXE_CONTEXT, **LOOKS[look])
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(5000)
        tab.script_errors = []
        tab.on("pageerror", lambda error: tab.script_errors.append(str(error)))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
