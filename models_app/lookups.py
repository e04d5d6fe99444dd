"""Lookups shared by the pages and the API views of every app: the page helpers turn a
domain NotFound into a 404 page; the API mixin lets the exception handler answer it."""

from django.http import Http404, HttpRequest
from django.urls import reverse

from registry_site.api import BaseAPIView
from registry_site.errors import NotFound

from . import selectors
from .models import ModelVersion, RegisteredModel


def get_model(request: HttpRequest, owner: str, name: str) -> RegisteredModel:
    try:
        return selectors.model_get(user=request.user, owner=owner, name=name)
    except NotFound as error:
        raise Http404(error.detail) from None


def version_url(version: ModelVersion) -> str:
    model = version.model
    return reverse(
        "version-detail", kwargs={"owner": model.owner.username, "name": model.name, "version": version.version}
    )


def get_version(request: HttpRequest, owner: str, name: str, version: str) -> ModelVersion:
    """404 unless the user may see the version (the services then decide who may change it)."""
    try:
        return selectors.version_get(user=request.user, model=get_model(request, owner, name), version=version)
    except NotFound as error:
        raise Http404(error.detail) from None


class CatalogAPIView(BaseAPIView):
    """Base of every API view under models/<owner>/<name>/: the model and version named in
    the URL, as the requesting user sees them (a NotFound becomes the JSON 404)."""

    def get_model(self) -> RegisteredModel:
        return selectors.model_get(user=self.request.user, owner=self.kwargs["owner"], name=self.kwargs["name"])

    def get_editable_model(self) -> RegisteredModel:
        return selectors.model_get_editable(
            user=self.request.user, owner=self.kwargs["owner"], name=self.kwargs["name"]
        )

    def get_version(self, model: RegisteredModel | None = None) -> ModelVersion:
        model = model or self.get_model()
        return selectors.version_get(user=self.request.user, model=model, version=self.kwargs["version"])

    def get_editable_version(self) -> ModelVersion:
        return self.get_version(self.get_editable_model())
