"""Branding rules: what a page's colours, logo, custom CSS and footer links may be, and the stylesheet
they become. Pure functions: the page service (status.services.update_page) applies them to what an
admin submits, and the publisher turns the result into /brand.css.

The public pages allow no inline style (CSP style-src 'self') and load nothing from elsewhere, so
branding is a published file; custom CSS keeps only plain rules and @media, without anything that
could load a resource or run script.
"""

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import tinycss2

from signalpost.errors import InvalidInput

HEX_COLOR = re.compile(r"^#[0-9a-f]{6}$")
AA_RATIO = 4.5  # WCAG 2 AA for normal text

# The public stylesheet's own colours that links and header text sit on (public.css).
LIGHT_BACKGROUNDS = ("#ffffff", "#f6f8fa")  # --surface, --bg
DARK_BACKGROUNDS = ("#151b23", "#0d1117")
HEADER_TEXT_CHOICES = ("#ffffff", "#1f2328")  # white, or public.css's --text

LOGO_MAX_BYTES = 512 * 1024
CSS_MAX_BYTES = 20 * 1024
FOOTER_LINKS_MAX = 10
FOOTER_LABEL_MAX = 80
FOOTER_URL_MAX = 500

# Anything that can fetch a resource, run script or bind behaviour, wherever it appears in a declaration.
BANNED_TEXT = ("url(", "expression(", "javascript:", "vbscript:", "behavior", "-moz-binding", "</style")
# Functions that take an image address, some of them as a plain string (image-set("x.png")).
BANNED_FUNCTIONS = {"url", "src", "image", "image-set", "-webkit-image-set", "expression", "element"}


# --- colours ------------------------------------------------------------------------------------


def _luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _floor(ratio: float) -> str:
    """Rounded down, so a ratio just short of 4.5 never reads as "4.5"."""
    return f"{int(ratio * 100) / 100:.2f}"


def normalize_color(field: str, value: str) -> str:
    """"" (no colour) or a lowercase #rrggbb; "#abc" is expanded."""
    value = (value or "").strip().lower()
    if not value:
        return ""
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    if not HEX_COLOR.match(value):
        raise InvalidInput(field, f'"{value}" is not a colour: write it as #rrggbb, e.g. #0550ae')
    return value


def check_accent_color(value: str) -> str:
    """Links are drawn in the accent colour on the page's light backgrounds: it must be readable there."""
    color = normalize_color("accent_color", value)
    if color:
        ratio = min(contrast_ratio(color, bg) for bg in LIGHT_BACKGROUNDS)
        if ratio < AA_RATIO:
            raise InvalidInput("accent_color", (
                f"links in {color} on the page's light background have a contrast of {_floor(ratio)}:1; "
                f"readers need at least {AA_RATIO}:1 (WCAG AA). Choose a darker colour."))
    return color


def accent_for_dark_theme(color: str) -> str:
    """The accent lightened until links read on the dark theme's backgrounds too: no colour reads on
    both themes' backgrounds, so the dark theme gets a lighter tint of the same hue."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        t = step / 20
        tint = "#" + "".join(f"{round(c + (255 - c) * t):02x}" for c in (r, g, b))
        if min(contrast_ratio(tint, bg) for bg in DARK_BACKGROUNDS) >= AA_RATIO:
            return tint
    return "#ffffff"


def header_text_color(background: str) -> str:
    """White or dark text, whichever reads better on the header colour."""
    return max(HEADER_TEXT_CHOICES, key=lambda text: contrast_ratio(text, background))


def check_header_color(value: str) -> str:
    color = normalize_color("header_color", value)
    if color:
        ratio = contrast_ratio(header_text_color(color), color)
        if ratio < AA_RATIO:
            raise InvalidInput("header_color", (
                f"the page name and links on {color} reach a contrast of only {_floor(ratio)}:1 with white or "
                f"dark text; readers need at least {AA_RATIO}:1 (WCAG AA). Choose a lighter or a darker colour."))
    return color


# --- logo ---------------------------------------------------------------------------------------


def logo_type(data: bytes) -> str:
    """The image type of an uploaded logo, from its first bytes (never the name or the browser's word)."""
    if not data:
        raise InvalidInput("logo", "the file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput("logo", f"the image is {len(data) // 1024:,} KB; the limit is {LOGO_MAX_BYTES // 1024} KB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") or b"<svg" in head:
        raise InvalidInput("logo", "SVG (or other markup) is refused: it can carry script. Upload a PNG, JPEG or "
                                   "WebP image.")
    raise InvalidInput("logo", "this file is not a PNG, JPEG or WebP image")


def logo_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- custom CSS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanCss:
    css: str
    removed: list[str]  # what was dropped, in words an admin can act on


def _shorten(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _has_banned_function(tokens) -> bool:
    for token in tokens:
        if token.type == "url":
            return True
        if token.type == "function" and (token.lower_name in BANNED_FUNCTIONS or _has_banned_function(token.arguments)):
            return True
        if token.type in ("() block", "[] block", "{} block") and _has_banned_function(token.content):
            return True
    return False


def _unsafe(text: str) -> bool:
    lowered = text.lower()
    return any(banned in lowered for banned in BANNED_TEXT)


def _clean_declarations(content, removed: list[str]) -> list[str]:
    kept = []
    for item in tinycss2.parse_declaration_list(content, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            value = tinycss2.serialize(item.value).strip()
            text = f"{item.name}: {value}"
            if _unsafe(text) or _has_banned_function(item.value):
                removed.append(f"“{_shorten(text)}” (line {item.source_line}): it could load a resource or run code")
                continue
            kept.append(f"  {item.name}: {value}{' !important' if item.important else ''};")
        elif item.type == "at-rule":
            removed.append(f"@{item.at_keyword} inside a rule (line {item.source_line})")
        elif item.type == "error":
            removed.append(f"unreadable declaration (line {item.source_line}): {item.message}")
    return kept


def _clean_rules(rules, removed: list[str], nested: bool = False) -> list[str]:
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
            if _unsafe(selector) or "<" in selector or _has_banned_function(rule.prelude):
                removed.append(f"the rule for “{_shorten(selector)}” (line {rule.source_line}): its selector is unsafe")
                continue
            declarations = _clean_declarations(rule.content, removed)
            if declarations:
                out.append(selector + " {\n" + "\n".join(declarations) + "\n}")
        elif rule.type == "at-rule" and rule.lower_at_keyword == "media" and rule.content is not None and not nested:
            query = tinycss2.serialize(rule.prelude).strip()
            if _unsafe(query) or _has_banned_function(rule.prelude):
                removed.append(f"@media {_shorten(query)} (line {rule.source_line}): its query is unsafe")
                continue
            inner = _clean_rules(
                tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True), removed, nested=True)
            if inner:
                indented = "\n".join("  " + line for rule_text in inner for line in rule_text.splitlines())
                out.append(f"@media {query} {{\n{indented}\n}}")
        elif rule.type == "at-rule" and nested:
            removed.append(f"@{rule.at_keyword} inside @media (line {rule.source_line}): only plain rules are kept there")
        elif rule.type == "at-rule":
            removed.append(f"@{rule.at_keyword} (line {rule.source_line}): only plain rules and @media are kept")
        elif rule.type == "error":
            removed.append(f"unreadable CSS (line {rule.source_line}): {rule.message}")
    return out


def sanitize_css(css: str) -> CleanCss:
    """Custom CSS with only plain rules and @media left, and no declaration that could load anything or
    run script; what was dropped is listed so the admin sees it."""
    css = (css or "").replace("\r\n", "\n")
    if len(css.encode()) > CSS_MAX_BYTES:
        raise InvalidInput("custom_css", f"the CSS is {len(css.encode()) / 1024:.1f} KB; the limit is "
                                         f"{CSS_MAX_BYTES // 1024} KB")
    removed: list[str] = []
    rules = _clean_rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), removed)
    return CleanCss("\n".join(rules) + ("\n" if rules else ""), removed)


# --- footer links -------------------------------------------------------------------------------


def check_footer_links(links) -> list[dict[str, str]]:
    """Up to ten {label, url} pairs, each address http(s) to a host."""
    links = list(links or [])
    if len(links) > FOOTER_LINKS_MAX:
        raise InvalidInput("footer_links", f"{len(links)} links; the footer takes at most {FOOTER_LINKS_MAX}")
    clean = []
    for n, link in enumerate(links, 1):
        if isinstance(link, dict):
            label, url = link.get("label", ""), link.get("url", "")
        else:
            label, url = link
        label, url = str(label or "").strip(), str(url or "").strip()
        if not label:
            raise InvalidInput("footer_links", f"link {n}: the label is missing")
        if len(label) > FOOTER_LABEL_MAX:
            raise InvalidInput("footer_links", f"link {n}: the label is longer than {FOOTER_LABEL_MAX} characters")
        if not is_web_address(url):
            raise InvalidInput("footer_links", f'link {n} ("{_shorten(label, 40)}"): "{_shorten(url, 60)}" is not '
                                               f"a web address: it must start with https:// or http://")
        if len(url) > FOOTER_URL_MAX:
            raise InvalidInput("footer_links", f"link {n}: the address is longer than {FOOTER_URL_MAX} characters")
        clean.append({"label": label, "url": url})
    return clean


def is_web_address(url: str) -> bool:
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# --- the published stylesheet -------------------------------------------------------------------


def brand_stylesheet(accent_color: str, header_color: str, custom_css: str) -> str:
    """/brand.css: the colours as public.css's custom properties, then the (already sanitized) custom CSS."""
    parts = ["/* Branding from the page settings, generated by Signalpost. */"]
    if accent_color:
        parts.append(f":root {{ --link: {accent_color}; }}")
        parts.append(f"@media (prefers-color-scheme: dark) {{ :root {{ --link: {accent_for_dark_theme(accent_color)}; }} }}")
    if header_color:
        text = header_text_color(header_color)
        parts.append(f":root {{ --header-bg: {header_color}; --header-text: {text}; --header-muted: {text}; }}")
        parts.append(f".site :focus-visible {{ outline-color: {text}; }}")
    if custom_css:
        parts.append("/* Custom CSS (sanitized) */")
        parts.append(custom_css.strip())
    return "\n".join(parts) + "\n"
