"""axe-core in a Playwright page: the WCAG 2 A and AA rules, run on what the browser actually rendered.

axe-core comes from npm (package.json at the repository root, installed into node_modules by `make
test`). Playwright injects it as an inline script, which the pages' Content-Security-Policy
(script-src 'self') would block: a context made for axe must be opened with bypass_csp=True
(AXE_CONTEXT). Only the accessibility tests do that; every other test keeps the policy enforced."""

from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa")
BLOCKING = ("serious", "critical")  # impacts that fail a test; "minor" and "moderate" are reported only
AXE_CONTEXT = {"bypass_csp": True, "locale": "en-US", "timezone_id": "Europe/Zurich"}

# How a page is looked at: the light theme on a laptop, the dark theme on a phone (both themes must keep
# their contrast; on a phone wide tables scroll, and a scrolling region must be reachable by keyboard).
LOOKS = {
    "light": {"color_scheme": "light", "viewport": {"width": 1280, "height": 800}},
    "dark, phone": {"color_scheme": "dark", "viewport": {"width": 390, "height": 844}, "is_mobile": True,
                    "has_touch": True, "device_scale_factor": 2},
}


def require_axe() -> Path:
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS} is absent: `make test` installs axe-core (npm ci), or run `npm ci` in the repository")
    return AXE_JS


def axe_violations(page, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict]:
    """Run axe on the page as it is now; the violations, each with its rule id, impact, help text and the
    nodes (CSS selector, HTML, what to fix) it found."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(require_axe()))
    results = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
            }));
        }""",
        list(tags),
    )
    return results


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", "\n      ")[:600])
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> list[dict]:
    """Fail on any serious or critical WCAG 2 A/AA violation, naming each rule and element; return the
    lesser ones (for a test that wants to report them)."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe found serious or critical violations on {where or page.url}:\n{describe(blocking)}"
    return violations
