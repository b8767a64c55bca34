"""Ending a person's sessions everywhere: each person has a session generation; a session remembers the
generation it was signed in under, and a request whose session is of an older generation is signed
out. Deactivation, a password change or reset, and a lower role move the generation on, so that no
browser keeps the access the person had before (reactivating someone does not bring their old
sessions back). Sessions made before generations existed count as generation 0, as every person
starts."""

from collections.abc import Callable

from django.contrib import auth
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.http import HttpRequest, HttpResponse

from .models import Profile, Role

SESSION_KEY = "signalpost_generation"


def _profile_of(user) -> tuple[str, int]:
    found = Profile.objects.filter(user_id=user.pk).values_list("role", "session_generation").first()
    if found is None:  # made before roles existed: see roles.role_of
        return (Role.OWNER if user.is_superuser else Role.VIEWER), 0
    return found


def end_sessions(user: AbstractBaseUser) -> None:
    """Every session of `user` ends at its next request. Call it inside the change's transaction."""
    if not Profile.objects.filter(user_id=user.pk).update(session_generation=F("session_generation") + 1):
        Profile.objects.create(user_id=user.pk, role=_profile_of(user)[0], session_generation=1)


def keep_this_session(request: HttpRequest) -> None:
    """The session of the request that ended the others stays (changing one's own password)."""
    request.session[SESSION_KEY] = _profile_of(request.user)[1]


def stamp_session(sender, request: HttpRequest, user, **kwargs) -> None:
    """On login (Django's user_logged_in signal): the new session is of the person's current generation."""
    if request is not None and hasattr(request, "session"):
        role, generation = _profile_of(user)
        request.session[SESSION_KEY] = generation


def current_sessions_only(get_response: Callable[[HttpRequest], HttpResponse]):
    """Sign out a console request whose session is older than its person's generation. Reads the role
    with the generation, so that roles.role_of needs no query of its own."""

    def middleware(request: HttpRequest) -> HttpResponse:
        # Only the console uses sessions: the public pages must not even read one (no Vary: Cookie).
        user = getattr(request, "user", None) if request.path.startswith("/console/") else None
        if user is not None and user.is_authenticated:
            role, generation = _profile_of(user)
            if request.session.get(SESSION_KEY, 0) != generation:
                auth.logout(request)
            else:
                user._signalpost_role = role
        return get_response(request)

    return middleware
