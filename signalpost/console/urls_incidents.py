from django.urls import path

from signalpost.console import views

# Placeholders until the incident and maintenance screens land.
urlpatterns = [
    path("incidents/", views.dashboard, name="incidents"),
    path("incidents/new", views.dashboard, name="incident_new"),
    path("incidents/<str:public_id>", views.dashboard, name="incident"),
    path("maintenance/", views.dashboard, name="maintenance"),
    path("maintenance/new", views.dashboard, name="maintenance_new"),
    path("maintenance/<str:public_id>", views.dashboard, name="maintenance_detail"),
]
