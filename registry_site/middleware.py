import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.shortcuts import render

logger = logging.getLogger("django.request")


class ContentSecurityPolicyMiddleware:
    """Send the site's Content-Security-Policy (no inline scripts, nothing from elsewhere).

    Django 5.2 has no CSP support of its own (it arrives in 6.0), and one header does not
    justify another dependency.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class SiteErrorPagesMiddleware:
    """Under DEBUG (which `make run` sets) answer a missing page or a crash with the site's own
    404 and 500 pages instead of Django's debug pages, which list every URL pattern and the
    settings to whoever asks. The traceback still goes to the console through the
    `django.request` logger. `DEBUG_ERROR_PAGES=technical` brings Django's pages back.

    Without DEBUG Django renders these templates itself; this only closes the DEBUG gap.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and not settings.DEBUG_TECHNICAL_ERROR_PAGES
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not getattr(response, "site_error_page", False)
            and not request.path.startswith(("/api/", "/static/"))
        ):
            return _site_page(request, "404.html", 404)
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG or settings.DEBUG_TECHNICAL_ERROR_PAGES or request.path.startswith("/api/"):
            return None
        if isinstance(exception, Http404):
            return _site_page(request, "404.html", 404)
        if isinstance(exception, PermissionDenied | BadRequest | SuspiciousOperation):
            return None  # Django renders 403.html and 400 itself, DEBUG or not
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return _site_page(request, "500.html", 500)


def _site_page(request, template: str, status: int):
    response = render(request, template, status=status)
    response.site_error_page = True
    return response
