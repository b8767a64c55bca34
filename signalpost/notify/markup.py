"""An update's Markdown in each chat tool's own markup.

Slack reads its "mrkdwn" (*bold*, _italic_, <url|text> links, &amp; escapes), Discord and Teams a
subset of Markdown (no headings in an embed or a card, no raw HTML). The text is parsed once with the
same parser as the pages (markdown-it, raw HTML shown as text) and written out again for the tool, so
that what a responder typed reads the same everywhere and nothing in it is taken for the tool's own
commands (a Slack <!channel>, a Discord @everyone).
"""

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

TOOLS = ("slack", "discord", "teams")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])


def slack_escape(text: str) -> str:
    # Slack's three control characters; a "<" left as is could start a <!channel> mention.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text: str) -> str:
    # Discord and Teams read Markdown: characters that would change the text's meaning are escaped.
    for char in "\\*_~`|[]":
        text = text.replace(char, "\\" + char)
    return text.replace("@", "@\u200b")  # no @everyone, @here or @role from an update's text


def _inline(tokens: list[Token], tool: str) -> str:
    out: list[str] = []
    links: list[str] = []
    escape = slack_escape if tool == "slack" else markdown_escape
    bold, italic, strike = ("*", "_", "~") if tool == "slack" else ("**", "_", "~~")
    for token in tokens:
        kind = token.type
        if kind == "text":
            out.append(escape(token.content))
        elif kind in ("strong_open", "strong_close"):
            out.append(bold)
        elif kind in ("em_open", "em_close"):
            out.append(italic)
        elif kind in ("s_open", "s_close"):
            out.append(strike)
        elif kind == "code_inline":
            code = token.content.replace("`", "\u2018")
            out.append(f"`{slack_escape(code) if tool == 'slack' else code}`")
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "link_open":
            href = str(token.attrGet("href") or "")
            links.append(href)
            if tool == "slack":
                out.append(f"<{href.replace('|', '%7C').replace('>', '%3E')}|")
            else:
                out.append("[")
        elif kind == "link_close":
            href = links.pop() if links else ""
            out.append(">" if tool == "slack" else f"]({href.replace(')', '%29')})")
        elif kind == "image":
            src = str(token.attrGet("src") or "")
            label = escape(token.content or "image")
            out.append(f"<{src}|{label}>" if tool == "slack" else f"[{label}]({src})")
        elif kind == "html_inline":
            out.append(escape(token.content))
    return "".join(out)


def convert(markdown: str, tool: str) -> str:
    """`markdown` (an update's body) in `tool`'s markup, as plain as the tool allows."""
    if tool not in TOOLS:
        raise ValueError(f"unknown chat tool {tool!r}")
    tokens = _parser().parse(markdown or "")
    blocks: list[tuple[str, int]] = []  # (text, the number of the list it is an item of, or 0)
    lists: list[list] = []  # per open list: [ordered, next number]
    list_number = 0
    quote = 0
    fence = "```"
    for index, token in enumerate(tokens):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_number += 1
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "inline":
            text = _inline(token.children or [], tool)
            opener = tokens[index - 1] if index else None
            if opener is not None and opener.type == "heading_open":
                text = f"*{text}*" if tool == "slack" else f"**{text}**"
            item = tokens[index - 2] if index >= 2 else None
            is_item = bool(lists) and item is not None and item.type == "list_item_open"
            if is_item:
                ordered, number = lists[-1]
                marker = f"{number}." if ordered else ("•" if tool == "slack" else "-")
                if ordered:
                    lists[-1][1] += 1
                text = "  " * (len(lists) - 1) + f"{marker} {text}"
            if quote:
                text = "\n".join("> " + line for line in text.split("\n"))
            blocks.append((text, list_number if is_item else 0))
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip()
            blocks.append((f"{fence}\n{slack_escape(code) if tool == 'slack' else code}\n{fence}", 0))
        elif kind == "hr":
            blocks.append(("———", 0))
        elif kind == "html_block":
            escaped = slack_escape(token.content) if tool == "slack" else markdown_escape(token.content)
            blocks.append((escaped.rstrip(), 0))
    # Items of one list stay on consecutive lines; paragraphs are apart.
    text = ""
    previous = 0
    for block, in_list in blocks:
        if text:
            text += "\n" if in_list and in_list == previous else "\n\n"
        text += block
        previous = in_list
    return text.strip()


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[-40:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"
