from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from signalpost.accounts.roles import has_role, role_of

# (label, URL name, least role): the console's navigation, shown by role.
NAV = [
    ("Dashboard", "console:dashboard", "viewer"),
    ("Incidents", "console:incidents", "viewer"),
    ("Maintenance", "console:maintenance", "viewer"),
    ("Components", "console:components", "viewer"),
    ("Monitors", "console:monitors", "viewer"),
    ("Postmortems", "console:postmortems", "viewer"),
    ("Action items", "console:action_items", "viewer"),
    ("Reliability", "console:reliability", "viewer"),
    ("Subscribers", "console:subscribers", "admin"),
    ("Deliveries", "console:dead_letters", "admin"),
    ("Team alerts", "console:team_alerts", "admin"),
    ("E-mails", "console:email_templates", "admin"),
    ("Settings", "console:settings", "admin"),
    ("Users", "console:users", "admin"),
    ("API tokens", "console:tokens", "admin"),
    ("Audit log", "console:audit", "admin"),
]


def console(request: HttpRequest) -> dict:
    if not request.path.startswith("/console/"):
        return {}
    from django.conf import settings
    from django.utils import timezone

    from signalpost.presentation.zone import page_zone
    from signalpost.status.services import get_page

    page = get_page()
    context = {
        "console_page": page, "console_role": role_of(request.user), "smtp_configured": settings.SMTP_CONFIGURED,
        # For the public pages' time tags ({% timestamp %}, {% timeago %}): the page's zone, and now.
        "page_tz": page_zone(page), "now": timezone.now(),
    }
    if context["console_role"]:
        nav = []
        for label, name, role in NAV:
            if not has_role(request.user, role):
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            current = request.path == url if url == "/console/" else request.path.startswith(url)
            nav.append({"label": label, "url": url, "current": current})
        context["console_nav"] = nav
    return context
