"""Writes and state changes of the catalog. Every entry point (pages, API, admin,
management commands, tasks) goes through these, so they cannot drift apart."""

import logging
from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Model, OuterRef, ProtectedError, QuerySet, RestrictedError
from django.utils import timezone
from django.utils.text import slugify

from registry_site.audit import audit
from registry_site.errors import Conflict, DomainError, NotFound, full_clean

from . import search
from .blobs import SHA256_RE, blob_delete, blob_sha256_of, blob_store
from .cards import TEXT_FIELDS, Card, published_card, version_card, working_card
from .formats import DATA_FORMATS, detect_format, format_label
from .models import Blob, ModelFile, ModelVersion, RegisteredModel, ScanStatus, Tag, VersionStatus
from .paths import sanitize_path
from .querysets import PUBLIC_STATUSES
from .semver import InvalidVersion, parse_version
from .signals import file_uploaded

log = logging.getLogger(__name__)
MAX_TAGS = 20
MODEL_FIELDS = ("summary", "description", "task", "framework", "license", "visibility")
VERSION_FIELDS = ("changelog", "params", "reported_metrics", "signature")


def normalize_newlines(text: str) -> str:
    """Browsers send a textarea's lines ending in CR LF: stored as LF, so a card or changelog
    saved back unchanged from a page is no change (and no audit event)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


def normalize_tags(tags: list[str] | None) -> list[str]:
    names: list[str] = []
    for raw in tags or []:
        if not isinstance(raw, str):
            raise DomainError("Tags must be strings.", field="tags")
        name = slugify(raw)[:50]
        if not name:
            raise DomainError(f"'{raw}' is not a usable tag: use letters, digits and '-'.", field="tags")
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise DomainError(f"A model can have at most {MAX_TAGS} tags.", field="tags")
    return names


def _set_tags(model: RegisteredModel, names: list[str]) -> None:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    model.tags.set(Tag.objects.filter(name__in=names))
    model.tags_text = " ".join(names)


def _refresh_search_vector(model_id: int) -> None:
    """The model's row in the search index, on either database (models_app/search.py)."""
    search.index_refresh(model_id)


@transaction.atomic
def model_create(
    *,
    owner,
    name: str,
    task: str,
    framework: str,
    license: str,
    summary: str = "",
    description: str = "",
    tags: list[str] | None = None,
    visibility: str = "public",
    actor=None,
) -> RegisteredModel:
    """Register a model; `actor` is who did it (its owner unless given: staff, a script)."""
    model = RegisteredModel(
        owner=owner,
        name=(name or "").strip(),
        summary=summary,
        description=normalize_newlines(description),
        task=task,
        framework=framework,
        license=license,
        visibility=visibility,
    )
    full_clean(model, exclude=["owner"])
    tag_names = normalize_tags(tags)
    if RegisteredModel.objects.filter(owner=owner, name=model.name).exists():
        raise Conflict(f"You already have a model named '{model.name}'.", code="name_taken")
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        raise Conflict(f"You already have a model named '{model.name}'.", code="name_taken") from None
    _set_tags(model, tag_names)
    model.save(update_fields=["tags_text"])
    _refresh_search_vector(model.pk)
    audit(
        actor=actor if actor is not None else owner, action="model.create", model_full_name=model.full_name,
        to_status=model.visibility, data={"task": model.task, "framework": model.framework, "license": model.license},
    )  # fmt: skip
    return model


def field_changes(before: dict, after: dict) -> dict:
    """{field: {"from": old, "to": new}} for the fields whose value changed: an event's what."""
    return {name: {"from": before.get(name), "to": value} for name, value in after.items() if before.get(name) != value}


@transaction.atomic
def model_update(*, model: RegisteredModel, actor, tags: list[str] | None = None, **fields: Any) -> RegisteredModel:
    """Change a model's card and metadata (the admin's edits too, so the tags and the search
    fields stay in step). A change of visibility is one audit event (`model.visibility`), any
    change of the card another (`model.update`, with each field's from and to, pending or not).

    1. Lock the model row and read it again: the published card, the pending edits and
       `has_release` as stored, not as this instance remembers them. Approval locks the same
       row first, so an edit and an approval never interleave.
    2. Apply the changes to the working copy (models_app/cards.py) and validate it.
    3. A model without a release takes the card into its columns (nobody outside its owner,
       reviewers and staff can see it). A released model keeps its published columns and
       stores the difference in `pending_card`, to go public with the next approved version;
       `updated_at` does not move, since nothing public changed.
    """
    unknown = set(fields) - set(MODEL_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    locked = RegisteredModel.objects.select_for_update().select_related("owner").filter(pk=model.pk).first()
    if locked is None:
        raise NotFound(f"{model.full_name} was deleted.")
    stored_visibility = locked.visibility
    if "description" in fields:
        fields["description"] = normalize_newlines(fields["description"])
    changes = {name: value for name, value in fields.items() if name in TEXT_FIELDS}
    if tags is not None:
        changes["tags"] = normalize_tags(tags)
    before = working_card(locked)
    working = Card.from_data(changes, base=before)
    # Validate the working copy with the model's own field rules (choices, lengths, NUL).
    candidate = RegisteredModel(
        owner=locked.owner, name=locked.name, visibility=fields.get("visibility", locked.visibility),
        **{name: getattr(working, name) for name in TEXT_FIELDS},
    )  # fmt: skip
    full_clean(candidate, exclude=["owner", "name"])
    locked.visibility = candidate.visibility
    if locked.has_release:
        locked.pending_card = working.changes_from(published_card(locked))
        RegisteredModel.objects.filter(pk=locked.pk).update(
            pending_card=locked.pending_card, visibility=locked.visibility
        )
    else:
        _card_to_columns(locked, working)
        locked.pending_card = {}
        locked.save()
        _refresh_search_vector(locked.pk)
    if locked.visibility != stored_visibility:
        audit(
            actor=actor, action="model.visibility", model_full_name=locked.full_name,
            from_status=stored_visibility, to_status=locked.visibility,
        )  # fmt: skip
    edited = field_changes(before.as_dict(), working.as_dict())
    if edited:
        audit(
            actor=actor, action="model.update", model_full_name=locked.full_name,
            data={"changes": edited, **({"pending_review": True} if locked.has_release else {})},
        )  # fmt: skip
    return locked


def _card_to_columns(model: RegisteredModel, card: Card) -> None:
    """Set the published columns (and the tags) from a card; the caller saves the row."""
    for name in TEXT_FIELDS:
        setattr(model, name, getattr(card, name))
    if list(card.tags) != sorted((model.tags_text or "").split()):
        _set_tags(model, list(card.tags))


def model_publish_card(*, version: ModelVersion) -> RegisteredModel:
    """Make the card an approved version carries the model's published card.

    Called by the approval service inside its transaction, with the version from
    `lock_version` (its model row locked, and read under the lock). Sets `has_release`, takes
    the version's card into the columns (and so into search and the facets), and keeps in
    `pending_card` only the edits the owner made after submitting, which wait for the next
    version.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("model_publish_card() must run in the approval's transaction.")
    model = version.model
    card, working = version_card(version), working_card(model)
    _card_to_columns(model, card)
    model.pending_card = working.changes_from(card)
    model.has_release = True
    model.save(
        update_fields=[*TEXT_FIELDS, "tags_text", "pending_card", "has_release"]
    )  # updated_at: model_mark_published
    _refresh_search_vector(model.pk)
    return model


@transaction.atomic
def model_delete(*, model: RegisteredModel, actor) -> None:
    """Delete a model and everything in it; the blobs go with the next garbage collection.

    1. Lock the model row, then its versions' rows. An approval locks its version row, so
       it either committed before (and step 2 sees the published version) or waits, and
       then finds the version gone.
    2. Refuse if a version is published or deprecated: people may depend on them.
    3. Record the audit event (with the versions that go), then delete.
    """
    locked = RegisteredModel.objects.select_for_update().filter(pk=model.pk).first()
    if locked is None:
        raise NotFound(f"{model.full_name} was already deleted.")
    statuses = dict(ModelVersion.objects.select_for_update().filter(model=locked).values_list("version", "status"))
    if any(status in PUBLIC_STATUSES for status in statuses.values()):
        raise Conflict(
            "This model has published versions that others may depend on; deprecate them instead of deleting the model.",
            code="has_published_versions",
        )
    audit(
        actor=actor, action="model.delete", model_full_name=locked.full_name,
        from_status=locked.visibility, to_status="deleted", data={"versions": statuses},
    )  # fmt: skip
    locked.delete()  # the search index's row goes with it (search.CREATE_DELETE_TRIGGER)


@transaction.atomic
def version_create(
    *,
    model: RegisteredModel,
    version: str,
    created_by,
    changelog: str = "",
    params: dict | None = None,
    reported_metrics: dict | None = None,
    signature: dict | None = None,
) -> ModelVersion:
    """Create a draft version.

    1. Parse the version as SemVer (stored as sortable parts).
    2. Lock the model row so two creations of versions of one model run one at a time.
    3. Refuse a duplicate, or a version not greater than every published one.
    """
    try:
        parsed = parse_version(version)
    except InvalidVersion as error:
        raise DomainError(str(error), code="invalid_version", field="version") from None
    if RegisteredModel.objects.select_for_update().filter(pk=model.pk).first() is None:
        raise NotFound(f"{model.full_name} was deleted.")  # by a model_delete that held the lock
    if model.versions.filter(version=parsed.text).exists():
        raise Conflict(f"Version {parsed.text} already exists for {model.full_name}.", code="version_exists")
    latest = model.versions.public().semver_order().first()
    if latest and parsed.ordering <= (latest.major, latest.minor, latest.patch, latest.prerelease_key):
        raise Conflict(
            f"Version {parsed.text} must be greater than {latest.version}, the latest published version.",
            code="version_not_greater",
        )
    instance = ModelVersion(
        model=model,
        version=parsed.text,
        major=parsed.major,
        minor=parsed.minor,
        patch=parsed.patch,
        prerelease_key=parsed.prerelease_key,
        status=VersionStatus.DRAFT,
        created_by=created_by,
        changelog=normalize_newlines(changelog or ""),
        params=params or {},
        reported_metrics=reported_metrics or {},
        signature=signature or {},
    )
    _validate_version_data(instance)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise Conflict(f"Version {parsed.text} already exists for {model.full_name}.", code="version_exists") from None
    RegisteredModel.objects.filter(pk=model.pk).update(updated_at=instance.created_at)
    audit(actor=created_by, action="version.create", version=instance, to_status=instance.status)
    return instance


def model_mark_published(*, model_id: int, at) -> None:
    """A version of the model was published: "Recently updated" (the model's `updated_at`)
    moves to that moment. Called inside the approval's transaction, under its model lock."""
    RegisteredModel.objects.filter(pk=model_id).update(updated_at=at)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class VersionDataInvalid(DomainError):
    """Every problem of a version's metadata at once: `errors` holds (field, sentence) pairs,
    so a form shows each beside its field and the API names them all in one detail (with the
    code every bad field value has, "invalid")."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(" ".join(message for _, message in errors), field=errors[0][0])
        self.errors = errors


def _validate_version_data(version: ModelVersion) -> None:
    errors: list[tuple[str, str]] = []
    # PostgreSQL's jsonb cannot hold a NUL character; refuse it here rather than fail there.
    for field in ("params", "reported_metrics", "signature"):
        if _has_nul(getattr(version, field)):
            errors.append((field, f"{field} contains a NUL character."))
    if not isinstance(version.params, dict):
        errors.append(("params", "params must be a JSON object."))
    if not isinstance(version.reported_metrics, dict):
        errors.append(("reported_metrics", "reported_metrics must be a JSON object."))
    else:
        for key, value in version.reported_metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(("reported_metrics", f"reported_metrics.{key} must be a number."))
    errors += [("signature", message) for message in signature_problems(version.signature)]
    if errors:
        raise VersionDataInvalid(errors)


MAX_SIGNATURE_SPECS = 100
MAX_SIGNATURE_LABELS = 1000


def _labels_problem(where: str, key: str, value: Any, kinds: tuple[type, ...]) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_SIGNATURE_LABELS:
        return f"{where}.{key} must be a list of at most {MAX_SIGNATURE_LABELS} labels."
    if not all(isinstance(item, kinds) and not isinstance(item, bool) for item in value):
        names = " or ".join("strings" if kind is str else "integers" for kind in kinds)
        return f"{where}.{key} must hold {names}."
    return None


def signature_problems(signature: Any) -> list[str]:
    """Every problem of a signature, one sentence each ([] when it is valid).

    A signature is {"inputs": [...], "outputs": [...]}, each a list of {name, type, shape?};
    an input may name the table `columns` it takes, an output the `classes` its indices mean.
    """
    if not isinstance(signature, dict):
        return ["signature must be a JSON object with 'inputs' and 'outputs'."]
    problems = []
    unknown = set(signature) - {"inputs", "outputs"}
    if unknown:
        problems.append(f"signature has unknown keys: {', '.join(sorted(unknown))}.")
    for side in ("inputs", "outputs"):
        specs = signature.get(side, [])
        if not isinstance(specs, list):
            problems.append(f"signature.{side} must be a list.")
            continue
        if len(specs) > MAX_SIGNATURE_SPECS:
            problems.append(f"signature.{side} has {len(specs)} entries; at most {MAX_SIGNATURE_SPECS} are kept.")
            continue
        names = [spec.get("name") for spec in specs if isinstance(spec, dict)]
        for index, spec in enumerate(specs):
            where = f"signature.{side}[{index}]"
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("name"), str)
                or not isinstance(spec.get("type"), str)
                or not spec["name"].strip()
                or not spec["type"].strip()
            ):
                problems.append(f"{where} needs a 'name' and a 'type' (strings).")
                continue
            if names.count(spec["name"]) > 1 and names.index(spec["name"]) == index:
                problems.append(f"signature.{side} names '{spec['name']}' more than once.")
            shape = spec.get("shape")
            if shape is not None and (
                not isinstance(shape, list)
                or not all((isinstance(d, int) and not isinstance(d, bool)) or d is None for d in shape)
            ):
                problems.append(f"{where}.shape must be a list of integers or nulls.")
            if "classes" in spec:
                problems.append(_labels_problem(where, "classes", spec["classes"], (str, int)))
            if "columns" in spec:
                problems.append(_labels_problem(where, "columns", spec["columns"], (str,)))
    return [problem for problem in problems if problem]


def validate_signature(signature: Any) -> None:
    problems = signature_problems(signature)
    if problems:
        raise VersionDataInvalid([("signature", problem) for problem in problems])


def lock_version(version: ModelVersion) -> ModelVersion | None:
    """Lock a version's model row, then the version row, and return the version (its model and
    owner joined), or None when it is gone. Every writer takes the locks in this order, model
    first, as `model_delete` does, so a delete and a version transition at once wait for each
    other instead of deadlocking."""
    if not RegisteredModel.objects.select_for_update().filter(pk=version.model_id).exists():
        return None
    return (
        ModelVersion.objects.select_for_update(of=("self",))
        .select_related("model__owner")
        .filter(pk=version.pk)
        .first()
    )


def _lock_editable_version(version: ModelVersion) -> ModelVersion:
    locked = lock_version(version)
    if locked is None:
        raise NotFound(f"Version {version.version} no longer exists.")
    if not locked.is_editable:
        raise Conflict(
            f"Version {locked.version} is {locked.get_status_display().lower()}; its files and details are frozen. "
            "Create a new version to change them.",
            code="version_frozen",
        )
    return locked


def version_adopt_signature(*, model_file_id: int, signature: dict) -> bool:
    """The signature read from an uploaded file becomes its version's, if the version is still
    editable and declares none (a signature the owner typed is never overwritten). Returns
    whether it was stored."""
    if signature_problems(signature):
        return False
    with transaction.atomic():
        model_file = ModelFile.objects.select_related("version").filter(pk=model_file_id).first()
        locked = lock_version(model_file.version) if model_file is not None else None
        if locked is None or not locked.is_editable or has_signature(locked):
            return False
        locked.signature = signature
        locked.save(update_fields=["signature", "updated_at"])
    return True


def has_signature(version: ModelVersion) -> bool:
    signature = version.signature if isinstance(version.signature, dict) else {}
    return bool(signature.get("inputs") or signature.get("outputs"))


@transaction.atomic
def version_update(*, version: ModelVersion, actor, **fields: Any) -> ModelVersion:
    """Change a draft's metadata; the changed fields are one audit event, with from and to."""
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    if "changelog" in fields:
        fields["changelog"] = normalize_newlines(fields["changelog"])
    locked = _lock_editable_version(version)
    before = {field: getattr(locked, field) for field in fields}
    for field, value in fields.items():
        setattr(locked, field, value)
    _validate_version_data(locked)
    locked.save()
    changes = field_changes(before, fields)
    if changes:
        audit(actor=actor, action="version.update", version=locked, data={"changes": changes})
    return locked


def file_upload(*, version: ModelVersion, uploaded_file, actor, path: str | None = None) -> ModelFile:
    """Store an uploaded file in a draft version.

    1. Check the path (display text only) and that the version takes files.
    2. Write the bytes under their SHA-256 (hashed while the upload streamed in), unless
       identical bytes are stored already.
    3. In one transaction, lock the version, check it is still editable and the path
       free, and record the blob and the file. If this fails after step 2, the blob is
       unreferenced and the periodic collection removes it.
    """
    display_path = sanitize_path(path if path else getattr(uploaded_file, "name", ""))
    if not version.is_editable:
        with transaction.atomic():  # a row lock needs a transaction (PostgreSQL refuses one without)
            _lock_editable_version(version)  # raises the frozen-version error
    if version.files.filter(path=display_path).exists():
        raise Conflict(
            f"A file named '{display_path}' is already in this version; remove it first.", code="file_exists"
        )
    sha256 = getattr(uploaded_file, "sha256", None) or blob_sha256_of(uploaded_file)
    size = uploaded_file.size
    fileobj = uploaded_file.file if hasattr(uploaded_file, "file") else uploaded_file
    file_format = detect_format(fileobj)
    blob_store(sha256=sha256, size=size, fileobj=fileobj)
    with transaction.atomic():
        locked = _lock_editable_version(version)
        # Locked (or created) with the bytes re-checked: the collection cannot remove them
        # between the store above and this reference.
        blob = blob_record(sha256=sha256, size=size, file_format=file_format, fileobj=fileobj)
        try:
            with transaction.atomic():
                model_file = ModelFile.objects.create(
                    version=locked, path=display_path, blob=blob, **_initial_scan(blob.format)
                )
        except IntegrityError:
            raise Conflict(
                f"A file named '{display_path}' is already in this version; remove it first.", code="file_exists"
            ) from None
        ModelVersion.objects.filter(pk=locked.pk).update(updated_at=model_file.created_at)
        audit(
            actor=actor, action="file.upload", version=locked,
            data={"path": display_path, "sha256": sha256, "size": size, "format": blob.format},
        )  # fmt: skip
        transaction.on_commit(lambda: file_uploaded.send(sender=ModelFile, file_id=model_file.pk))
    return model_file


def _initial_scan(file_format: str) -> dict:
    """Data formats run nothing when loaded: clean at once. Everything else waits for its scan."""
    if file_format in DATA_FORMATS:
        return {
            "scan_status": ScanStatus.CLEAN,
            "scan_report": {"reason": "A data format: nothing runs when it is loaded."},
            "scanned_at": timezone.now(),
        }
    return {"scan_status": ScanStatus.PENDING}


@transaction.atomic
def version_choose_evaluated_file(*, version: ModelVersion, path: str, actor) -> ModelVersion:
    """The file of a draft the registry runs when it evaluates the version (a model, not data)."""
    locked = _lock_editable_version(version)
    model_file = locked.files.select_related("blob").filter(path=path).first()
    if model_file is None:
        raise NotFound(f"Version {locked.version} has no file '{path}'.")
    if not model_file.is_model:
        raise DomainError(
            f"{model_file.path} is {format_label(model_file.format)}, not a model: the registry cannot run it.",
            code="not_a_model",
        )
    before = locked.evaluated_file.path if locked.evaluated_file_id else None
    locked.evaluated_file = model_file
    locked.save(update_fields=["evaluated_file", "updated_at"])
    if before != model_file.path:
        audit(
            actor=actor, action="version.evaluated_file", version=locked,
            data={"changes": {"evaluated_file": {"from": before, "to": model_file.path}}},
        )  # fmt: skip
    return locked


@transaction.atomic
def file_delete(*, model_file: ModelFile, actor) -> None:
    """Remove a file from a draft; its blob is collected later if nothing else uses it."""
    locked = _lock_editable_version(model_file.version)
    audit(
        actor=actor, action="file.delete", version=locked, data={"path": model_file.path, "sha256": model_file.blob_id}
    )
    model_file.delete()


def file_record_download(*, model_file: ModelFile) -> None:
    # Counters move with F() updates: concurrent downloads never lose a count.
    version = model_file.version
    ModelFile.objects.filter(pk=model_file.pk).update(download_count=F("download_count") + 1)
    ModelVersion.objects.filter(pk=version.pk).update(download_count=F("download_count") + 1)
    RegisteredModel.objects.filter(pk=version.model_id).update(download_count=F("download_count") + 1)


def blob_record(*, sha256: str, size: int, file_format: str, fileobj) -> Blob:
    """The Blob row for bytes about to be referenced, with the bytes surely stored.

    Call it inside the transaction that records the reference (a file, a test set, an
    evaluation's predictions). The row is locked, or created (and so invisible to others)
    until that transaction commits, so the collection cannot remove it in between. The
    collection deletes the bytes while it holds the same lock, so if it removed them after
    the caller's first `blob_store`, this sees them gone and stores them again.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("blob_record() must run in the transaction that records the reference.")
    blob, _ = Blob.objects.select_for_update().get_or_create(
        sha256=sha256, defaults={"size": size, "format": file_format}
    )
    blob_store(sha256=sha256, size=size, fileobj=fileobj)
    return blob


def blob_references() -> list[tuple[type[Model], str]]:
    """Every (model, field) whose foreign key points at a Blob, in any installed app.

    Read from Django's model registry, so a reference that a later feature or a higher app
    adds counts without this app importing it. `include_hidden`: references named "+" (a
    test set's arrays, an evaluation's predictions) are left out of `related_objects`.
    """
    return [
        (relation.related_model, relation.field.name)
        for relation in Blob._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)
    ]


def _collectable(cutoff) -> QuerySet[Blob]:
    """Blobs older than the cutoff that no row references (NOT EXISTS, which NULLs cannot fool)."""
    queryset = Blob.objects.filter(created_at__lt=cutoff)
    for model, field in blob_references():
        queryset = queryset.filter(~Exists(model._base_manager.filter(**{field: OuterRef("pk")})))
    return queryset


def _candidates(cutoff) -> list[str]:
    return list(_collectable(cutoff).values_list("sha256", flat=True))


def blobs_collect_unreferenced(*, older_than_seconds: int) -> int:
    """Delete blobs (rows and stored bytes) that nothing uses, older than the grace period.

    1. Pick the candidates: old rows that no foreign key to Blob points at (blob_references).
    2. For each, in its own transaction: lock the row (skipping one an upload holds), check
       again that nothing references it (a reference may have appeared since step 1), delete
       the row, then the bytes. A blob that turns out to be in use is skipped, never raised.
    3. Remove stored objects that never got a row (an upload that failed between writing
       the bytes and recording them).

    The bytes go while the row is locked, not after commit: an upload that records the same
    bytes meanwhile (`blob_record`) waits for the lock and then stores them again. Deleting
    them after commit would leave a moment in which an upload records a new row, finds the
    old bytes still there, and then loses them. Returns how many blobs were removed.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    removed = sum(_blob_collect(sha256, cutoff) for sha256 in _candidates(cutoff))
    return removed + _collect_orphan_objects(default_storage, cutoff)


def _blob_collect(sha256: str, cutoff) -> bool:
    try:
        with transaction.atomic():
            if not Blob.objects.select_for_update(skip_locked=True).filter(pk=sha256).exists():
                return False  # gone already, or locked by an upload that is recording a reference
            if not _collectable(cutoff).filter(pk=sha256).exists():
                return False  # referenced since it was picked
            Blob.objects.filter(pk=sha256).delete()
            blob_delete(sha256)
    except (ProtectedError, RestrictedError, IntegrityError, OSError):
        log.warning("blob %s was not collected", sha256, exc_info=True)
        return False
    return True


def _collect_orphan_objects(storage, cutoff) -> int:
    removed = 0
    try:
        top_dirs, _ = storage.listdir("blobs/sha256")
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for first in top_dirs:
        second_dirs, _ = storage.listdir(f"blobs/sha256/{first}")
        for second in second_dirs:
            folder = f"blobs/sha256/{first}/{second}"
            _, names = storage.listdir(folder)
            known = set(Blob.objects.filter(sha256__in=names).values_list("sha256", flat=True))
            for name in names:
                if name in known:
                    continue
                key = f"{folder}/{name}"
                try:
                    modified = storage.get_modified_time(key)
                except (NotImplementedError, OSError):
                    continue
                if modified >= cutoff:
                    continue
                if not SHA256_RE.match(name):
                    storage.delete(key)  # a stray copy (a storage's renamed duplicate): never a blob
                    removed += 1
                elif _orphan_object_delete(name):
                    removed += 1
    return removed


def _orphan_object_delete(sha256: str) -> bool:
    """Delete stored bytes that have no row, unless an upload is recording one right now.

    The row's key is claimed first: a placeholder row inserted in this transaction and
    removed again before it commits. An upload recording the same bytes (`blob_record`)
    meanwhile either got there first (the claim fails, the bytes stay) or waits for this
    commit and then finds the bytes gone and stores them again.
    """
    try:
        with transaction.atomic():
            Blob.objects.create(sha256=sha256, size=0)
            blob_delete(sha256)
            Blob.objects.filter(pk=sha256).delete()
    except IntegrityError:
        return False
    except OSError:
        log.warning("stored object %s was not removed", sha256, exc_info=True)
        return False
    return True
