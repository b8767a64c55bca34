"""The page settings: name, public address, time zone and branding (logo, colours, custom CSS, footer
links). One form, one service call (status.services.update_page), which checks every field before it
saves any: a refused field is shown beside itself and nothing is saved."""

from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from signalpost.accounts.roles import role_required
from signalpost.status import branding, services
from signalpost.errors import InvalidInput
from signalpost.status.models import Page

# Link aliases and legacy names that only confuse a picker.
_NOT_ZONES = {"Factory", "localtime", "posixrules", "leapseconds"}


def zone_choices() -> list[tuple[str, str]]:
    names = sorted(name for name in available_timezones() if name not in _NOT_ZONES and name != "UTC")
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


class PageSettingsForm(forms.Form):
    name = forms.CharField(label="Page name", max_length=200, help_text="The header and the browser tab show it.")
    url = forms.CharField(label="Public address", max_length=300, required=False,
                          widget=forms.URLInput(attrs={"placeholder": "https://status.example.com"}),
                          help_text="Where readers find the page; links in notifications point there.")
    time_zone = forms.ChoiceField(label="Time zone", help_text="Times on the public page are shown in this zone.")
    logo = forms.FileField(label="Logo", required=False,
                           widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
                           help_text=f"PNG, JPEG or WebP, at most {branding.LOGO_MAX_BYTES // 1024} KB; shown in "
                                     "the header instead of the name (which stays its text alternative). No SVG.")
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    accent_color = forms.CharField(label="Accent colour (links)", max_length=7, required=False,
                                   widget=forms.TextInput(attrs={"placeholder": "#0550ae", "pattern": "#[0-9a-fA-F]{3,6}"}),
                                   help_text="#rrggbb; empty for the default. It must be readable on a light "
                                             "background (contrast 4.5:1).")
    header_color = forms.CharField(label="Header background", max_length=7, required=False,
                                   widget=forms.TextInput(attrs={"placeholder": "#ffffff", "pattern": "#[0-9a-fA-F]{3,6}"}),
                                   help_text="#rrggbb; empty for the default. White or dark text is chosen for it.")
    custom_css = forms.CharField(label="Custom CSS", required=False, strip=False,
                                 widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
                                 help_text=f"At most {branding.CSS_MAX_BYTES // 1024} KB. Only plain rules and @media "
                                           "are kept; @import, @font-face and any url(), expression() or "
                                           "javascript: are removed.")
    footer_links = forms.CharField(label="Footer links", required=False,
                                   widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Support | https://example.com/support"}),
                                   help_text=f"One per line, “Label | https://address”; at most "
                                             f"{branding.FOOTER_LINKS_MAX}.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zone_choices()

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload and upload.size > branding.LOGO_MAX_BYTES:
            raise forms.ValidationError(f"The image is {upload.size // 1024:,} KB; the limit is "
                                        f"{branding.LOGO_MAX_BYTES // 1024} KB.")
        return upload

    def clean_footer_links(self) -> list[dict[str, str]]:
        links = []
        for n, line in enumerate(line for line in self.cleaned_data["footer_links"].splitlines() if line.strip()):
            label, bar, url = line.rpartition("|")
            if not bar:
                raise forms.ValidationError(f"Link {n + 1}: write it as “Label | https://address”.")
            links.append({"label": label.strip(), "url": url.strip()})
        return links


def initial_of(page: Page) -> dict:
    return {
        "name": page.name, "url": page.url, "time_zone": page.time_zone, "accent_color": page.accent_color,
        "header_color": page.header_color, "custom_css": page.custom_css,
        "footer_links": "\n".join(f"{link['label']} | {link['url']}" for link in page.footer_links),
    }


@role_required("admin")
def page_settings(request: HttpRequest) -> HttpResponse:
    page = services.get_page()
    if request.method != "POST":
        form = PageSettingsForm(initial=initial_of(page))
    else:
        form = PageSettingsForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            upload = data.pop("logo")
            try:
                services.update_page(**data, logo=upload.read() if upload else None)
            except InvalidInput as refusal:
                if refusal.field in form.fields:
                    form.add_error(refusal.field, refusal.message)
                else:
                    form.add_error(None, f"{refusal.field}: {refusal.message}")
            else:
                removed = branding.sanitize_css(data["custom_css"]).removed
                messages.success(request, "Page settings saved; the public page shows them now.")
                if removed:
                    messages.warning(request, "Removed from the custom CSS: " + "; ".join(removed) + ".")
                return redirect("console:settings")
    return render(request, "console/settings.html", {"form": form, "page": page},
                  status=400 if form.is_bound and form.errors else 200)
