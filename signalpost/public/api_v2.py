from django.http import JsonResponse


def _todo(request):
    return JsonResponse({})


summary = status = components = incidents = incidents_unresolved = _todo
scheduled_maintenances = scheduled_maintenances_upcoming = scheduled_maintenances_active = _todo
