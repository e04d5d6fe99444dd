"""Aliases: a name per model (`production`, `staging`, `champion`) that points at one of its
published versions, and the append-only history of where each pointed.

The owner sets, moves and deletes aliases (Action.EDIT); a protected alias is the reviewers'
promise of what runs, so moving or deleting one, and protecting or unprotecting any, is for
reviewers (Action.PROTECT_ALIAS). Each change is one AliasChange row and one audit event in
the change's transaction; after commit `signals.alias_moved` tells the apps above when an
alias pointed somewhere new (webhooks).

The API, the pages and the MLflow-compatible endpoint call these functions and nothing else.
"""

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts_app.roles import Action, may
from registry_site.audit import RequestMeta, audit
from registry_site.errors import Conflict, DomainError, Forbidden, NotFound

from .models import ALIAS_RE, AliasAction, AliasChange, ModelAlias, ModelVersion, RegisteredModel, VersionStatus
from .services import lock_version
from .signals import alias_moved

_ALIAS = re.compile(ALIAS_RE)
# `@latest` is the newest stable release wherever a version is named, and `v3` reads as a
# version number (MLflow reserves both too); an alias may not take either meaning.
_RESERVED = re.compile(r"^(latest|v\d+)$")


def alias_name_check(name: str) -> str:
    """The alias name as stored (lowercased, trimmed), or a DomainError saying what is wrong."""
    cleaned = (name or "").strip().lower() if isinstance(name, str) else ""
    if not _ALIAS.fullmatch(cleaned):
        raise DomainError(
            f"'{name}' is not a usable alias name: use 1 to 63 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit.",
            code="invalid_alias",
            field="name",
        )
    if _RESERVED.fullmatch(cleaned):
        raise DomainError(
            f"'{cleaned}' is reserved: @latest always means the newest stable release, and v<number> reads as a "
            "version. Choose another name.",
            code="alias_reserved",
            field="name",
        )
    return cleaned


def _lock_model(model: RegisteredModel) -> RegisteredModel:
    """The model row, locked: alias changes of one model run one at a time, and wait for a
    deprecation or an approval of one of its versions (which lock the same row first)."""
    locked = RegisteredModel.objects.select_for_update().select_related("owner").filter(pk=model.pk).first()
    if locked is None:
        raise NotFound(f"{model.full_name} was deleted.")
    return locked


def _check_may_change_some(actor, model: RegisteredModel) -> None:
    """Who may change none of the model's aliases hears so first, before anything about the
    version they named."""
    if not (
        may(actor, Action.EDIT, owner_id=model.owner_id) or may(actor, Action.PROTECT_ALIAS, owner_id=model.owner_id)
    ):
        raise Forbidden(f"Only the owner can change the aliases of {model.full_name}.")


def _check_actor(actor, model: RegisteredModel, *, needs_reviewer: bool, name: str) -> None:
    if needs_reviewer:
        if not may(actor, Action.PROTECT_ALIAS, owner_id=model.owner_id):
            raise Forbidden(
                f"The alias '{name}' of {model.full_name} is protected, or would be: only a reviewer can move, "
                "delete, protect or unprotect it.",
                code="alias_protected",
            )
    elif not may(actor, Action.EDIT, owner_id=model.owner_id):
        raise Forbidden(f"Only the owner can change the aliases of {model.full_name}.")


def _record(
    *,
    model: RegisteredModel,
    name: str,
    action: str,
    from_version: ModelVersion | None,
    to_version: ModelVersion | None,
    protected: bool,
    actor,
    at: datetime,
    meta: RequestMeta | None,
) -> None:
    """One history row and one audit event, in the caller's transaction."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    AliasChange.objects.create(
        model=model, alias=name, action=action,
        from_version=from_version, to_version=to_version,
        from_label=from_version.version if from_version else "", to_label=to_version.version if to_version else "",
        protected=protected, actor=actor if authenticated else None,
        actor_username=getattr(actor, "username", "") or "", at=at,
    )  # fmt: skip
    audit(
        actor=actor, action=f"alias.{action}", model_full_name=model.full_name,
        version=to_version or from_version, meta=meta,
        data={
            "alias": name,
            "from": from_version.version if from_version else None,
            "to": to_version.version if to_version else None,
            "protected": protected,
        },
    )  # fmt: skip


def _send_moved(*, model_id: int, name: str, from_id: int | None, to_id: int | None, actor) -> None:
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(
        lambda: alias_moved.send(
            sender=ModelAlias,
            model_id=model_id,
            alias=name,
            from_version_id=from_id,
            to_version_id=to_id,
            actor_id=actor_id,
        )  # fmt: skip
    )


@transaction.atomic
def alias_set(
    *,
    model: RegisteredModel,
    name: str,
    version: ModelVersion,
    actor,
    protected: bool | None = None,
    meta: RequestMeta | None = None,
) -> ModelAlias:
    """Point the alias at a published version of the model, creating it if needed.

    1. Check the name; check the version belongs to the model.
    2. Lock the model row, then the version row (lock_version's order), and read the version's
       status under the lock: a deprecation that committed meanwhile is seen.
    3. Lock the alias row if it exists; check who acts (a protected alias, or a change of the
       flag, needs a reviewer).
    4. Nothing changes (same version, same flag): return it, with no history row.
    5. Save, then record the move and the flag change (one history row and one audit event
       each); after commit, send `alias_moved` if it points somewhere new.

    `protected=None` keeps the flag (a new alias is unprotected).
    """
    name = alias_name_check(name)
    _check_may_change_some(actor, model)
    if version.model_id != model.pk:
        raise DomainError(
            f"Version {version.version} belongs to another model, not {model.full_name}.",
            code="version_not_in_model",
            field="version",
        )
    locked_version = lock_version(version)
    if locked_version is None:
        raise NotFound(f"Version {version.version} of {model.full_name} no longer exists.")
    locked_model = locked_version.model
    if locked_version.status != VersionStatus.PUBLISHED:
        raise DomainError(
            f"An alias can point only at a published version; {locked_version.version} is "
            f"{locked_version.get_status_display().lower()}.",
            code="version_not_published",
            field="version",
        )
    alias = (
        ModelAlias.objects.select_for_update(of=("self",))
        .select_related("version")
        .filter(model=locked_model, name=name)
        .first()
    )
    was_protected = alias.protected if alias else False
    now_protected = was_protected if protected is None else bool(protected)
    flag_changes = now_protected != was_protected
    if alias is None:
        _check_actor(actor, locked_model, needs_reviewer=now_protected, name=name)
    else:
        _check_actor(actor, locked_model, needs_reviewer=was_protected or flag_changes, name=name)
        if alias.version_id == locked_version.pk and not flag_changes:
            return alias
    now = timezone.now()
    previous = alias.version if alias else None
    moves = previous is None or previous.pk != locked_version.pk
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    if alias is None:
        alias = ModelAlias(model=locked_model, name=name)
    alias.version, alias.protected, alias.updated_at = locked_version, now_protected, now
    alias.updated_by = actor if authenticated else None
    try:
        with transaction.atomic():
            alias.save()
    except IntegrityError:  # created by another transaction since the lookup (under the model lock: never)
        raise Conflict(
            f"The alias '{name}' was just created by someone else; try again.", code="alias_exists"
        ) from None
    if moves:
        _record(
            model=locked_model, name=name, action=AliasAction.MOVED if previous else AliasAction.SET,
            from_version=previous, to_version=locked_version, protected=now_protected, actor=actor, at=now, meta=meta,
        )  # fmt: skip
        _send_moved(
            model_id=locked_model.pk, name=name, from_id=previous.pk if previous else None,
            to_id=locked_version.pk, actor=actor,
        )  # fmt: skip
    if flag_changes and previous is not None:  # a new alias's flag is in its `set` row
        _record(
            model=locked_model, name=name,
            action=AliasAction.PROTECTED if now_protected else AliasAction.UNPROTECTED,
            from_version=locked_version, to_version=locked_version, protected=now_protected,
            actor=actor, at=now, meta=meta,
        )  # fmt: skip
    return alias


@transaction.atomic
def alias_delete(*, model: RegisteredModel, name: str, actor, meta: RequestMeta | None = None) -> None:
    """Remove the alias; its history stays (a `deleted` row pointing nowhere)."""
    cleaned = (name or "").strip().lower() if isinstance(name, str) else ""
    _check_may_change_some(actor, model)
    locked_model = _lock_model(model)
    alias = (
        ModelAlias.objects.select_for_update(of=("self",))
        .select_related("version")
        .filter(model=locked_model, name=cleaned)
        .first()
    )
    if alias is None:
        raise NotFound(f"{model.full_name} has no alias '{name}'.", code="alias_not_found")
    _check_actor(actor, locked_model, needs_reviewer=alias.protected, name=cleaned)
    previous = alias.version
    alias.delete()
    _record(
        model=locked_model, name=cleaned, action=AliasAction.DELETED, from_version=previous, to_version=None,
        protected=alias.protected, actor=actor, at=timezone.now(), meta=meta,
    )  # fmt: skip
    _send_moved(model_id=locked_model.pk, name=cleaned, from_id=previous.pk, to_id=None, actor=actor)


# --- Reads ---


def alias_resolve(*, model: RegisteredModel, name: str) -> ModelVersion:
    """The version the alias points at now (its model and owner joined); NotFound otherwise.

    It says nothing of who may see the version: callers that serve a user go through
    `selectors.version_get(version="@<alias>")`, which applies the visibility rules.
    """
    cleaned = (name or "").strip().lower() if isinstance(name, str) else ""
    version = ModelVersion.objects.select_related("model__owner").filter(model=model, aliases__name=cleaned).first()
    if version is None:
        raise NotFound(f"{model.full_name} has no alias '{name}'.", code="alias_not_found")
    return version


def alias_list(model: RegisteredModel) -> QuerySet[ModelAlias]:
    """The model's aliases by name, with their version and who last changed them."""
    return ModelAlias.objects.filter(model=model).select_related("version", "updated_by").order_by("name")


def alias_history(
    *, model: RegisteredModel, name: str, at: datetime | None = None
) -> QuerySet[AliasChange] | ModelVersion | None:
    """Without `at`: the alias's changes, newest first (kept after the alias is deleted).
    With `at`: the version it pointed at on that instant, or None (not yet set, or deleted)."""
    cleaned = (name or "").strip().lower() if isinstance(name, str) else ""
    changes = AliasChange.objects.filter(model=model, alias=cleaned).order_by("-at", "-pk")
    if at is None:
        return changes.select_related("to_version", "from_version", "actor")
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_current_timezone())
    change = changes.filter(at__lte=at).select_related("to_version__model__owner").first()
    return change.to_version if change is not None else None


def aliases_pointing_at(version: ModelVersion) -> list[str]:
    """The names of the aliases pointing at the version (from a prefetch when there is one)."""
    return sorted(alias.name for alias in version.aliases.all())


def alias_warning(name: str, version: ModelVersion) -> str | None:
    """The warning an alias carries when its version was deprecated after it was set."""
    if not version.is_deprecated:
        return None
    reason = f" ({version.deprecation_reason})" if version.deprecation_reason else ""
    return (
        f"The alias '{name}' points at {version.version}, which is deprecated{reason}: move it to a maintained version."
    )
