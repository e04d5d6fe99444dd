from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request, not at import: the manifest storage knows the hashed name only
    # after collectstatic, and an import-time lookup would break the whole URLconf without it.
    return HttpResponsePermanentRedirect(static("img/logo.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", include("accounts_app.api_urls")),
    path("api/v1/", include("models_app.api.urls")),
    path("api/v1/", include("evaluations_app.api.urls")),
    path("api/v1/", include("reviews_app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # MLflow's REST protocol, for the unmodified `mlflow` client (protocols_app/mlflow/).
    path("mlflow/", include("protocols_app.mlflow.urls")),
    path("accounts/", include("accounts_app.urls")),
    path("settings/", include("accounts_app.settings_urls")),
    path("", include("reviews_app.urls")),
    path("", include("evaluations_app.urls")),
    path("", include("models_app.urls")),
]
