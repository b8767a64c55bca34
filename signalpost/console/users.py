"""Users, roles and invitations in the console. The rules (who may change whom) are in services.py."""

from django.contrib import auth, messages
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.errors import InvalidInput, NotFound

from signalpost.accounts import services
from .account_forms import AcceptInvitationForm, InviteForm, RoleForm, add_service_error
from signalpost.accounts.models import ROLE_RANK, AuditEvent, Invitation, Profile, Role
from signalpost.accounts.roles import public_view, role_required
from signalpost.accounts.sessions import keep_this_session
from .tokens import shown_once


def _two_factor_on():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def _role(user) -> str:
    try:
        return user.profile.role
    except Profile.DoesNotExist:  # made before roles existed: see roles.role_of
        return Role.OWNER if user.is_superuser else Role.VIEWER


def _pending_invitations():
    return (Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                      expires_at__gt=timezone.now())
            .select_related("invited_by").order_by("-created_at"))


@role_required("admin")
@require_safe
def users(request: HttpRequest) -> HttpResponse:
    people = list(get_user_model().objects.select_related("profile").annotate(two_factor=_two_factor_on())
                  .order_by("-is_active", "username"))
    for person in people:
        person.role = _role(person)
    return render(request, "console/users.html", {
        "people": people, "invitations": _pending_invitations(), "form": InviteForm(),
    })


def _user_page(request: HttpRequest, person, *, role_form: RoleForm | None = None, action_error: str = "",
               status: int = 200) -> HttpResponse:
    person.role = services.stored_role(person)
    person.two_factor = services.two_factor_device(person) is not None
    history = AuditEvent.objects.filter(
        Q(object_type="user", object_id=str(person.pk)) | Q(actor_user_id=person.pk))[:20]
    return render(request, "console/users_detail.html", {
        "person": person, "history": history, "action_error": action_error,
        "role_form": role_form or RoleForm(initial={"role": person.role}),
    }, status=status)


@role_required("admin")
@require_safe
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_page(request, get_object_or_404(get_user_model(), pk=user_id))


@role_required("admin")
@require_POST
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        before = services.stored_role(person)
        try:
            services.change_role(person, form.cleaned_data["role"], by=request.user)
        except InvalidInput as error:
            add_service_error(form, error)
        else:
            role = Role(form.cleaned_data["role"]).label.lower()
            if before == form.cleaned_data["role"]:
                messages.info(request, f"{person.get_username()} already is {role}: nothing changed.")
            elif ROLE_RANK[form.cleaned_data["role"]] < ROLE_RANK[before]:
                if person.pk == request.user.pk:
                    keep_this_session(request)
                    messages.success(request, f"You are now {role}. Your other sessions have ended.")
                else:
                    messages.success(request, f"{person.get_username()} is now {role}. Their sessions have ended: "
                                              "they log in again to go on, with the new role.")
            else:
                messages.success(request, f"{person.get_username()} is now {role}.")
            return redirect("console:user_detail", person.pk)
    return _user_page(request, person, role_form=form, status=400)


def _user_action(request: HttpRequest, user_id: int, service, done: str) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=user_id)
    try:
        service(person, by=request.user)
    except InvalidInput as error:
        return _user_page(request, person, action_error=error.message, status=400)
    messages.success(request, done.format(name=person.get_username()))
    return redirect("console:user_detail", person.pk)


@role_required("admin")
@require_POST
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(request, user_id, services.deactivate_user,
                        "{name} is deactivated: their sessions have ended and they can no longer log in. "
                        "Reactivating them does not bring those sessions back.")


@role_required("admin")
@require_POST
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(request, user_id, services.reactivate_user, "{name} is active again and can log in.")


@role_required("admin")
@require_POST
def user_reset_two_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(request, user_id, services.reset_two_factor,
                        "Two-factor authentication of {name} is off: they log in with their password and can "
                        "set it up again.")


# --- invitations -------------------------------------------------------------------------------


@role_required("admin")
def invitation_new(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                sent = services.invite(email, form.cleaned_data["role"], by=request.user)
            except InvalidInput as error:
                add_service_error(form, error)
            else:
                if sent.mailed:
                    messages.success(request, f"Invitation ready; it is being e-mailed to {email}.")
                else:
                    messages.success(request, "Invitation ready. E-mail is not set up here: pass the link on "
                                              "yourself.")
                return shown_once(request, "console/invitation_created.html",
                                  {"invitation": sent.invitation, "link": sent.link})
        status = 400
    return render(request, "console/invitation_new.html", {"form": form}, status=status)


@role_required("admin")
@require_safe
def invitation_created(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    return render(request, "console/invitation_created.html", {"invitation": invitation, "link": None})


@role_required("admin")
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        services.revoke_invitation(invitation, by=request.user)
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation for {invitation.email} is revoked: its link no longer works.")
    return redirect("console:users")


@public_view
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.usable_invitation(token)
    except NotFound as error:
        return render(request, "console/invitation_invalid.html", {"reason": str(error)}, status=404)
    form = AcceptInvitationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.accept_invitation(token, form.cleaned_data["username"], form.cleaned_data["password"])
            except InvalidInput as error:
                add_service_error(form, error)
            except NotFound as error:
                return render(request, "console/invitation_invalid.html", {"reason": str(error)}, status=404)
            else:
                auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {user.get_username()}. You are {Role(invitation.role).label.lower()} "
                                          "here; you can set up two-factor authentication on your account page.")
                return redirect("console:dashboard")
        status = 400
    response = render(request, "console/invitation_accept.html", {"form": form, "invitation": invitation},
                      status=status)
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response
