from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=static("img/logo.svg"), permanent=True)),
    path("api/v1/", include("accounts_app.api_urls")),
    path("api/v1/", include("models_app.api.urls")),
    path("api/v1/", include("evaluations_app.api.urls")),
    path("api/v1/", include("reviews_app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("accounts_app.urls")),
    path("settings/", include("accounts_app.settings_urls")),
    path("", include("reviews_app.urls")),
    path("", include("evaluations_app.urls")),
    path("", include("models_app.urls")),
]
