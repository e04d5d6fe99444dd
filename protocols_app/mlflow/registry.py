"""MLflow's model registry calls, answered from the catalog.

Names: a bare name (`iris-clf`) is the caller's own model; `owner/name` addresses anyone's
model the caller may see. Versions are MLflow's integers, kept beside each registry version
that came in through this API; only those are MLflow model versions (a version uploaded on
the website has no MLmodel for the client to load). Who may see or change what is the
catalog's own rule (models_app selectors and services), so an MLflow client never sees more
than the website shows the same user.
"""

import base64
import binascii
import json

from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpRequest

from models_app import selectors
from models_app.aliases import alias_delete, alias_resolve, alias_set
from models_app.cards import working_card
from models_app.models import License, ModelAlias, ModelVersion, RegisteredModel, Task, Visibility
from models_app.services import model_create, model_delete, model_update, version_update
from registry_site.errors import DomainError, Forbidden, NotFound

from ..models import ModelVersionLink, RegisteredModelTags
from .filters import Condition, like_regex, parse_filter
from .paths import artifacts_uri, version_root
from .protocol import MlflowError, endpoint, int_param, invalid, read_params, read_tags, require_user, text_param
from .registration import register_version, resolve_source

RESERVED_TAG_PREFIX = "registry."
MODEL_SETTINGS = {  # tags read once, when a model is created through MLflow
    "registry.task": ("task", Task.values, Task.OTHER),
    "registry.license": ("license", License.values, License.PROPRIETARY),
    "registry.visibility": ("visibility", Visibility.values, Visibility.PRIVATE),
}
MAX_RESULTS = 1000
MAX_VERSION_RESULTS = 10_000  # the client asks for 10,000 versions a page by default


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _split(user, name: str) -> tuple[str, str]:
    owner, _, model_name = name.rpartition("/")
    if not owner:
        if not user.is_authenticated:
            raise NotFound(f"Registered Model with name={name} not found (without a token, name it owner/name).")
        owner = user.username
    return owner, model_name


def model_for(user, name: str, *, editable: bool = False) -> RegisteredModel:
    """The model MLflow's `name` addresses, as this user may see (or change) it."""
    owner, model_name = _split(user, name)
    try:
        if editable:
            return selectors.model_get_editable(user=user, owner=owner, name=model_name)
        return selectors.model_get(user=user, owner=owner, name=model_name)
    except NotFound:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found.") from None


def mlflow_name(model: RegisteredModel, user) -> str:
    return model.name if user.is_authenticated and model.owner_id == user.pk else model.full_name


def _visible_links(user, model: RegisteredModel | None = None) -> QuerySet[ModelVersionLink]:
    versions = ModelVersion.objects.visible_to(user)
    links = ModelVersionLink.objects.filter(version__in=versions).select_related(
        "version__created_by", "version__model__owner"
    )
    return links.filter(model=model) if model is not None else links


def link_for(user, model: RegisteredModel, number) -> ModelVersionLink:
    number = int_param({"version": number}, "version", minimum=1, maximum=2**31)
    link = _visible_links(user, model).filter(number=number).first()
    if link is None:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Model Version (name={model.name}, version={number}) not found.")
    return link


def _aliases_by_version(models: list[RegisteredModel]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for version_id, alias in ModelAlias.objects.filter(model__in=models).values_list("version_id", "name"):
        found.setdefault(version_id, []).append(alias)
    return found


def version_dict(link: ModelVersionLink, user, aliases: dict[int, list[str]] | None = None) -> dict:
    version = link.version
    if aliases is None:
        aliases = _aliases_by_version([version.model])
    tags = {**link.tags, "registry.version": version.version, "registry.status": version.status}
    answer = {
        "name": mlflow_name(version.model, user),
        "version": str(link.number),
        "creation_timestamp": _ms(version.created_at),
        "last_updated_timestamp": _ms(version.updated_at),
        "user_id": version.created_by.username if version.created_by else "",
        "current_stage": "None",
        "description": link.description,
        "source": link.source,
        "run_id": link.run_id or "",
        # READY: the files are stored when the version is created. The review is the
        # registry's status, in the registry.status tag (the client would poll on anything else).
        "status": "READY",
        "status_message": f"Registry version {version.version}: {version.get_status_display().lower()}.",
        "tags": [{"key": key, "value": str(value)} for key, value in sorted(tags.items())],
        "aliases": sorted(aliases.get(version.pk, [])),
    }
    if link.logged_model_id:
        answer["model_id"] = link.logged_model_id
    return answer


def model_dicts(models: list[RegisteredModel], user) -> list[dict]:
    """MLflow's registered models, in a fixed number of queries however many there are."""
    links_of: dict[int, list[ModelVersionLink]] = {}
    for link in _visible_links(user).filter(model__in=models):
        links_of.setdefault(link.model_id, []).append(link)
    aliases = _aliases_by_version(models)
    tags_of = dict(RegisteredModelTags.objects.filter(model__in=models).values_list("model_id", "tags"))
    editable = (
        set(
            RegisteredModel.objects.editable_by(user).filter(pk__in=[m.pk for m in models]).values_list("pk", flat=True)
        )
        if user.is_authenticated
        else set()
    )
    return [
        _model_dict(model, user, links_of.get(model.pk, []), aliases, tags_of.get(model.pk, {}), editable)
        for model in models
    ]


def model_dict(model: RegisteredModel, user) -> dict:
    return model_dicts([model], user)[0]


def _model_dict(model, user, links, aliases, tags, editable) -> dict:
    numbers = {link.version_id: link.number for link in links}
    latest = max(links, key=lambda link: link.number, default=None)
    # The owner reads the card as they last edited it; others the published one.
    description = working_card(model).description if model.pk in editable else model.description
    return {
        "name": mlflow_name(model, user),
        "creation_timestamp": _ms(model.created_at),
        "last_updated_timestamp": _ms(model.updated_at),
        "user_id": model.owner.username,
        "description": description,
        "latest_versions": [version_dict(latest, user, aliases)] if latest else [],
        "tags": [{"key": key, "value": value} for key, value in sorted(tags.items())],
        "aliases": [
            {"alias": alias, "version": str(numbers[version_id])}
            for version_id, names in aliases.items()
            for alias in sorted(names)
            if version_id in numbers
        ],
    }


def _page(params: dict, maximum: int = MAX_RESULTS) -> tuple[int, int]:
    limit = int_param(params, "max_results", default=100, minimum=1, maximum=maximum)
    token = params.get("page_token") or ""
    if not token:
        return 0, limit
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid("Invalid page_token: pass back the next_page_token of the previous answer.") from None
    if not isinstance(offset, int) or offset < 0:
        raise invalid("Invalid page_token: pass back the next_page_token of the previous answer.")
    return offset, limit


def _next_token(offset: int, limit: int, found: int) -> dict:
    if found <= limit:
        return {}
    return {"next_page_token": base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()}


def _text_q(field: str, condition: Condition) -> Q:
    value = condition.value
    if condition.op == "=":
        return Q(**{field: value})
    if condition.op == "!=":
        return ~Q(**{field: value})
    if condition.op == "IN":
        return Q(**{f"{field}__in": value})
    lookup = "regex" if condition.op == "LIKE" else "iregex"
    return Q(**{f"{field}__{lookup}": "^" + like_regex(str(value)) + "$"})


def _apply(queryset: QuerySet, conditions: list[Condition], fields: dict[str, str], tags_field: str) -> QuerySet:
    """The conditions as SQL: attributes through `fields`, tags as keys of a JSON column
    (a tag that is not set is not equal to anything, so `!=` matches it)."""
    for index, condition in enumerate(conditions):
        if condition.field == "tag":
            alias = f"mlflow_tag_{index}"
            # Cast: compared as plain text (a JSON key lookup would parse the value as JSON).
            queryset = queryset.alias(**{alias: Cast(KeyTextTransform(condition.key, tags_field), TextField())})
            if condition.op == "!=":
                queryset = queryset.filter(Q(**{f"{alias}__isnull": True}) | ~Q(**{alias: condition.value}))
            else:
                queryset = queryset.filter(_text_q(alias, condition))
        else:
            queryset = queryset.filter(_text_q(fields[condition.field], condition))
    return queryset


def _order(params: dict, allowed: dict[str, str], default: list[str]) -> list[str]:
    wanted = params.get("order_by") or []
    if isinstance(wanted, str):
        wanted = [wanted]
    ordering = []
    for clause in wanted:
        parts = str(clause).split()
        if (
            not parts
            or parts[0] not in allowed
            or len(parts) > 2
            or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC"))
        ):
            raise invalid(
                f"Invalid order_by clause '{str(clause)[:60]}'; use one of {', '.join(allowed)} with ASC or DESC."
            )
        descending = len(parts) == 2 and parts[1].upper() == "DESC"
        ordering.append(("-" if descending else "") + allowed[parts[0]])
    return ordering + default


# --- registered models ----------------------------------------------------------------------


@endpoint("POST")
def model_create_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    name = text_param(params, "name", max_length=200)
    owner, model_name = _split(user, name)
    if owner != user.username:
        raise MlflowError("PERMISSION_DENIED", f"You can register models under your own name only, not {owner}/.")
    tags = read_tags(params)
    settings = {}
    for key, (field, allowed, default) in MODEL_SETTINGS.items():
        value = tags.pop(key, default)
        if value not in allowed:
            raise invalid(f"The {key} tag must be one of: {', '.join(allowed)}.")
        settings[field] = value
    _refuse_reserved(tags)
    with transaction.atomic():
        if RegisteredModel.objects.filter(owner=user, name=model_name).exists():
            raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")
        model = model_create(
            owner=user,
            name=model_name,
            framework="other",
            description=text_param(params, "description", required=False, max_length=50_000),
            **settings,
        )
        RegisteredModelTags.objects.create(model=model, tags=tags)
    model.owner = user
    return {"registered_model": model_dict(model, user)}


@endpoint("GET")
def model_get_view(request: HttpRequest) -> dict:
    params = read_params(request)
    model = model_for(request.user, text_param(params, "name", max_length=200))
    return {"registered_model": model_dict(model, request.user)}


@endpoint("GET")
def model_search_view(request: HttpRequest) -> dict:
    params = read_params(request)
    conditions = parse_filter(text_param(params, "filter", required=False, max_length=4000), allowed={"name", "tag"})
    offset, limit = _page(params)
    models = _apply(
        RegisteredModel.objects.visible_to(request.user).select_related("owner"),
        conditions,
        {"name": "name"},
        "mlflow__tags",
    )
    ordering = _order(
        params, {"name": "name", "last_updated_timestamp": "updated_at", "timestamp": "updated_at"}, ["name", "pk"]
    )
    page = list(models.order_by(*ordering)[offset : offset + limit + 1])
    found = model_dicts(page[:limit], request.user)
    return {"registered_models": found, **_next_token(offset, limit, len(page))}


@endpoint("PATCH")
def model_update_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    model = model_for(user, text_param(params, "name", max_length=200), editable=True)
    if "description" in params:
        model = model_update(
            model=model, actor=user, description=text_param(params, "description", required=False, max_length=50_000)
        )
    return {"registered_model": model_dict(model_for(user, mlflow_name(model, user)), user)}


@endpoint("DELETE")
def model_delete_view(request: HttpRequest) -> dict:
    user = require_user(request)
    model = model_for(user, text_param(read_params(request), "name", max_length=200), editable=True)
    model_delete(model=model, actor=user)
    return {}


def _refuse_reserved(tags: dict) -> None:
    reserved = sorted(key for key in tags if key.startswith(RESERVED_TAG_PREFIX) and key != "registry.version")
    if reserved:
        raise invalid(f"Tags starting with '{RESERVED_TAG_PREFIX}' are the registry's own: {', '.join(reserved)}.")


@endpoint("POST", "DELETE")
def model_tag_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    model = model_for(user, text_param(params, "name", max_length=200), editable=True)
    with transaction.atomic():
        holder, _ = RegisteredModelTags.objects.select_for_update().get_or_create(model=model)
        _change_tag(holder, request, params, "Registered model tag")
    return {}


def _change_tag(holder, request: HttpRequest, params: dict, what: str) -> None:
    """Set (POST) or delete (DELETE) one tag of a locked row with a `tags` dict."""
    key = text_param(params, "key", max_length=250)
    _refuse_reserved({key: ""})
    if request.method == "POST":
        holder.tags[key] = text_param(params, "value", required=False, max_length=8000)
    elif holder.tags.pop(key, None) is None:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"{what} '{key}' not found.")
    holder.save(update_fields=["tags"])


@endpoint("POST")
def latest_versions_view(request: HttpRequest) -> dict:
    params = read_params(request)
    model = model_for(request.user, text_param(params, "name", max_length=200))
    stages = params.get("stages") or []
    if not isinstance(stages, list):
        raise invalid("stages must be a list.")
    if stages and "None" not in stages and "none" not in [str(stage).lower() for stage in stages]:
        return {"model_versions": []}  # stages are not used here: aliases replace them
    latest = _visible_links(request.user, model).order_by("-number").first()
    return {"model_versions": [version_dict(latest, request.user)] if latest else []}


# --- model versions ---------------------------------------------------------------------------


@endpoint("POST")
def version_create_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    name = text_param(params, "name", max_length=200)
    model = model_for(user, name, editable=True)
    if model.owner_id != user.pk:
        raise MlflowError("PERMISSION_DENIED", f"Only the owner of {model.full_name} registers its versions.")
    tags = read_tags(params)
    _refuse_reserved(tags)
    source_uri = text_param(params, "source", max_length=1024)
    source = resolve_source(
        user,
        source=source_uri,
        run_id=text_param(params, "run_id", required=False, max_length=64),
        model_id=text_param(params, "model_id", required=False, max_length=40),
    )
    version = register_version(
        user=user,
        model=model,
        source=source,
        description=text_param(params, "description", required=False, max_length=50_000),
        tags=tags,
        source_uri=source_uri,
    )
    return {"model_version": version_dict(ModelVersionLink.objects.get(version=version), user)}


@endpoint("GET")
def version_get_view(request: HttpRequest) -> dict:
    params = read_params(request)
    model = model_for(request.user, text_param(params, "name", max_length=200))
    return {"model_version": version_dict(link_for(request.user, model, params.get("version")), request.user)}


@endpoint("GET")
def version_search_view(request: HttpRequest) -> dict:
    params = read_params(request)
    conditions = parse_filter(
        text_param(params, "filter", required=False, max_length=4000),
        allowed={"name", "run_id", "version_number", "tag"},
    )
    offset, limit = _page(params, MAX_VERSION_RESULTS)
    links = _visible_links(request.user)
    named = [condition for condition in conditions if condition.field == "name" and condition.op == "="]
    for condition in named:  # an exact name is an address: the caller's own model, or owner/name
        try:
            links = links.filter(model=model_for(request.user, str(condition.value)))
        except MlflowError:
            return {"model_versions": []}  # as MLflow answers a search for a model it does not have
    rest = [condition for condition in conditions if condition not in named]
    links = _apply(
        links,
        rest,
        {"name": "model__name", "run_id": "run_id", "version_number": "number"},
        "tags",
    )
    ordering = _order(
        params,
        {"version_number": "number", "creation_timestamp": "version__created_at", "name": "model__name"},
        ["model__name", "-number"],
    )
    page = list(links.order_by(*ordering)[offset : offset + limit + 1])
    aliases = _aliases_by_version(list({link.version.model for link in page[:limit]}))
    found = [version_dict(link, request.user, aliases) for link in page[:limit]]
    return {"model_versions": found, **_next_token(offset, limit, len(page))}


@endpoint("PATCH")
def version_update_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    model = model_for(user, text_param(params, "name", max_length=200), editable=True)
    link = link_for(user, model, params.get("version"))
    if "description" in params:
        description = text_param(params, "description", required=False, max_length=50_000)
        with transaction.atomic():
            if link.version.is_editable:  # a draft's changelog follows; a submitted one is frozen
                version_update(version=link.version, actor=user, changelog=description)
            ModelVersionLink.objects.filter(pk=link.pk).update(description=description)
        link.description = description
    return {"model_version": version_dict(link, user)}


@endpoint("DELETE")
def version_delete_view(request: HttpRequest) -> dict:
    raise MlflowError(
        "PERMISSION_DENIED",
        "Versions are never deleted from this registry: deprecate a published version on its page instead.",
    )


@endpoint("POST", "DELETE")
def version_tag_view(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    model = model_for(user, text_param(params, "name", max_length=200), editable=True)
    with transaction.atomic():
        link = ModelVersionLink.objects.select_for_update().get(pk=link_for(user, model, params.get("version")).pk)
        _change_tag(link, request, params, "Model version tag")
    return {}


@endpoint("GET")
def download_uri_view(request: HttpRequest) -> dict:
    params = read_params(request)
    model = model_for(request.user, text_param(params, "name", max_length=200))
    version = link_for(request.user, model, params.get("version")).version
    return {"artifact_uri": artifacts_uri(version_root(model.owner.username, model.name, version.version))}


# --- aliases ------------------------------------------------------------------------------------


@endpoint("GET", "POST", "DELETE")
def alias_view(request: HttpRequest) -> dict:
    params = read_params(request)
    model = model_for(request.user, text_param(params, "name", max_length=200))
    alias = text_param(params, "alias", max_length=100)
    if request.method == "GET":
        try:
            version = alias_resolve(model=model, name=alias)
        except NotFound:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Registered model alias {alias} not found.") from None
        link = _visible_links(request.user, model).filter(version=version).first()
        if link is None:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST",
                f"Alias {alias} points at version {version.version}, which was not registered through MLflow.",
            )
        return {"model_version": version_dict(link, request.user)}
    user = require_user(request)
    try:
        if request.method == "DELETE":
            alias_delete(model=model, name=alias, actor=user)
        else:
            link = link_for(user, model, params.get("version"))
            alias_set(model=model, name=alias, version=link.version, actor=user)
    except Forbidden as refused:
        raise MlflowError("PERMISSION_DENIED", refused.detail) from None
    except DomainError as refused:
        if refused.status == 404:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", refused.detail) from None
        if refused.status == 403:
            raise MlflowError("PERMISSION_DENIED", refused.detail) from None
        raise invalid(refused.detail) from None
    return {}
