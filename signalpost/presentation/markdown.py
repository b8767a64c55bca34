"""Update bodies: Markdown in, safe HTML out.

Raw HTML in a body is shown as text, never interpreted: responders paste error messages such as
"<db-primary> refused connections" and readers must see exactly that. nh3 then sanitises what
markdown-it produced, as a second line of defence should a renderer rule ever emit something unsafe.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Update bodies sit under the page's h1 and the incident's h2: their headings start at h3.
TOP_HEADING_LEVEL = 3


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # breaks: a newline typed in a chat-ops script or the CLI is a line break for the reader.
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )
    parser.add_render_rule("image", _image_as_link)
    return parser


def _image_as_link(self, tokens, idx, options, env) -> str:
    # The page loads nothing from elsewhere (CSP img-src 'self'): an image becomes a link to it.
    token = tokens[idx]
    alt = self.renderInline(token.children or [], options, env) or "image"
    return f'<a href="{escapeHtml(token.attrGet("src") or "")}">{alt}</a>'


def render_markdown(text: str) -> SafeString:
    parser = _parser()
    tokens = parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + TOP_HEADING_LEVEL - 1)
            token.tag = f"h{level}"
    html = parser.renderer.render(tokens, parser.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        link_rel="nofollow noopener",
        url_schemes=URL_SCHEMES,
        strip_comments=True,
    )
    return mark_safe(clean)
