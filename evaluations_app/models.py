"""Test sets and evaluations: the rows of trusted evaluation.

The tables keep the names they had when these models lived in models_app (the move was
state only, see migrations/0001_initial.py), so existing data stays where it is.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts_app.roles import Action, may
from models_app.models import Blob, ModelFile, ModelVersion, RegisteredModel, Visibility, name_validator


class TestSetTask(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"


class TestSetQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TestSetQuerySet":
        if may(user, Action.SEE_UNPUBLISHED):  # asked without an owner: staff
            return self.all()
        if user is None or not user.is_authenticated:
            return self.filter(visibility=Visibility.PUBLIC)
        return self.filter(models.Q(visibility=Visibility.PUBLIC) | models.Q(owner=user))


class TestSet(models.Model):
    """A labelled table on which the registry evaluates versions itself."""

    __test__ = False  # not a pytest test class, whatever its name says

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="test_sets")
    name = models.CharField(max_length=100, validators=[name_validator])
    description = models.TextField(blank=True)
    task = models.CharField(max_length=16, choices=TestSetTask.choices)
    target_column = models.CharField(max_length=200)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="test_sets")
    # Derived at upload, so an evaluation reads arrays instead of parsing the table again:
    # the features as float32 .npy and the target as .npy (numbers or fixed-width text).
    features_blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+", null=True)
    target_blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+", null=True)
    file_format = models.CharField(max_length=16, choices=[("csv", "CSV"), ("parquet", "Parquet")])
    rows = models.PositiveIntegerField()
    columns = models.JSONField(default=list)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    benchmark = models.BooleanField(default=False, help_text="A shared, curated test set (staff only).")
    # A drop of the headline metric larger than this, against the latest published
    # version, blocks approval unless the reviewer overrides it.
    regression_threshold = models.FloatField(default=0.02)
    created_at = models.DateTimeField(auto_now_add=True)

    # The model owners who ask every submitted version of theirs to be evaluated on this set.
    declared_by = models.ManyToManyField(
        RegisteredModel, blank=True, related_name="evaluate_on", db_table="models_app_registeredmodel_evaluate_on"
    )

    objects = TestSetQuerySet.as_manager()

    class Meta:
        db_table = "models_app_testset"
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_test_set_name_per_owner")]
        ordering = ["owner__username", "name"]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("test-set-detail", kwargs={"owner": self.owner.username, "name": self.name})

    @property
    def full_name(self) -> str:
        return f"{self.owner.username}/{self.name}"

    @property
    def sha256(self) -> str:
        return self.blob_id

    @property
    def feature_columns(self) -> list[str]:
        return [column for column in self.columns if column != self.target_column]


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)


class EvaluationSource(models.TextChoices):
    MODEL = "model", "Run by the registry"
    PREDICTIONS = "predictions", "From submitted predictions"


class Evaluation(models.Model):
    """One version on one test set: metrics the registry computed itself (verified)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evaluations")
    test_set = models.ForeignKey(TestSet, on_delete=models.CASCADE, related_name="evaluations")
    model_file = models.ForeignKey(ModelFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The file's path when the evaluation was requested: kept when the file is removed, so
    # the results can be withdrawn from the version page and the evaluation page can say so.
    model_file_path = models.CharField(max_length=512, blank=True, editable=False)
    source = models.CharField(max_length=16, choices=EvaluationSource.choices, default=EvaluationSource.MODEL)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    metrics = models.JSONField(default=dict, blank=True)
    intervals = models.JSONField(default=dict, blank=True)
    per_class = models.JSONField(default=dict, blank=True)
    confusion_matrix = models.JSONField(default=dict, blank=True)
    feature_importance = models.JSONField(default=list, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    # The predictions as .npy, kept so two versions can be compared row by row (McNemar).
    predictions_blob = models.ForeignKey(Blob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rows_per_second = models.FloatField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)
    model_size = models.PositiveBigIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "models_app_evaluation"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="models_app__status_7df074_idx"),
            models.Index(fields=["test_set", "status"], name="models_app__test_se_be2345_idx"),
        ]
        constraints = [
            # One evaluation of a version on a test set at a time.
            models.UniqueConstraint(
                fields=["version", "test_set"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_evaluation_per_version_and_test_set",
            )
        ]

    def __str__(self) -> str:
        # Evaluation #12: alice/iris-classifier 1.1.0 on sam/iris-bench
        return f"Evaluation #{self.pk}: {self.version} on {self.test_set}"

    @property
    def is_withdrawn(self) -> bool:
        """Its file was removed from the version: its results describe no file the version has."""
        return bool(self.model_file_path) and self.model_file_id is None

    @property
    def is_finished(self) -> bool:
        return self.status in (EvaluationStatus.SUCCEEDED, EvaluationStatus.FAILED)


class SkipChooser(models.TextChoices):
    OWNER = "owner", "Picked by the owner"
    REGISTRY = "registry", "Chosen by the registry"


class EvaluationSkip(models.Model):
    """A test set a submission did not evaluate the version on, and why (its task or columns
    do not fit the signature, its daily cap is reached, no file can be run). Replaced on each
    submission; no evaluation was recorded, so nothing counts against anyone's cap."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evaluation_skips")
    test_set = models.ForeignKey(TestSet, on_delete=models.CASCADE, related_name="+")
    chosen_by = models.CharField(max_length=16, choices=SkipChooser.choices)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["test_set__owner__username", "test_set__name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "test_set"], name="one_skip_per_version_and_test_set")
        ]

    def __str__(self) -> str:
        return f"{self.version} not evaluated on {self.test_set}"
