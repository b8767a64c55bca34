"""The console passes axe-core's WCAG 2 A and AA rules (no serious or critical violation) on every page a
signed-in owner can open, and on the pages a visitor sees; in the light and the dark theme.

The pages are found by walking the console's URL map (tests/routes.py) with real objects in the URLs:
a new console page is checked without being listed here."""

import pytest

from tests.e2e.axe import BLOCKING, LOOKS, axe_violations, describe
from tests.routes import UNSET, console_objects, console_routes, make_user, real_url

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _check_pages(tab, base_url: str, urls: dict[str, str]) -> tuple[dict, list[str], list[str]]:
    """Run axe on each page that shows one. Returns (violations by page, pages checked, pages that
    failed to answer). Each URL is asked first with the tab's cookies, and only an HTML page is opened:
    Chromium's error page for a bare 405 would interrupt the next navigation, and a CSV would download."""
    found, checked, broken = {}, [], []
    for name, url in urls.items():
        answer = tab.context.request.get(base_url + url)
        content_type = answer.headers.get("content-type", "")
        print(f"{name} {url}: {answer.status} {content_type} (after redirects: {answer.url})")  # shown on failure
        if answer.status >= 500:
            broken.append(f"{name} {url}: {answer.status}")
            continue
        if answer.status != 200 or "text/html" not in content_type:
            continue  # a POST-only route (405), a placeholder (404), a download
        response = tab.goto(base_url + url, wait_until="load")
        assert response is not None and response.status == 200, f"{url}: {response and response.status}"
        checked.append(name)
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        if blocking:
            found[f"{name} ({url})"] = blocking
    return found, checked, broken


def _report(found: dict, broken: list[str], look: str) -> str:
    parts = [f"{where} [{look}]:\n{describe(violations)}" for where, violations in found.items()]
    if broken:
        parts.append("pages that failed to render:\n  " + "\n  ".join(broken))
    return "\n".join(parts)


def _sign_in(tab, base_url: str, username: str) -> None:
    tab.goto(base_url + "/console/login", wait_until="load")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    assert tab.url.rstrip("/").endswith("/console"), f"signing in led to {tab.url}"


def test_the_console_pages_have_no_serious_accessibility_violation(site, axe_tab, components):
    objects = console_objects(components)
    make_user("owner", "olivia", PASSWORD)
    routes = [route for route in console_routes() if route.role is not UNSET]
    urls = {route.name: real_url(route, objects) for route in routes}
    problems, checked = [], set()
    for look in LOOKS:
        visitor = axe_tab(look)
        public = {route.name: urls[route.name] for route in routes if route.role is None}
        found, seen, broken = _check_pages(visitor, site.url, public)
        checked |= set(seen)
        problems += [_report(found, broken, look)] if found or broken else []

        owner = axe_tab(look)
        _sign_in(owner, site.url, "olivia")
        signed_in = {route.name: urls[route.name] for route in routes if route.role is not None}
        found, seen, broken = _check_pages(owner, site.url, signed_in)
        checked |= set(seen)
        problems += [_report(found, broken, look)] if found or broken else []
        errors = sorted(set(visitor.script_errors + owner.script_errors))
        problems += [f"script errors [{look}]: {errors}"] if errors else []
    assert {"console:login", "console:dashboard"} <= checked
    assert not problems, "axe found serious or critical violations in the console:\n" + "\n".join(problems)
