"""What `log_model(..., registered_model_name=...)` means in the registry.

An MLflow model version becomes a registry version through the registry's own services, so
it is what any upload would be: files stored content-addressed and scanned, the run's params
and metrics kept as the version's params and *reported* metrics, submitted for review (its
evaluations queued), audited. MLflow's integer version number is kept beside it, for the
MLflow API only.

The semantic version (documented in the README): the run's `registry.version` tag (or the
version's own `registry.version` tag) when it is a valid SemVer, otherwise MLflow's number
`N` as `N.0.0`.
"""

from dataclasses import dataclass

import yaml
from django.core.files import File
from django.db import transaction
from django.db.models import Max

from models_app.blobs import blob_open
from models_app.models import Framework, ModelVersion, RegisteredModel
from models_app.paths import InvalidPath, sanitize_path
from models_app.semver import InvalidVersion, parse_version
from models_app.services import file_upload, model_update, version_create
from registry_site.errors import Conflict
from reviews_app.services import version_submit

from ..models import Artifact, LoggedModel, ModelVersionLink, Run
from .paths import artifact_path, logged_model_root, run_root
from .protocol import MlflowError, invalid
from .tracking import reported_metrics

VERSION_TAG = "registry.version"
MAX_FILES = 100
MAX_MLMODEL = 256 * 1024
FLAVOR_FRAMEWORKS = {  # MLmodel's flavors, first match wins
    "sklearn": Framework.SCIKIT_LEARN,
    "onnx": Framework.ONNX,
    "pytorch": Framework.PYTORCH,
    "tensorflow": Framework.TENSORFLOW,
    "keras": Framework.TENSORFLOW,
    "xgboost": Framework.XGBOOST,
}


@dataclass
class Source:
    """The registry-stored artifacts a `source` names: a folder of the caller's uploads."""

    root: str
    run: Run | None
    logged_model: LoggedModel | None


def resolve_source(user, *, source: str, run_id: str = "", model_id: str = "") -> Source:
    """The folder `source` names, if the registry stored it for this user; never a path or
    URL the server would open. Accepted: `models:/<logged model id>`, `runs:/<run id>/<path>`,
    and `mlflow-artifacts:/runs/<you>/...` as this registry handed them out."""
    username = user.username
    logged_model = None
    if model_id or source.startswith("models:/m-"):
        wanted = model_id or source.removeprefix("models:/").strip("/")
        logged_model = LoggedModel.objects.select_related("run").filter(pk=wanted, owner=user).first()
        if logged_model is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Logged model '{wanted[:40]}' not found.")
        run = logged_model.run
        if run_id and (run is None or run.run_id != run_id):
            raise invalid("run_id is not the run that logged this model.")
        return Source(logged_model_root(username, logged_model.model_id), run, logged_model)
    if source.startswith("runs:/"):
        source_run_id, _, path = source.removeprefix("runs:/").partition("/")
        run = Run.objects.filter(pk=source_run_id, owner=user).first()
        if run is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Run '{source_run_id[:40]}' not found.")
        root = run_root(username, run.run_id)
        return Source("/".join([root, *artifact_path(path)]) if path else root, run, None)
    if source.startswith("mlflow-artifacts:/"):
        segments = artifact_path(source.removeprefix("mlflow-artifacts:/").strip("/"))
        if segments[:2] != ["runs", username] or len(segments) < 4:
            raise MlflowError(
                "PERMISSION_DENIED", "A model version's source must be artifacts this registry stored for you."
            )
        run = Run.objects.filter(pk=segments[2], owner=user).first() if segments[2] != "models" else None
        if segments[2] == "models":
            logged_model = LoggedModel.objects.select_related("run").filter(pk=segments[3], owner=user).first()
            run = logged_model.run if logged_model else None
        return Source("/".join(segments), run, logged_model)
    raise invalid(
        "A model version's source must be artifacts logged to this registry (models:/<model id>, runs:/<run id>/<path> "
        "or the mlflow-artifacts: URI it handed out); it never reads other paths or URLs."
    )


def _semver(number: int, run: Run | None, tags: dict) -> str:
    wanted = tags.get(VERSION_TAG) or (run.tags.get(VERSION_TAG) if run else None)
    if not wanted:
        return f"{number}.0.0"
    try:
        return parse_version(wanted).text
    except InvalidVersion as error:
        raise invalid(f"The {VERSION_TAG} tag '{wanted[:40]}' is not a semantic version: {error}") from None


def framework_of(artifacts: list[Artifact], root: str) -> str | None:
    """The framework the MLmodel file's flavors name, if any (read with yaml.safe_load)."""
    mlmodel = next((artifact for artifact in artifacts if artifact.path == f"{root}/MLmodel"), None)
    if mlmodel is None or mlmodel.blob.size > MAX_MLMODEL:
        return None
    with blob_open(mlmodel.blob_id) as handle:
        try:
            document = yaml.safe_load(handle.read())
        except yaml.YAMLError:
            return None
    flavors = document.get("flavors") if isinstance(document, dict) else None
    if not isinstance(flavors, dict):
        return None
    return next((framework for flavor, framework in FLAVOR_FRAMEWORKS.items() if flavor in flavors), None)


class _StoredFile(File):
    """An artifact's blob, handed to `file_upload` like an upload already hashed."""

    def __init__(self, artifact: Artifact, name: str):
        super().__init__(blob_open(artifact.blob_id), name=name)
        self.sha256 = artifact.blob_id
        self._size = artifact.blob.size

    @property
    def size(self) -> int:
        return self._size


def register_version(
    *, user, model: RegisteredModel, source: Source, description: str, tags: dict, source_uri: str
) -> ModelVersion:
    """Create, fill and submit the registry version for an MLflow model version, or nothing.

    The files are the source folder's artifacts (at most MAX_FILES), under their paths inside
    it. Everything happens in one transaction: a refusal anywhere (no files, a bad path, a
    version number not above the published ones) leaves no version behind.
    """
    artifacts = list(
        Artifact.objects.select_related("blob").filter(owner=user, path__startswith=source.root + "/").order_by("path")
    )
    if not artifacts:
        raise invalid(f"Nothing was uploaded under {source.root}: log the model's files before registering it.")
    if len(artifacts) > MAX_FILES:
        raise invalid(f"A model version holds at most {MAX_FILES} files; {source.root} has {len(artifacts)}.")
    try:
        paths = [sanitize_path(artifact.path.removeprefix(source.root + "/")) for artifact in artifacts]
    except InvalidPath as error:
        raise invalid(error.detail) from None
    run = source.run
    with transaction.atomic():
        RegisteredModel.objects.select_for_update().filter(pk=model.pk).first()
        number = (ModelVersionLink.objects.filter(model=model).aggregate(top=Max("number"))["top"] or 0) + 1
        semver = _semver(number, run, tags)
        try:
            version = version_create(
                model=model,
                version=semver,
                created_by=user,
                changelog=description,
                params={key: value for key, value in (run.params if run else {}).items()},
                reported_metrics=reported_metrics(run) if run else {},
            )
        except Conflict as refused:
            if refused.code not in ("version_exists", "version_not_greater"):
                raise
            raise invalid(
                f"{refused.detail} Set the run's {VERSION_TAG} tag to the version to register "
                f"(mlflow.set_tag('{VERSION_TAG}', '2.0.0')); MLflow's version {number} would be {semver}."
            ) from None
        for artifact, path in zip(artifacts, paths, strict=True):
            stored = _StoredFile(artifact, path)
            try:
                file_upload(version=version, uploaded_file=stored, actor=user, path=path)
            finally:
                stored.close()
        ModelVersionLink.objects.create(
            version=version,
            model=model,
            number=number,
            source=source_uri[:1024],
            run=run,
            logged_model=source.logged_model,
            description=description,
            tags=tags,
        )
        framework = framework_of(artifacts, source.root)
        if framework and model.framework == Framework.OTHER:
            model_update(model=model, actor=user, framework=framework)
        version_submit(version=version, actor=user, note=f"Registered through the MLflow API as version {number}.")
    return version
