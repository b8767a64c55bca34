from django.urls import path

from . import account, audit_log, login, tokens, users

urlpatterns = [
    path("login", login.login, name="login"),
    path("login/code", login.login_code, name="login_code"),
    path("logout", login.logout, name="logout"),
    # Your account
    path("account", account.account, name="account"),
    path("account/password", account.account_password, name="account_password"),
    path("account/two-factor/start", account.account_two_factor_start, name="account_2fa_start"),
    path("account/two-factor/confirm", account.account_two_factor_confirm, name="account_2fa_confirm"),
    path("account/two-factor/disable", account.account_two_factor_disable, name="account_2fa_disable"),
    # Password reset by e-mail (only when EMAIL_HOST is set)
    path("password-reset", account.password_reset, name="password_reset"),
    path("password-reset/sent", account.password_reset_sent, name="password_reset_sent"),
    path("password-reset/<str:uidb64>/<str:token>", account.password_reset_confirm,
         name="password_reset_confirm"),
    # Users and invitations
    path("users/", users.users, name="users"),
    path("users/invite", users.invitation_new, name="invitation_new"),
    path("users/<int:user_id>", users.user_detail, name="user_detail"),
    path("users/<int:user_id>/role", users.user_role, name="user_role"),
    path("users/<int:user_id>/deactivate", users.user_deactivate, name="user_deactivate"),
    path("users/<int:user_id>/reactivate", users.user_reactivate, name="user_reactivate"),
    path("users/<int:user_id>/reset-two-factor", users.user_reset_two_factor, name="user_reset_2fa"),
    path("invitations/<int:invitation_id>/created", users.invitation_created, name="invitation_created"),
    path("invitations/<int:invitation_id>/revoke", users.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>", users.invitation_accept, name="invitation_accept"),
    # API tokens
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/new", tokens.token_new, name="token_new"),
    path("tokens/<int:token_id>/created", tokens.token_created, name="token_created"),
    path("tokens/<int:token_id>/revoke", tokens.token_revoke, name="token_revoke"),
    # Audit log
    path("audit/", audit_log.audit_log, name="audit"),
    path("audit/export.csv", audit_log.audit_export_csv, name="audit_export_csv"),
    path("audit/export.json", audit_log.audit_export_json, name="audit_export_json"),
]
