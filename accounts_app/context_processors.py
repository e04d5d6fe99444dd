"""`user_may` in every template: what the signed-in user may do, from accounts_app.roles."""

from django.http import HttpRequest

from .roles import UserPermissions


def roles(request: HttpRequest) -> dict:
    return {"user_may": UserPermissions(getattr(request, "user", None))}
