from django.urls import path  # noqa: F401

# The postmortem screens, action items across postmortems and the reliability report.
urlpatterns = []
