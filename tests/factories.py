"""Factories for the cast of every test: owner, reviewer, outsider, staff."""

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts_app.roles import Role, role_grant
from accounts_app.services import token_create
from models_app import services
from models_app.models import ModelVersion, RegisteredModel, VersionStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


def make_user(username: str, *roles: Role, **fields):
    """A user holding the given roles, granted the way an administrator grants them."""
    return grant(UserFactory(username=username, **fields), *roles)


def grant(user, *roles: Role):
    for role in roles:
        role_grant(user=user, role=role)
    return user


def make_reviewer(username: str, **fields):
    return make_user(username, Role.REVIEWER, **fields)


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client_for(user) -> APIClient:
    """An API client with a fresh Bearer token of the user (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _, raw = token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make_model(owner, name: str = "iris-classifier", **fields) -> RegisteredModel:
    defaults = {
        "task": "tabular-classification",
        "framework": "scikit-learn",
        "license": "MIT",
        "summary": "Classifies iris flowers",
        "description": "# Iris classifier\n\nA logistic regression.",
        "tags": ["iris", "tabular"],
        "visibility": "public",
    }
    defaults.update(fields)
    return services.model_create(owner=owner, name=name, **defaults)


def make_version(
    model: RegisteredModel,
    version: str = "1.0.0",
    status: str = VersionStatus.DRAFT,
    files: dict | None = None,
    **fields,
) -> ModelVersion:
    """A version with files; its status is then set directly, as staff do in the admin."""
    instance = services.version_create(model=model, version=version, created_by=model.owner, **fields)
    for path, content in (files or {}).items():
        services.file_upload(
            version=instance, uploaded_file=SimpleUploadedFile(path.rsplit("/", 1)[-1], content), path=path
        )
    if status != VersionStatus.DRAFT:
        ModelVersion.objects.filter(pk=instance.pk).update(status=status)
        instance.refresh_from_db()
    return instance
