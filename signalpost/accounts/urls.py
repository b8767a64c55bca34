from django.urls import path

from . import views, views_account, views_audit, views_tokens, views_users

urlpatterns = [
    path("login", views.login, name="login"),
    path("login/code", views.login_code, name="login_code"),
    path("logout", views.logout, name="logout"),
    # Your account
    path("account", views_account.account, name="account"),
    path("account/password", views_account.account_password, name="account_password"),
    path("account/two-factor/start", views_account.account_two_factor_start, name="account_2fa_start"),
    path("account/two-factor/confirm", views_account.account_two_factor_confirm, name="account_2fa_confirm"),
    path("account/two-factor/disable", views_account.account_two_factor_disable, name="account_2fa_disable"),
    # Password reset by e-mail (only when EMAIL_HOST is set)
    path("password-reset", views_account.password_reset, name="password_reset"),
    path("password-reset/sent", views_account.password_reset_sent, name="password_reset_sent"),
    path("password-reset/<str:uidb64>/<str:token>", views_account.password_reset_confirm,
         name="password_reset_confirm"),
    # Users and invitations
    path("users/", views_users.users, name="users"),
    path("users/invite", views_users.invitation_new, name="invitation_new"),
    path("users/<int:user_id>", views_users.user_detail, name="user_detail"),
    path("users/<int:user_id>/role", views_users.user_role, name="user_role"),
    path("users/<int:user_id>/deactivate", views_users.user_deactivate, name="user_deactivate"),
    path("users/<int:user_id>/reactivate", views_users.user_reactivate, name="user_reactivate"),
    path("users/<int:user_id>/reset-two-factor", views_users.user_reset_two_factor, name="user_reset_2fa"),
    path("invitations/<int:invitation_id>/created", views_users.invitation_created, name="invitation_created"),
    path("invitations/<int:invitation_id>/revoke", views_users.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>", views_users.invitation_accept, name="invitation_accept"),
    # API tokens
    path("tokens/", views_tokens.tokens, name="tokens"),
    path("tokens/new", views_tokens.token_new, name="token_new"),
    path("tokens/<int:token_id>/created", views_tokens.token_created, name="token_created"),
    path("tokens/<int:token_id>/revoke", views_tokens.token_revoke, name="token_revoke"),
    # Audit log
    path("audit/", views_audit.audit_log, name="audit"),
    path("audit/export.csv", views_audit.audit_export_csv, name="audit_export_csv"),
    path("audit/export.json", views_audit.audit_export_json, name="audit_export_json"),
]
