"""Roles: owner > admin > responder > viewer. Every console view declares the least role it needs with
@role_required; the role test walks the URL map and fails for a view that declares none."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from .models import ROLE_RANK, Profile, Role


def role_of(user) -> str | None:
    """The user's role, or None for an anonymous or deactivated user. A superuser made outside the
    console (e.g. by `signalpost createadmin` before roles existed) counts as an owner."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_signalpost_role", None)
    if cached is None:
        profile = Profile.objects.filter(user_id=user.pk).only("role").first()
        cached = profile.role if profile else (Role.OWNER if user.is_superuser else Role.VIEWER)
        user._signalpost_role = cached
    return cached


def has_role(user, role: str) -> bool:
    mine = role_of(user)
    return mine is not None and ROLE_RANK[mine] >= ROLE_RANK[role]


def needs_second_factor(request: HttpRequest) -> bool:
    """A user with a confirmed TOTP device whose session has not passed the code step yet."""
    from django_otp import user_has_device

    user = request.user
    if not user.is_authenticated:
        return False
    verified = getattr(user, "is_verified", None)  # set by OTPMiddleware; absent right after auth.login()
    return not (verified and verified()) and user_has_device(user, confirmed=True)


def role_required(role: str) -> Callable:
    """Login (and the second factor, when set up) required, and at least `role`; otherwise the login
    page for a visitor, 403 for a user whose role is too low."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated or role_of(request.user) is None:
                return HttpResponseRedirect("/console/login?" + urlencode({"next": request.get_full_path()}))
            if needs_second_factor(request):
                return HttpResponseRedirect("/console/login/code?" + urlencode({"next": request.get_full_path()}))
            if not has_role(request.user, role):
                return render(request, "console/forbidden.html", {"needed": Role(role).label}, status=403)
            return view(request, *args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorate


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a console view that needs no login (login, password reset, accepting an invitation)."""
    view.required_role = None
    return view
