import html
import re
from urllib.parse import urlsplit


def field_error(response, field: str) -> str:
    """The error shown beside a form field (console/_field.html), or "" when there is none."""
    found = re.findall(rf'<p class="error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.DOTALL)
    return html.unescape(" ".join(found)).strip()


def alert(response) -> str:
    """The text of the error box above a form or page."""
    found = re.findall(r'<div class="form-errors" role="alert">(.*?)</div>', response.content.decode(), re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(found)))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def link_in(message, path_prefix: str) -> str:
    """The path of the first link in the message's text that starts with path_prefix."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    for url in re.findall(r"https?://\S+", text):
        path = urlsplit(url).path
        if path.startswith(path_prefix):
            return path
    raise AssertionError(f"no link to {path_prefix} in:\n{text}")
