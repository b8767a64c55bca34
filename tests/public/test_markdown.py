"""Update bodies: what a responder types is what a reader sees, and nothing in it can run."""

import re

import pytest
from django.utils.safestring import SafeString

from signalpost.presentation.markdown import render_markdown


def test_it_keeps_the_usual_formatting():
    html = render_markdown(
        "We found **the cause** and *fixed* it, see [the report](https://example.com/report).\n\n"
        "- restored symlinks\n- cleared caches\n\n1. first\n2. second\n\n`varnishadm ban`"
    )
    assert isinstance(html, SafeString)
    assert "<strong>the cause</strong>" in html and "<em>fixed</em>" in html
    assert '<a href="https://example.com/report" rel="nofollow noopener">the report</a>' in html
    assert "<ul>\n<li>restored symlinks</li>\n<li>cleared caches</li>\n</ul>" in html
    assert "<ol>" in html and "<li>second</li>" in html
    assert "<code>varnishadm ban</code>" in html


def test_it_keeps_tables_and_line_breaks():
    html = render_markdown("| Issue | Action |\n|---|---|\n| Late update | New process |\n\nEDIT 06:04 UTC: down\nEDIT 07:57 UTC: up")
    assert "<table>" in html and "<th>Issue</th>" in html and "<td>New process</td>" in html
    assert "EDIT 06:04 UTC: down<br>" in html


def test_it_turns_raw_html_into_visible_text():
    html = render_markdown("<script>alert(1)</script> and <db-primary> refused connections")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;db-primary&gt; refused connections" in html


@pytest.mark.parametrize("body", [
    '<img src="x" onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<style>body{display:none}</style>',
    '<svg onload="alert(1)">',
])
def test_it_never_emits_an_element_from_raw_html(body):
    html = render_markdown(body)
    assert not re.search(r"<(img|a|iframe|style|svg|script)\b", html)
    assert not re.search(r"<[^>]+\bon\w+=", html)


@pytest.mark.parametrize("body", [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
])
def test_it_removes_script_links(body):
    html = render_markdown(body)
    assert "href" not in html


def test_it_turns_images_into_links_because_the_page_loads_nothing_from_elsewhere():
    html = render_markdown("![latency graph](https://example.com/graph.png)")
    assert "<img" not in html
    assert '<a href="https://example.com/graph.png" rel="nofollow noopener">latency graph</a>' in html


def test_it_starts_headings_below_the_page_headings():
    html = render_markdown("# Summary\n\n## Details")
    assert "<h3>Summary</h3>" in html and "<h4>Details</h4>" in html
    assert "<h1" not in html and "<h2" not in html


def test_it_renders_an_empty_body_as_nothing():
    assert render_markdown("") == ""
