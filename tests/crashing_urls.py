"""The site's URLs plus one view that crashes, for the error-page tests."""

from django.urls import path

from registry_site.urls import urlpatterns as site_urlpatterns


def crash(request):
    raise RuntimeError("boom: a bug in a view")


urlpatterns = [path("crash/", crash), *site_urlpatterns]
