"""Login throttling: after too many failures for one username or from one address, refuse for a while."""

from datetime import timedelta
from functools import wraps

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
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


def is_throttled(username: str, address: str | None) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    by_user = recent.filter(username=username).count() if username else 0
    by_address = recent.filter(address=address).count() if address else 0
    return max(by_user, by_address) >= MAX_FAILURES


def record_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    LoginFailure.objects.create(username=username[:150], address=address)


def clear_failures(username: str, address: str | None) -> None:
    LoginFailure.objects.filter(Q(username=username) | Q(address=address)).delete()


def throttled_login(login_view):
    """Wrap a login view: refuse with 429 while throttled; count failed POSTs, clear on success."""

    @wraps(login_view)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        address = client_address(request)
        if is_throttled(username, address):
            return HttpResponse(
                "Too many failed logins. Try again in 15 minutes.", status=429, content_type="text/plain"
            )
        response = login_view(request, *args, **kwargs)
        if request.user.is_authenticated:
            clear_failures(username, address)
        else:
            record_failure(username, address)
        return response

    return view
