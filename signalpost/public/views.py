from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Signalpost")


def history(request: HttpRequest, month: str | None = None) -> HttpResponse:
    return HttpResponse("history")


def incident_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return HttpResponse("incident")


def maintenance_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return HttpResponse("maintenance")
