from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from .blobs import blob_key
from .formats import MODEL_FORMATS, Format, format_warning
from .querysets import PUBLIC_STATUSES, ModelVersionQuerySet, RegisteredModelQuerySet

NAME_RE = r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$"
name_validator = RegexValidator(
    NAME_RE,
    "Use 1 to 100 lowercase letters, digits, '.', '-' or '_', starting and ending with a letter or digit.",
)


class Task(models.TextChoices):
    IMAGE_CLASSIFICATION = "image-classification", "Image classification"
    OBJECT_DETECTION = "object-detection", "Object detection"
    IMAGE_SEGMENTATION = "image-segmentation", "Image segmentation"
    TEXT_CLASSIFICATION = "text-classification", "Text classification"
    SENTIMENT_ANALYSIS = "sentiment-analysis", "Sentiment analysis"
    TRANSLATION = "translation", "Translation"
    TABULAR_CLASSIFICATION = "tabular-classification", "Tabular classification"
    TABULAR_REGRESSION = "tabular-regression", "Tabular regression"
    RECOMMENDATION = "recommendation", "Recommendation"
    ANOMALY_DETECTION = "anomaly-detection", "Anomaly detection"
    OTHER = "other", "Other"


class Framework(models.TextChoices):
    SCIKIT_LEARN = "scikit-learn", "scikit-learn"
    PYTORCH = "pytorch", "PyTorch"
    TENSORFLOW = "tensorflow", "TensorFlow"
    ONNX = "onnx", "ONNX"
    XGBOOST = "xgboost", "XGBoost"
    OTHER = "other", "Other"


class License(models.TextChoices):
    """The SPDX identifiers offered; LicenseRef-Proprietary for closed models."""

    APACHE_2 = "Apache-2.0", "Apache 2.0"
    MIT = "MIT", "MIT"
    BSD_3 = "BSD-3-Clause", "BSD 3-Clause"
    BSD_2 = "BSD-2-Clause", "BSD 2-Clause"
    MPL_2 = "MPL-2.0", "Mozilla Public License 2.0"
    GPL_3 = "GPL-3.0-only", "GPL 3.0"
    LGPL_3 = "LGPL-3.0-only", "LGPL 3.0"
    AGPL_3 = "AGPL-3.0-only", "AGPL 3.0"
    EPL_2 = "EPL-2.0", "Eclipse Public License 2.0"
    CC_BY_4 = "CC-BY-4.0", "CC BY 4.0"
    CC_BY_SA_4 = "CC-BY-SA-4.0", "CC BY-SA 4.0"
    CC_BY_NC_4 = "CC-BY-NC-4.0", "CC BY-NC 4.0"
    CC_BY_NC_SA_4 = "CC-BY-NC-SA-4.0", "CC BY-NC-SA 4.0"
    CC0 = "CC0-1.0", "CC0 1.0"
    UNLICENSE = "Unlicense", "The Unlicense"
    PROPRIETARY = "LicenseRef-Proprietary", "Proprietary"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"


EDITABLE_STATUSES = (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED)


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registered_models")
    name = models.CharField(max_length=100, validators=[name_validator])
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="The model card, in Markdown.")
    task = models.CharField(max_length=32, choices=Task.choices)
    framework = models.CharField(max_length=32, choices=Framework.choices)
    license = models.CharField(max_length=64, choices=License.choices)
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    # Tag names, space-separated, kept beside the M2M so search needs no join.
    tags_text = models.CharField(max_length=1000, blank=True, editable=False)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    download_count = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Filled on PostgreSQL only (weighted name, summary, tags, card); SQLite has an FTS5 table
    # instead. Both are kept by models_app/search.py.
    search_vector = SearchVectorField(null=True, editable=False)
    # The review promise (models_app/cards.py): the columns above are the published card;
    # the owner's edits since the last approval wait here, and a model without a published
    # or deprecated version is seen only by its owner, reviewers and staff. Both are kept by
    # the services (model_update, model_publish_card), never by hand.
    pending_card = models.JSONField(default=dict, blank=True, editable=False)
    has_release = models.BooleanField(default=False, editable=False)

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_model_name_per_owner")]
        indexes = [
            models.Index(fields=["-updated_at"]),
            models.Index(fields=["-download_count"]),
            models.Index(fields=["task"]),
            models.Index(fields=["framework"]),
            models.Index(fields=["license"]),
            # The public catalog's filter (public and released); lists then sort within it.
            models.Index(fields=["has_release", "visibility"], name="model_public_release"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("model-detail", kwargs={"owner": self.owner.username, "name": self.name})

    @property
    def full_name(self) -> str:
        return f"{self.owner.username}/{self.name}"


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64)
    major = models.PositiveIntegerField(editable=False)
    minor = models.PositiveIntegerField(editable=False)
    patch = models.PositiveIntegerField(editable=False)
    prerelease_key = models.CharField(max_length=255, editable=False)
    status = models.CharField(max_length=32, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    changelog = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    reported_metrics = models.JSONField(default=dict, blank=True)
    signature = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="created_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    deprecation_reason = models.CharField(max_length=1000, blank=True)
    download_count = models.PositiveBigIntegerField(default=0, editable=False)
    # The model card this version carries (models_app/cards.py), copied at submission: what its
    # reviewer sees, and what approval publishes.
    card = models.JSONField(default=dict, blank=True, editable=False)
    # The file the registry runs when it evaluates the version, chosen by the owner when the
    # version holds more than one model; empty: the first runnable file. Removing the file
    # empties it (and the results computed on it are withdrawn from the version page).
    evaluated_file = models.ForeignKey(
        "ModelFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="unique_version_per_model")]
        indexes = [
            models.Index(fields=["model", "major", "minor", "patch", "prerelease_key"], name="version_semver_order"),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return f"{self.model.full_name} {self.version}"  # as people name it: alice/iris-classifier 1.1.0

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def is_prerelease(self) -> bool:
        return self.prerelease_key != "z"

    @property
    def is_deprecated(self) -> bool:
        return self.status == VersionStatus.DEPRECATED


class Blob(models.Model):
    """Bytes stored once, addressed by their SHA-256; the key is derived, never given."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=32, choices=Format.CHOICES, default=Format.UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sha256:{self.sha256}"

    @property
    def storage_key(self) -> str:
        return blob_key(self.sha256)


CODE_ON_LOAD_FORMATS = (Format.PICKLE, Format.JOBLIB, Format.PYTORCH)


class ScanStatus(models.TextChoices):
    PENDING = "pending", "Not scanned yet"
    CLEAN = "clean", "Clean"
    FLAGGED = "flagged", "Flagged"
    ERROR = "error", "Could not be scanned"


class ModelFile(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=512)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="files")
    scan_status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING)
    # What the scan found, one sentence each ("imports posix.system"), and its report
    # (scanners run, their versions and notes); written by the scan, never by a user.
    scan_findings = models.JSONField(default=list, blank=True, editable=False)
    scan_report = models.JSONField(default=dict, blank=True, editable=False)
    scanned_at = models.DateTimeField(null=True, blank=True, editable=False)
    download_count = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "path"], name="unique_file_path_per_version")]
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.version} {self.path}"  # alice/iris-classifier 1.1.0 model.onnx

    @property
    def sha256(self) -> str:
        return self.blob_id

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def format(self) -> str:
        return self.blob.format

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def format_warning(self) -> str:
        """Why its bytes look wrong for a model upload ("garbage.onnx ... its bytes are Text"), or ""."""
        return format_warning(self.path, self.format)

    @property
    def is_model(self) -> bool:
        return self.format in MODEL_FORMATS

    @property
    def can_run_code(self) -> bool:
        """Loading a pickle-family file can run code, whatever a scan said of it."""
        return self.format in CODE_ON_LOAD_FORMATS


ALIAS_RE = r"^[a-z0-9][a-z0-9_-]{0,62}$"
alias_validator = RegexValidator(
    ALIAS_RE, "Use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit."
)


class ModelAlias(models.Model):
    """A name (`production`) that points at one published version of its model. Moved only by
    the services in models_app/aliases.py, which record each move in AliasChange."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=63, validators=[alias_validator])
    # RESTRICT, not PROTECT: a version an alias points at cannot be deleted on its own (it is
    # published, and people resolve the alias), but when its model goes (with its owner's
    # account, say) the alias goes in the same cascade, which PROTECT would refuse.
    version = models.ForeignKey(ModelVersion, on_delete=models.RESTRICT, related_name="aliases")
    protected = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="unique_alias_per_model")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.model_id}@{self.name}"


class AliasAction(models.TextChoices):
    SET = "set", "Set"
    MOVED = "moved", "Moved"
    DELETED = "deleted", "Deleted"
    PROTECTED = "protected", "Protected"
    UNPROTECTED = "unprotected", "Unprotected"


class AliasChange(models.Model):
    """One change of an alias, append-only: what `production` pointed at, and when, survives
    the alias itself. The versions' labels are copied, so a row reads the same if a version
    row ever goes."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="alias_changes")
    alias = models.CharField(max_length=63)
    action = models.CharField(max_length=16, choices=AliasAction.choices)
    from_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_label = models.CharField(max_length=64, blank=True)
    to_label = models.CharField(max_length=64, blank=True)  # empty: the alias was deleted
    protected = models.BooleanField(default=False)  # the alias's flag after the change
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["model", "alias", "at"], name="alias_change_at")]
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.alias} {self.action} {self.from_label or '-'} → {self.to_label or '-'}"
