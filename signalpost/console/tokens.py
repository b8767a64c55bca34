"""API tokens in the console: list, create (the token is shown once), revoke."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import create_token, revoke_token
from signalpost.errors import InvalidInput

from .account_forms import TokenForm, add_service_error
from signalpost.accounts.roles import role_required

def shown_once(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The page that shows a new secret (a token, an invitation link), as the answer to the POST that
    made it: the secret is in this one response and nowhere else, neither in the session table nor in
    a cache (the database keeps only its digest). Reloading the page's address later shows that it
    was shown once."""
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


@role_required("admin")
@require_safe
def tokens(request: HttpRequest) -> HttpResponse:
    listing = ApiToken.objects.select_related("created_by").order_by("revoked_at", "-created_at")
    return render(request, "console/tokens.html", {"tokens": listing, "form": TokenForm()})


@role_required("admin")
def token_new(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, plain = create_token(form.cleaned_data["name"], form.cleaned_data["scope"],
                                            created_by=request.user)
            except InvalidInput as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Token “{token.name}” created.")
                return shown_once(request, "console/tokens_created.html", {"token": token, "plain": plain})
        status = 400
    return render(request, "console/tokens_new.html", {"form": form}, status=status)


@role_required("admin")
@require_safe
def token_created(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id)
    return render(request, "console/tokens_created.html", {"token": token, "plain": None})


@role_required("admin")
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    if revoke_token(token):
        messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("console:tokens")
