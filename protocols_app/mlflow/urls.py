"""MLflow's REST paths under /mlflow/ (MLFLOW_TRACKING_URI=http://<host>/mlflow).

Only the calls listed here are answered; every other path under /mlflow/ answers
ENDPOINT_NOT_FOUND (404), which the client understands. The README lists them.
"""

from django.urls import path, re_path

from . import artifacts, registry, tracking
from .protocol import unsupported

API = "api/2.0/mlflow/"
ARTIFACTS = "api/2.0/mlflow-artifacts/artifacts"

urlpatterns = [
    path(API + "experiments/get-by-name", tracking.experiment_get_by_name),
    path(API + "experiments/get", tracking.experiment_get),
    path(API + "experiments/create", tracking.experiment_create),
    path(API + "experiments/search", tracking.experiment_search),
    path(API + "runs/create", tracking.run_create),
    path(API + "runs/get", tracking.run_get),
    path(API + "runs/update", tracking.run_update),
    path(API + "runs/log-parameter", tracking.run_log_parameter),
    path(API + "runs/log-metric", tracking.run_log_metric),
    path(API + "runs/log-batch", tracking.run_log_batch),
    path(API + "runs/set-tag", tracking.run_set_tag),
    path(API + "runs/delete-tag", tracking.run_delete_tag),
    path(API + "runs/outputs", tracking.run_log_outputs),
    path(API + "metrics/get-history", tracking.metric_history),
    path(API + "logged-models", tracking.logged_model_create),
    path(API + "logged-models/<str:model_id>", tracking.logged_model_detail),
    path(API + "logged-models/<str:model_id>/tags", tracking.logged_model_tags),
    path(API + "registered-models/create", registry.model_create_view),
    path(API + "registered-models/get", registry.model_get_view),
    path(API + "registered-models/search", registry.model_search_view),
    path(API + "registered-models/update", registry.model_update_view),
    path(API + "registered-models/delete", registry.model_delete_view),
    path(API + "registered-models/set-tag", registry.model_tag_view),
    path(API + "registered-models/delete-tag", registry.model_tag_view),
    path(API + "registered-models/get-latest-versions", registry.latest_versions_view),
    path(API + "registered-models/alias", registry.alias_view),
    path(API + "model-versions/create", registry.version_create_view),
    path(API + "model-versions/get", registry.version_get_view),
    path(API + "model-versions/search", registry.version_search_view),
    path(API + "model-versions/update", registry.version_update_view),
    path(API + "model-versions/delete", registry.version_delete_view),
    path(API + "model-versions/set-tag", registry.version_tag_view),
    path(API + "model-versions/delete-tag", registry.version_tag_view),
    path(API + "model-versions/get-download-uri", registry.download_uri_view),
    path(ARTIFACTS, artifacts.artifact_list_view),
    path(ARTIFACTS + "/<path:path>", artifacts.artifact_view),
    re_path(r"^(?P<rest>.*)$", unsupported),
]
