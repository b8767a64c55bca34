"""Login throttling: after too many failures for one username or from one address, refuse for a while."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginFailure

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5


def client_address(request: HttpRequest) -> str | None:
    """The reader's address; behind a reverse proxy (SIGNALPOST_BEHIND_PROXY=1) the one the proxy saw,
    i.e. the last entry of X-Forwarded-For, which the client cannot forge."""
    from django.conf import settings

    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.BEHIND_PROXY and forwarded:
        return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def login_name(raw: str) -> str:
    """The username as authentication resolves it: Django's login form strips the value and applies
    NFKC (so " alice", "alice\t" and a fullwidth "ａｌｉｃｅ" all try the account alice), and the
    failures must be counted on that same name, or every spelling would get its own five guesses."""
    from django.contrib.auth.forms import UsernameField

    return UsernameField(max_length=get_user_model()._meta.get_field("username").max_length).to_python(raw or "")


def is_throttled(username: str, address: str | None) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    username = login_name(username)
    by_user = recent.filter(username=username[:150]).count() if username else 0
    by_address = recent.filter(address=address).count() if address else 0
    return max(by_user, by_address) >= MAX_FAILURES


def record_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    LoginFailure.objects.create(username=login_name(username)[:150], address=address)


def clear_failures(username: str) -> None:
    """After a successful login: that user's own failures are forgotten, wherever they came from. The
    failures counted for the address stay until they expire, so that signing in to an account of one's
    own between guesses does not buy more guesses against another."""
    LoginFailure.objects.filter(username=login_name(username)[:150]).delete()
