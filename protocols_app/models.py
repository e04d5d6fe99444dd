"""What the MLflow protocol needs to remember beyond the catalog.

This is a registry, not a tracking server: experiments, runs and logged models are kept only
as far as `log_param` / `log_metric` / `log_model(registered_model_name=...)` need them, and
the artifacts the client uploads wait here until a model version takes them into the catalog
(as its files, content-addressed and scanned like any upload).
"""

import uuid

from django.conf import settings
from django.db import models

from models_app.models import Blob, ModelVersion, RegisteredModel

DEFAULT_EXPERIMENT_ID = 0  # MLflow's "Default" experiment, which the client assumes exists


def _run_id() -> str:
    return uuid.uuid4().hex


def _logged_model_id() -> str:
    return f"m-{uuid.uuid4().hex}"


class Experiment(models.Model):
    """A user's experiment. Experiment 0 ("Default") is not stored: every user has it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=500)
    tags = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="mlflow_experiment_name_per_owner")]

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    run_id = models.CharField(max_length=32, primary_key=True, default=_run_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=250, blank=True)
    status = models.CharField(max_length=16, default="RUNNING")
    start_time = models.BigIntegerField(default=0)
    end_time = models.BigIntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    params = models.JSONField(default=dict, blank=True)
    # Every logged value, in order: [{"key", "value", "timestamp", "step"}]; the latest per key
    # is the run's metric, and the reported metric of a version registered from it.
    metrics = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=list, blank=True)  # logged model ids the run produced

    def __str__(self) -> str:
        return self.run_id


class LoggedModel(models.Model):
    """MLflow 3's logged model: the folder of artifacts `log_model` writes before registering."""

    model_id = models.CharField(max_length=40, primary_key=True, default=_logged_model_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="logged_models")
    name = models.CharField(max_length=250)
    model_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=32, default="LOGGED_MODEL_PENDING")
    tags = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.model_id


class Artifact(models.Model):
    """One file the client uploaded through the artifact proxy, under the uploader's own
    folder (`runs/<username>/...`); the bytes are a catalog blob."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=1024)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["path"], name="mlflow_artifact_path_unique")]
        indexes = [models.Index(fields=["owner", "path"], name="mlflow_artifact_owner_path")]

    def __str__(self) -> str:
        return self.path


class ModelVersionLink(models.Model):
    """MLflow's view of a registry version: its integer number, source, run and tags."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="mlflow")
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=1024)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    logged_model = models.ForeignKey(LoggedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "number"], name="mlflow_version_number_per_model")]

    def __str__(self) -> str:
        return f"{self.model_id} v{self.number}"


class RegisteredModelTags(models.Model):
    """MLflow's registered-model tags (the registry's own tags are topic words, not key=value)."""

    model = models.OneToOneField(RegisteredModel, on_delete=models.CASCADE, related_name="mlflow")
    tags = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return str(self.model_id)
