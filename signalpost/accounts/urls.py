from django.urls import path

from . import views

urlpatterns = [
    path("login", views.login, name="login"),
    path("login/code", views.login_code, name="login_code"),
    path("logout", views.logout, name="logout"),
    path("account", views.account, name="account"),
]
