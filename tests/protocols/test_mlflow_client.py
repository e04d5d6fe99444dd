"""The real `mlflow` client (mlflow-skinny, pinned in the dev requirements) against a live
server, unmodified: the issue's snippet, then every registry call the README lists, then the
version approved in the review queue and loaded through an alias.

Two settings shorten the client's own waiting, not what it sends: it infers a model's pip
requirements by importing the model in a subprocess (about 30 s on two busy cores; with a
short timeout it writes its default requirements instead), and it retries failed calls for
minutes (here a failure should fail the test at once).
"""

import os
import time

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from accounts_app.services import token_create
from models_app.models import ModelFile, ScanStatus, VersionStatus
from reviews_app.models import Review
from tests.factories import api_client_for, make_reviewer, make_user, set_up_unaudited

mlflow = pytest.importorskip("mlflow")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def mlflow_env(live_server, monkeypatch, eager_broker):
    user = make_user("mia")
    with set_up_unaudited():
        _, token = token_create(user=user, name="mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{live_server.url}/mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(None)  # read the environment again
    yield user
    mlflow.set_tracking_uri(None)


def test_the_snippet_every_listed_call_review_and_alias(mlflow_env, tmp_path):
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)

    started = time.perf_counter()
    mlflow.set_experiment("iris")
    with mlflow.start_run():
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_metric("accuracy", 0.95)
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris-clf")
    snippet_seconds = time.perf_counter() - started

    client = MlflowClient()
    assert [m.name for m in client.search_registered_models()] == ["iris-clf"]
    versions = client.search_model_versions("name='iris-clf'")
    assert [(v.version, v.status) for v in versions] == [("1", "READY")]
    assert versions[0].tags["registry.version"] == "1.0.0"
    assert versions[0].tags["registry.status"] == VersionStatus.IN_REVIEW
    assert client.get_registered_model("iris-clf").latest_versions[0].version == "1"
    version = client.get_model_version("iris-clf", "1")
    assert version.run_id
    with pytest.warns(FutureWarning):
        assert [v.version for v in client.get_latest_versions("iris-clf")] == ["1"]
    client.set_model_version_tag("iris-clf", "1", "team", "flowers")
    client.set_registered_model_tag("iris-clf", "domain", "botany")
    assert client.update_model_version("iris-clf", "1", description="First fit").description == "First fit"
    assert client.get_registered_model("iris-clf").tags == {"domain": "botany"}
    assert client.get_model_version("iris-clf", "1").tags["team"] == "flowers"

    # In the registry: a version in review, with the run's params and reported metrics.
    registry_version = Review.objects.select_related("version").get().version
    assert registry_version.params == {"learning_rate": "0.01"}
    assert registry_version.reported_metrics == {"accuracy": 0.95}
    paths = set(ModelFile.objects.filter(version=registry_version).values_list("path", flat=True))
    assert {"MLmodel", "model.skops", "requirements.txt"} <= paths

    # The owner loads the unpublished version; its predictions are the original's.
    loaded = mlflow.pyfunc.load_model("models:/iris-clf/1")
    assert np.array_equal(loaded.predict(X), model.predict(X))
    downloaded = mlflow.artifacts.download_artifacts("models:/iris-clf/1", dst_path=str(tmp_path / "v1"))
    assert {"MLmodel", "model.skops"} <= {p.name for p in (tmp_path / "v1").iterdir()}
    assert downloaded

    # An alias cannot point at a version that is not published yet.
    with pytest.raises(MlflowException, match="published"):
        client.set_registered_model_alias("iris-clf", "champion", "1")

    # A reviewer approves it in the queue (the scan ran when the files arrived).
    assert all(f.scan_status != ScanStatus.PENDING for f in ModelFile.objects.filter(version=registry_version))
    reviewer = make_reviewer("rhea")
    review = Review.objects.get()
    decided = api_client_for(reviewer).post(
        f"/api/v1/reviews/{review.pk}/decision/",
        {"decision": "approve", "comment": "Looks right.", "override_scan": True},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    assert client.get_model_version("iris-clf", "1").tags["registry.status"] == VersionStatus.PUBLISHED

    client.set_registered_model_alias("iris-clf", "champion", "1")
    assert client.get_model_version_by_alias("iris-clf", "champion").version == "1"
    assert client.get_registered_model("iris-clf").aliases == {"champion": "1"}
    by_alias = mlflow.pyfunc.load_model("models:/iris-clf@champion")
    assert np.array_equal(by_alias.predict(X), model.predict(X))
    client.delete_registered_model_alias("iris-clf", "champion")
    with pytest.raises(MlflowException, match="not found"):
        client.get_model_version_by_alias("iris-clf", "champion")

    # A second log_model from another experiment adds the next version.
    mlflow.set_experiment("iris-again")
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris-clf")
    assert [v.version for v in client.search_model_versions("name='iris-clf'")] == ["2", "1"]

    # Someone else: the private model does not exist for them, and they cannot write into it.
    other = make_user("otto")
    with set_up_unaudited():
        _, other_token = token_create(user=other, name="mlflow")

    os.environ["MLFLOW_TRACKING_TOKEN"] = other_token
    with pytest.raises(MlflowException, match="not found"):
        MlflowClient().get_model_version("mia/iris-clf", "1")
    assert snippet_seconds > 0
