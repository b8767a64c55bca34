"""Forms of the accounts screens: they parse input; the rules are in services.py."""

from datetime import date

from django import forms

from signalpost.accounts.models import Scope
from signalpost.errors import InvalidInput

from signalpost.accounts.models import Role

SOURCES = [("", "Any source"), ("console", "Console"), ("api", "API"), ("cli", "CLI on the server"),
           ("worker", "Worker")]


def add_service_error(form: forms.Form, error: InvalidInput) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class CodeInput(forms.TextInput):
    def __init__(self) -> None:
        super().__init__(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*",
                                "maxlength": 8})


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.RESPONDER)


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
                               help_text="Letters, digits and @ . + - _ only.")
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="At least 10 characters, not a common password.")
    password_again = forms.CharField(label="Password again", strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password_again") is not None \
                and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords differ.")
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SetPasswordForm(forms.Form):
    new_password = forms.CharField(label="New password", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text="At least 10 characters, not a common password.")
    new_password_again = forms.CharField(label="New password again", strip=False,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") is not None \
                and data["new_password"] != data["new_password_again"]:
            self.add_error("new_password_again", "The two passwords differ.")
        return data


class PasswordChangeForm(SetPasswordForm):
    current_password = forms.CharField(label="Current password", strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ("current_password", "new_password", "new_password_again")


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(label="6-digit code from your app", max_length=8, widget=CodeInput())

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError("Type the digits your app shows.")
        return code


class DisableTwoFactorForm(forms.Form):
    code = forms.CharField(label="A current code from your app", max_length=8, required=False, widget=CodeInput())
    password = forms.CharField(label="Or your password", strip=False, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("code") and not data.get("password"):
            self.add_error("code", "Type a current code from your app, or your password.")
        return data


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="What the token is for, e.g. chat-ops bot.")
    scope = forms.ChoiceField(label="Scope", choices=Scope.choices, initial=Scope.READ,
                              help_text="Read: every GET. Write: also incidents, maintenance, updates, overrides. "
                                        "Admin: also components, groups and the page. Probe: a remote probe's only (fetching "
                                        "the monitors, sending results); it can read or change nothing else.")


class AuditFilterForm(forms.Form):
    """The audit log's filters; the same ones apply to the CSV and JSON exports."""

    actor = forms.CharField(label="Actor", required=False, max_length=200,
                            help_text="Part of a username or a token name.")
    action = forms.ChoiceField(label="Action", required=False)
    object_type = forms.CharField(label="Object type", required=False, max_length=32,
                                  help_text="e.g. incident, component, user, apitoken.")
    object_id = forms.CharField(label="Object ID", required=False, max_length=64)
    source = forms.ChoiceField(label="Source", required=False, choices=SOURCES)
    since = forms.DateField(label="From (date)", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(label="To (date, included)", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, actions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in actions]

    def clean(self) -> dict:
        data = super().clean()
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        if since and until and until < since:
            self.add_error("until", "This is before the start date.")
        return data
