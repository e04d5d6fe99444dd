"""Experiments, runs and logged models: only as much of MLflow's tracking API as logging and
registering a model needs. Every one of them belongs to the token's user; nobody else can
read or change them (404, as if they did not exist)."""

import math
import time

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from ..models import DEFAULT_EXPERIMENT_ID, Experiment, LoggedModel, Run
from .filters import parse_filter
from .paths import artifacts_uri, logged_model_root, run_root
from .protocol import (
    MlflowError,
    endpoint,
    int_param,
    invalid,
    not_found,
    read_params,
    read_tags,
    require_user,
    tag_list,
    text_param,
)

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
LOGGED_MODEL_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
MAX_PARAM_VALUE = 6000  # MLflow's own limits
MAX_KEY = 250
MAX_BATCH = 1000
MAX_METRIC_HISTORY = 100_000


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- experiments -------------------------------------------------------------------------


def _experiment_dict(experiment: Experiment | None, user) -> dict:
    if experiment is None:  # "Default", which every client assumes exists
        return {
            "experiment_id": str(DEFAULT_EXPERIMENT_ID),
            "name": "Default",
            "artifact_location": artifacts_uri(f"runs/{user.username}"),
            "lifecycle_stage": "active",
            "tags": [],
        }
    return {
        "experiment_id": str(experiment.pk),
        "name": experiment.name,
        "artifact_location": artifacts_uri(f"runs/{user.username}"),
        "lifecycle_stage": "deleted" if experiment.deleted else "active",
        "creation_time": _ms(experiment.created_at),
        "last_update_time": _ms(experiment.updated_at),
        "tags": tag_list(experiment.tags),
    }


def experiment_of(user, experiment_id) -> Experiment | None:
    """The user's experiment by id (None for "Default"), or RESOURCE_DOES_NOT_EXIST."""
    number = int_param({"experiment_id": experiment_id}, "experiment_id", default=DEFAULT_EXPERIMENT_ID)
    if number == DEFAULT_EXPERIMENT_ID:
        return None
    experiment = Experiment.objects.filter(pk=number, owner=user).first()
    if experiment is None:
        raise not_found(f"No experiment with id {number} exists, or it is not yours.")
    return experiment


@endpoint("GET")
def experiment_get_by_name(request: HttpRequest) -> dict:
    user = require_user(request)
    name = text_param(read_params(request), "experiment_name", max_length=500)
    if name == "Default":
        return {"experiment": _experiment_dict(None, user)}
    experiment = Experiment.objects.filter(owner=user, name=name).first()
    if experiment is None:
        raise not_found(f"Could not find experiment with name '{name}'.")
    return {"experiment": _experiment_dict(experiment, user)}


@endpoint("GET")
def experiment_get(request: HttpRequest) -> dict:
    user = require_user(request)
    experiment = experiment_of(user, read_params(request).get("experiment_id"))
    return {"experiment": _experiment_dict(experiment, user)}


@endpoint("POST")
def experiment_create(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    name = text_param(params, "name", max_length=500)
    if params.get("artifact_location"):
        raise invalid("This registry chooses where artifacts are stored; leave artifact_location out.")
    if name == "Default":
        raise MlflowError("RESOURCE_ALREADY_EXISTS", "Experiment 'Default' already exists.")
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(owner=user, name=name, tags=read_tags(params))
    except IntegrityError:
        raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists.") from None
    return {"experiment_id": str(experiment.pk)}


@endpoint("POST")
def experiment_search(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    conditions = parse_filter(text_param(params, "filter", required=False), allowed={"name"})
    experiments = [None, *Experiment.objects.filter(owner=user, deleted=False).order_by("pk")]
    found = [
        _experiment_dict(experiment, user)
        for experiment in experiments
        if all(condition.matches(_experiment_dict(experiment, user)["name"]) for condition in conditions)
    ]
    limit = int_param(params, "max_results", default=1000, minimum=1, maximum=50_000)
    return {"experiments": found[:limit]}


# --- runs ----------------------------------------------------------------------------------


def _latest_metrics(run: Run) -> dict:
    latest: dict[str, dict] = {}
    for entry in run.metrics:
        current = latest.get(entry["key"])
        if current is None or (entry["step"], entry["timestamp"]) >= (current["step"], current["timestamp"]):
            latest[entry["key"]] = entry
    return latest


def reported_metrics(run: Run) -> dict[str, float]:
    """The run's latest value of each metric, as the version's self-reported metrics."""
    values = {}
    for key, entry in _latest_metrics(run).items():
        value = entry["value"]
        if isinstance(value, (int, float)) and math.isfinite(value):
            values[key] = value
    return values


def _run_info(run: Run) -> dict:
    info = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id or DEFAULT_EXPERIMENT_ID),
        "user_id": run.owner.username,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": artifacts_uri(run_root(run.owner.username, run.run_id)),
        "lifecycle_stage": "deleted" if run.deleted else "active",
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def _run_dict(run: Run) -> dict:
    return {
        "info": _run_info(run),
        "data": {
            "metrics": list(_latest_metrics(run).values()),
            "params": [{"key": key, "value": value} for key, value in sorted(run.params.items())],
            "tags": tag_list(run.tags),
        },
        "inputs": {},
        "outputs": {"model_outputs": run.outputs},
    }


def run_of(user, run_id, *, lock: bool = False) -> Run:
    """The user's run, or RESOURCE_DOES_NOT_EXIST (others' runs do not exist for them)."""
    run_id = text_param({"run_id": run_id}, "run_id", max_length=64)
    runs = Run.objects.select_related("owner")
    if lock:
        runs = runs.select_for_update(of=("self",))
    run = runs.filter(pk=run_id, owner=user).first()
    if run is None:
        raise not_found(f"Run '{run_id}' not found.")
    return run


def _run_id_param(params: dict):
    return params.get("run_id") or params.get("run_uuid")


@endpoint("POST")
def run_create(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    experiment = experiment_of(user, params.get("experiment_id", DEFAULT_EXPERIMENT_ID))
    tags = read_tags(params)
    name = text_param(params, "run_name", required=False, max_length=250) or tags.get("mlflow.runName", "")
    run = Run.objects.create(
        owner=user,
        experiment=experiment,
        name=name,
        start_time=int_param(params, "start_time", default=_now_ms()),
        tags=tags,
    )
    run.owner = user
    return {"run": _run_dict(run)}


@endpoint("GET")
def run_get(request: HttpRequest) -> dict:
    run = run_of(require_user(request), _run_id_param(read_params(request)))
    return {"run": _run_dict(run)}


@endpoint("POST")
@transaction.atomic
def run_update(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    if params.get("status"):
        status = text_param(params, "status")
        if status not in RUN_STATUSES:
            raise invalid(f"A run's status is one of {', '.join(RUN_STATUSES)}.")
        run.status = status
    if params.get("end_time") is not None:
        run.end_time = int_param(params, "end_time")
    if params.get("run_name"):
        run.name = text_param(params, "run_name", max_length=250)
    run.save()
    return {"run_info": _run_info(run)}


def _metric(item: dict) -> dict:
    key = text_param(item, "key", max_length=MAX_KEY)
    value = item.get("value")
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        pass  # how protobuf's JSON writes non-finite doubles; kept as text (JSON has no NaN)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"Metric '{key}' must have a numeric value.")
    return {
        "key": key,
        "value": value,
        "timestamp": int_param(item, "timestamp", default=_now_ms()),
        "step": int_param(item, "step", default=0, minimum=-(2**63)),
    }


def _log(run: Run, *, params: dict | None = None, metrics: list | None = None, tags: dict | None = None) -> None:
    for key, value in (params or {}).items():
        if key in run.params and run.params[key] != value:
            raise invalid(
                f"Changing param values is not allowed. Param with key='{key}' was already logged "
                f"with value='{run.params[key]}' for run ID='{run.run_id}'."
            )
        run.params[key] = value
    if metrics:
        if len(run.metrics) + len(metrics) > MAX_METRIC_HISTORY:
            raise MlflowError("RESOURCE_EXHAUSTED", f"A run keeps at most {MAX_METRIC_HISTORY} metric values here.")
        run.metrics.extend(metrics)
    run.tags.update(tags or {})
    run.save(update_fields=["params", "metrics", "tags"])


def _param(item: dict) -> tuple[str, str]:
    return text_param(item, "key", max_length=MAX_KEY), text_param(
        item, "value", required=False, max_length=MAX_PARAM_VALUE
    )


@endpoint("POST")
@transaction.atomic
def run_log_parameter(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    key, value = _param(params)
    _log(run, params={key: value})
    return {}


@endpoint("POST")
@transaction.atomic
def run_log_metric(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    _log(run, metrics=[_metric(params)])
    return {}


@endpoint("POST")
@transaction.atomic
def run_set_tag(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    key = text_param(params, "key", max_length=MAX_KEY)
    _log(run, tags={key: text_param(params, "value", required=False, max_length=8000)})
    return {}


@endpoint("POST")
@transaction.atomic
def run_delete_tag(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    key = text_param(params, "key", max_length=MAX_KEY)
    if key not in run.tags:
        raise not_found(f"No tag with name: {key} in run with id {run.run_id}.")
    del run.tags[key]
    run.save(update_fields=["tags"])
    return {}


@endpoint("POST")
@transaction.atomic
def run_log_batch(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params), lock=True)
    items = {name: params.get(name) or [] for name in ("metrics", "params", "tags")}
    if any(not isinstance(value, list) for value in items.values()):
        raise invalid("metrics, params and tags must be lists.")
    if sum(len(value) for value in items.values()) > MAX_BATCH:
        raise invalid(f"A batch holds at most {MAX_BATCH} metrics, params and tags together.")
    if any(not isinstance(item, dict) for value in items.values() for item in value):
        raise invalid("Each metric, param and tag must be an object.")
    _log(
        run,
        params=dict(_param(item) for item in items["params"]),
        metrics=[_metric(item) for item in items["metrics"]],
        tags=read_tags({"tags": items["tags"]}),
    )
    return {}


@endpoint("POST")
@transaction.atomic
def run_log_outputs(request: HttpRequest) -> dict:
    params = read_params(request)
    user = require_user(request)
    run = run_of(user, _run_id_param(params), lock=True)
    models = params.get("models") or []
    if not isinstance(models, list) or any(not isinstance(item, dict) for item in models):
        raise invalid("models must be a list of {model_id, step} objects.")
    for item in models:
        model_id = text_param(item, "model_id", max_length=40)
        if not LoggedModel.objects.filter(pk=model_id, owner=user).exists():
            raise not_found(f"Logged model '{model_id}' not found.")
        entry = {"model_id": model_id, "step": int_param(item, "step", default=0)}
        if entry not in run.outputs:
            run.outputs.append(entry)
    run.save(update_fields=["outputs"])
    return {}


@endpoint("GET")
def metric_history(request: HttpRequest) -> dict:
    params = read_params(request)
    run = run_of(require_user(request), _run_id_param(params))
    key = text_param(params, "metric_key", max_length=MAX_KEY)
    history = [entry for entry in run.metrics if entry["key"] == key]
    limit = int_param(params, "max_results", default=MAX_METRIC_HISTORY, minimum=1, maximum=MAX_METRIC_HISTORY)
    return {"metrics": history[:limit]}


# --- logged models ---------------------------------------------------------------------------


def logged_model_dict(model: LoggedModel) -> dict:
    info = {
        "model_id": model.model_id,
        "experiment_id": str(model.experiment_id or DEFAULT_EXPERIMENT_ID),
        "name": model.name,
        "creation_timestamp_ms": _ms(model.created_at),
        "last_updated_timestamp_ms": _ms(model.updated_at),
        "artifact_uri": artifacts_uri(logged_model_root(model.owner.username, model.model_id)),
        "status": model.status,
        "creator_id": model.owner_id,  # an int64 in the protocol
        "model_type": model.model_type,
        "tags": tag_list(model.tags),
    }
    if model.run_id:
        info["source_run_id"] = model.run_id
    return {"info": info, "data": {"params": tag_list(model.params), "metrics": []}}


def logged_model_of(user, model_id: str, *, lock: bool = False) -> LoggedModel:
    models = LoggedModel.objects.select_related("owner")
    if lock:
        models = models.select_for_update(of=("self",))
    model = models.filter(pk=model_id, owner=user).first()
    if model is None:
        raise not_found(f"Logged model with ID '{model_id[:40]}' not found.")
    return model


@endpoint("POST")
def logged_model_create(request: HttpRequest) -> dict:
    user = require_user(request)
    params = read_params(request)
    experiment = experiment_of(user, params.get("experiment_id", DEFAULT_EXPERIMENT_ID))
    run = None
    if params.get("source_run_id"):
        run = run_of(user, params["source_run_id"])
    model = LoggedModel.objects.create(
        owner=user,
        experiment=experiment,
        run=run,
        name=text_param(params, "name", required=False, max_length=250, default="model"),
        model_type=text_param(params, "model_type", required=False, max_length=100),
        tags=read_tags(params),
        params=read_tags(params, "params"),
    )
    model.owner = user
    return {"model": logged_model_dict(model)}


@endpoint("GET", "PATCH")
def logged_model_detail(request: HttpRequest, model_id: str) -> dict:
    user = require_user(request)
    if request.method == "GET":
        return {"model": logged_model_dict(logged_model_of(user, model_id))}
    params = read_params(request)
    with transaction.atomic():
        model = logged_model_of(user, model_id, lock=True)
        status = text_param(params, "status")
        if status not in LOGGED_MODEL_STATUSES:
            raise invalid(f"A logged model's status is one of {', '.join(LOGGED_MODEL_STATUSES)}.")
        model.status = status
        model.save(update_fields=["status", "updated_at"])
    return {"model": logged_model_dict(model)}


@endpoint("PATCH")
@transaction.atomic
def logged_model_tags(request: HttpRequest, model_id: str) -> dict:
    model = logged_model_of(require_user(request), model_id, lock=True)
    model.tags.update(read_tags(read_params(request)))
    model.save(update_fields=["tags", "updated_at"])
    return {}
