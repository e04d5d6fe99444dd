"""Lookups shared by the server-rendered pages: a domain NotFound becomes a 404 page."""

from django.http import Http404, HttpRequest
from django.urls import reverse

from . import selectors
from .errors import NotFound
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
