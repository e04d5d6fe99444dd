"""Reads of the catalog. Each spells out its joins, so a page costs a fixed number of
queries whatever its length."""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from registry_site.errors import Forbidden, NotFound

from .models import Framework, License, ModelAlias, ModelFile, ModelVersion, RegisteredModel, Tag, Task
from .querysets import PUBLIC_STATUSES
from .semver import RELEASE_KEY


def _latest_public_version() -> Subquery:
    """The newest stable release: a pre-release (1.2.0-rc.1) is never "the latest"."""
    latest = (
        ModelVersion.objects.filter(model=OuterRef("pk"), status__in=PUBLIC_STATUSES, prerelease_key=RELEASE_KEY)
        .semver_order()
        .values("version")[:1]
    )
    return Subquery(latest)


def model_list(*, user) -> QuerySet[RegisteredModel]:
    """Models the user may see, with owner, tags and the latest published version."""
    return (
        RegisteredModel.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(latest_version=_latest_public_version())
        .defer("description", "search_vector", "pending_card")
    )


def model_get(*, user, owner: str, name: str) -> RegisteredModel:
    model = (
        RegisteredModel.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(latest_version=_latest_public_version())
        .filter(owner__username=owner, name=name)
        .first()
    )
    if model is None:
        raise NotFound(f"No model {owner}/{name} exists, or you cannot see it.")
    return model


def model_get_editable(*, user, owner: str, name: str) -> RegisteredModel:
    """The model if the user may change it; 404 if they cannot see it, 403 if only see it."""
    model = model_get(user=user, owner=owner, name=name)
    if not RegisteredModel.objects.editable_by(user).filter(pk=model.pk).exists():
        raise Forbidden(f"Only the owner can change {model.full_name}.")
    return model


def files_prefetch() -> Prefetch:
    return Prefetch("files", queryset=ModelFile.objects.select_related("blob").order_by("path"))


def aliases_prefetch() -> Prefetch:
    """The aliases pointing at each version, with who moved them last: one query for a whole
    list, which the model page's alias section and the version badges read."""
    return Prefetch("aliases", queryset=ModelAlias.objects.select_related("updated_by").order_by("name"))


def version_list(*, user, model: RegisteredModel) -> QuerySet[ModelVersion]:
    """The model's versions the user may see, newest SemVer first, with their files. Lists
    that show the aliases add `aliases_prefetch()`; one version reads them with one query."""
    return (
        ModelVersion.objects.visible_to(user)
        .filter(model=model)
        .select_related("created_by", "model__owner")
        .prefetch_related(files_prefetch())
        .semver_order()
    )


def version_get(*, user, model: RegisteredModel, version: str) -> ModelVersion:
    """One version as the user may see it. Wherever a version is named (pages, API, files),
    `@<alias>` names the version the alias points at, and `@latest` the newest stable release."""
    versions = version_list(user=user, model=model)
    if version.startswith("@"):
        alias = version[1:].strip().lower()
        if alias == "latest":
            instance = versions.public().stable().first()
        else:
            instance = versions.filter(aliases__name=alias).first()
        if instance is None:
            raise NotFound(f"{model.full_name} has no alias '{version[1:]}' you can see.", code="alias_not_found")
        return instance
    instance = versions.filter(version=version).first()
    if instance is None:
        raise NotFound(f"{model.full_name} has no version {version}, or you cannot see it.")
    return instance


def latest_public_version(*, model: RegisteredModel) -> ModelVersion | None:
    """The newest published (or deprecated) stable release, never a pre-release."""
    return (
        model.versions.public()
        .stable()
        .select_related("created_by")
        .prefetch_related(files_prefetch())
        .semver_order()
        .first()
    )


def file_get(*, version: ModelVersion, path: str) -> ModelFile:
    model_file = version.files.select_related("blob", "version").filter(path=path).first()
    if model_file is None:
        raise NotFound(f"Version {version.version} has no file '{path}'.")
    return model_file


FACET_LABELS = {"task": dict(Task.choices), "framework": dict(Framework.choices), "license": dict(License.choices)}


def facet_counts(base_for: Callable[[str], QuerySet[RegisteredModel]]) -> dict[str, list[tuple[str, str, int]]]:
    """(value, label, count) per task, framework, license and tag.

    Each facet counts over the models matching every filter but its own (`base_for(field)`),
    as faceted search does: picking "Tabular classification" keeps the other tasks listed with
    what they would give, while the framework and license counts narrow to the tabular models."""
    facets: dict[str, list[tuple[str, str, int]]] = {}
    for field, names in FACET_LABELS.items():
        rows = (
            RegisteredModel.objects.filter(pk__in=base_for(field).order_by().values("pk"))
            .order_by()
            .values_list(field)
            .annotate(n=Count("pk"))
            .order_by("-n", field)
        )
        facets[field] = [(value, names.get(value, value), n) for value, n in rows]
    base = base_for("tag").order_by().values("pk")
    tags = (
        Tag.objects.filter(models__in=base).values_list("name").annotate(n=Count("models")).order_by("-n", "name")[:30]
    )
    facets["tag"] = [(name, name, n) for name, n in tags]
    return facets


# --- Reads for the server-rendered pages (appended; the API does not use these yet). ---


def user_get(*, username: str):
    """An active user by username, for the user page; NotFound otherwise."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No user named {username}.")
    return user


def model_recent(*, user, limit: int = 6) -> QuerySet[RegisteredModel]:
    return model_list(user=user).order_by("-updated_at", "pk")[:limit]


def model_most_downloaded(*, user, limit: int = 6) -> QuerySet[RegisteredModel]:
    return model_list(user=user).order_by("-download_count", "-updated_at", "pk")[:limit]


def version_history(*, user, model: RegisteredModel) -> list[ModelVersion]:
    """The versions the user may see, newest SemVer first, with files and their blobs.

    Evaluated once so a page can both list them and pick the latest published one without
    another query; the aliases pointing at each come along (the model page's alias section).
    """
    return list(version_list(user=user, model=model).prefetch_related(aliases_prefetch()))


def latest_public_in(versions: list[ModelVersion]) -> ModelVersion | None:
    """The newest published (or deprecated) stable release of an already-ordered list."""
    return next((v for v in versions if v.status in PUBLIC_STATUSES and not v.is_prerelease), None)


def latest_prerelease_in(versions: list[ModelVersion]) -> ModelVersion | None:
    """The newest published pre-release of an already-ordered list, newer than any stable
    release: what a page links to beside (or instead of) the latest stable release."""
    for v in versions:
        if v.status in PUBLIC_STATUSES:
            return v if v.is_prerelease else None
    return None
