"""POST/GET .../versions/<v>/evaluations/, GET /evaluations/<id>/ and the leaderboard.

Requests are recorded and answered 202; the task is sent after commit (never here: these
tests run inside a transaction), so a test that wants the result runs the task itself.
"""

import numpy as np
import onnxruntime as ort
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from models_app.blobs import blob_open
from models_app.models import VersionStatus
from tests.conftest import client_for
from tests.factories import make_model, make_version
from tests.models.api.helpers import API, assert_error, version_url

from . import crafted
from .conftest import iris_test_set


def evaluations_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return version_url(version, owner, name) + "evaluations/"


def leaderboard_url(full_name: str, metric: str | None = None) -> str:
    return f"{API}/test-sets/{full_name}/leaderboard/" + (f"?metric={metric}" if metric else "")


@pytest.fixture
def test_set(owner, iris_data):
    return iris_test_set(owner, iris_data)


@pytest.fixture
def version(owner):
    """Published, so reviewers and outsiders can see it (a draft is the owner's alone)."""
    return make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()}, status=VersionStatus.PUBLISHED)


def request_evaluation(client, url: str = None, test_set: str = "olivia/iris-test"):
    return client.post(url or evaluations_url(), {"test_set": test_set}, format="json")


def test_it_answers_202_with_the_evaluations_location(owner_api, owner, version, test_set):
    response = request_evaluation(owner_api)
    assert response.status_code == 202, response.content
    body = response.json()
    evaluation = Evaluation.objects.get()
    assert response["Location"] == body["url"] == f"http://testserver{API}/evaluations/{evaluation.pk}/"
    assert (body["status"], body["model_file"], body["test_set"]) == ("queued", "model.onnx", "olivia/iris-test")
    assert (evaluation.requested_by, evaluation.version, evaluation.source) == (owner, version, "model")
    assert owner_api.get(response["Location"]).json()["status"] == "queued"
    assert owner_api.get(evaluations_url()).json()[0]["id"] == evaluation.pk


def test_reviewers_and_staff_may_request_evaluations(reviewer, staff, version, test_set, owner_api):
    assert request_evaluation(client_for(reviewer)).status_code == 202
    other = iris_test_set(version.model.owner, crafted.iris_split(), name="iris-2")
    assert request_evaluation(client_for(staff), test_set=other.full_name).status_code == 202
    assert Evaluation.objects.count() == 2


def test_outsiders_and_anonymous_users_may_not(outsider_api, api, owner, test_set, version):
    assert_error(request_evaluation(outsider_api), 403, "forbidden")
    assert_error(request_evaluation(api), 401, "not_authenticated")
    assert not Evaluation.objects.exists()
    private = make_version(
        make_model(owner, name="secret", visibility="private"), files={"m.onnx": b"x"}, status=VersionStatus.PUBLISHED
    )
    assert_error(request_evaluation(outsider_api, evaluations_url(name="secret")), 404)
    assert private.evaluations.count() == 0
    assert not Evaluation.objects.exists()


def test_a_private_test_set_of_someone_else_cannot_be_used(reviewer, outsider, version):
    hidden = iris_test_set(outsider, crafted.iris_split(), name="hidden", visibility="private")
    assert_error(request_evaluation(client_for(reviewer), test_set=hidden.full_name), 404)


def test_a_regression_test_set_does_not_fit_a_classifier(owner_api, owner, version):
    ev.test_set_create(
        owner=owner, name="prices", task="regression", target_column="price",
        uploaded_file=SimpleUploadedFile("p.csv", b"a,b,c,d,price\n1,2,3,4,10.5\n"),
    )  # fmt: skip
    body = assert_error(request_evaluation(owner_api, test_set="olivia/prices"), 400, "task_mismatch")
    assert "is a regression test set" in body["detail"]


def test_a_version_without_a_runnable_file_is_refused_with_a_sentence(owner_api, owner, test_set):
    make_version(
        make_model(owner, name="weights"), files={"model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "}
    )
    body = assert_error(request_evaluation(owner_api, evaluations_url(name="weights")), 400, "no_runnable_file")
    assert body["detail"] == (
        "Version 1.0.0 has no file the registry can run (ONNX or skops); upload one, or a predictions file."
    )


def test_a_second_active_evaluation_of_the_same_pair_is_a_conflict(owner_api, version, test_set):
    assert request_evaluation(owner_api).status_code == 202
    body = assert_error(request_evaluation(owner_api), 409, "evaluation_active")
    assert "already being evaluated on olivia/iris-test" in body["detail"]
    Evaluation.objects.update(status=EvaluationStatus.FAILED)
    assert request_evaluation(owner_api).status_code == 202  # a finished one does not block


def test_the_quota_of_active_evaluations_is_per_user(owner_api, owner, reviewer, version, test_set, settings):
    settings.EVAL_MAX_ACTIVE_PER_USER = 1
    other = iris_test_set(owner, crafted.iris_split(), name="iris-2")
    assert request_evaluation(owner_api).status_code == 202
    body = assert_error(request_evaluation(owner_api, test_set=other.full_name), 429, "too_many_evaluations")
    assert "You have 1 evaluations queued or running" in body["detail"]
    assert request_evaluation(client_for(reviewer), test_set=other.full_name).status_code == 202
    Evaluation.objects.filter(requested_by=owner).update(status=EvaluationStatus.SUCCEEDED)
    assert request_evaluation(owner_api).status_code == 202


def test_an_evaluation_is_visible_to_whoever_sees_its_version_and_test_set(owner, outsider_api, api, iris_data):
    published = {"files": {"m.onnx": crafted.argmax_model()}, "status": VersionStatus.PUBLISHED}
    secret = make_version(make_model(owner, name="secret", visibility="private"), **published)
    public = make_version(make_model(owner), **published)
    open_set = iris_test_set(owner, iris_data)
    private_set = iris_test_set(owner, iris_data, name="private-set", visibility="private")
    of_secret = ev.evaluation_request(version=secret, test_set=open_set, actor=owner)
    on_private = ev.evaluation_request(version=public, test_set=private_set, actor=owner)
    on_open = ev.evaluation_request(version=public, test_set=open_set, actor=owner)
    owner_api = client_for(owner)
    for evaluation in (of_secret, on_private, on_open):
        assert owner_api.get(f"{API}/evaluations/{evaluation.pk}/").status_code == 200
    for client in (outsider_api, api):
        assert_error(client.get(f"{API}/evaluations/{of_secret.pk}/"), 404)
        assert_error(client.get(f"{API}/evaluations/{on_private.pk}/"), 404)
        assert client.get(f"{API}/evaluations/{on_open.pk}/").status_code == 200
        assert [e["id"] for e in client.get(evaluations_url()).json()] == [on_open.pk]


def _finished(version, test_set, **metrics) -> Evaluation:
    return Evaluation.objects.create(
        version=version, test_set=test_set, status=EvaluationStatus.SUCCEEDED, metrics=metrics,
        rows_per_second=1000.0, finished_at=timezone.now(),
    )  # fmt: skip


def test_the_leaderboard_ranks_published_versions_by_the_chosen_metric(owner, api, test_set):
    model = make_model(owner)
    v1 = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
    v2 = make_version(model, "1.1.0", status=VersionStatus.PUBLISHED)
    draft = make_version(model, "2.0.0")
    other = make_version(make_model(owner, name="rival"), "0.1.0", status=VersionStatus.DEPRECATED)
    _finished(v1, test_set, accuracy=0.80, f1_macro=0.90)
    _finished(v1, test_set, accuracy=0.85, f1_macro=0.70)  # the latest run of v1 counts
    _finished(v2, test_set, accuracy=0.95, f1_macro=0.60)
    _finished(draft, test_set, accuracy=0.99, f1_macro=0.99)  # not published: not ranked
    _finished(other, test_set, accuracy=0.50, f1_macro=0.95)
    Evaluation.objects.create(version=v2, test_set=test_set, status=EvaluationStatus.FAILED)

    body = api.get(leaderboard_url(test_set.full_name)).json()
    assert body["metric"] == "accuracy"
    assert [(r["rank"], r["model"], r["version"], r["value"]) for r in body["results"]] == [
        (1, "olivia/iris-classifier", "1.1.0", 0.95),
        (2, "olivia/iris-classifier", "1.0.0", 0.85),
        (3, "olivia/rival", "0.1.0", 0.50),
    ]
    body = api.get(leaderboard_url(test_set.full_name, "f1_macro")).json()
    assert [r["version"] for r in body["results"]] == ["0.1.0", "1.0.0", "1.1.0"]
    assert body["results"][0]["rows_per_second"] == 1000.0
    assert body["results"][0]["evaluation"].startswith("http://testserver/api/v1/evaluations/")


def test_the_leaderboard_puts_the_lowest_rmse_first(owner, api):
    prices = ev.test_set_create(
        owner=owner, name="prices", task="regression", target_column="price",
        uploaded_file=SimpleUploadedFile("p.csv", b"a,b,c,d,price\n1,2,3,4,10.5\n5,6,7,8,2\n"),
    )  # fmt: skip
    model = make_model(owner, name="pricer", task="tabular-regression")
    versions = [make_version(model, f"1.{i}.0", status=VersionStatus.PUBLISHED) for i in range(3)]
    for version, rmse, r2 in zip(versions, (3.0, 1.0, 2.0), (0.1, 0.9, 0.5), strict=True):
        _finished(version, prices, rmse=rmse, r2=r2, mae=rmse / 2)
    by_rmse = api.get(leaderboard_url(prices.full_name)).json()
    assert by_rmse["metric"] == "rmse"
    assert [r["value"] for r in by_rmse["results"]] == [1.0, 2.0, 3.0]
    by_r2 = api.get(leaderboard_url(prices.full_name, "r2")).json()
    assert [r["value"] for r in by_r2["results"]] == [0.9, 0.5, 0.1]
    assert api.get(leaderboard_url(prices.full_name, "no_such_metric")).json()["results"] == []


def _stored_predictions(evaluation: Evaluation) -> np.ndarray:
    with blob_open(evaluation.predictions_blob_id) as handle:
        return np.load(handle, allow_pickle=False)


def test_classification_results_equal_scikit_learn_on_the_same_predictions(owner, owner_api, iris_data):
    X_train, X_test, y_train, y_test = iris_data
    estimator = LogisticRegression(max_iter=500).fit(X_train, y_train)
    content = crafted.sklearn_onnx(estimator, X_test)
    make_version(make_model(owner), files={"model.onnx": content})
    iris_test_set(owner, iris_data)
    evaluation_id = request_evaluation(owner_api).json()["id"]
    run_evaluation(evaluation_id)
    body = owner_api.get(f"{API}/evaluations/{evaluation_id}/").json()
    assert body["status"] == "succeeded", body["error"]

    pred = _stored_predictions(Evaluation.objects.get(pk=evaluation_id))
    session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, {session.get_inputs()[0].name: X_test.astype(np.float32)})
    assert pred.tolist() == labels.tolist()
    proba = proba.astype(np.float64) / proba.sum(axis=1, keepdims=True)
    expected = {
        "accuracy": skm.accuracy_score(y_test, pred),
        "precision_macro": skm.precision_score(y_test, pred, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y_test, pred, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(y_test, pred, average="macro", zero_division=0),
        "precision_weighted": skm.precision_score(y_test, pred, average="weighted", zero_division=0),
        "recall_weighted": skm.recall_score(y_test, pred, average="weighted", zero_division=0),
        "f1_weighted": skm.f1_score(y_test, pred, average="weighted", zero_division=0),
        "roc_auc": skm.roc_auc_score(y_test, proba, multi_class="ovr"),
        "log_loss": skm.log_loss(y_test, proba),
    }
    # The runtime's float32 probabilities are renormalised in float32: equal to 1e-6.
    assert body["metrics"] == pytest.approx(expected, rel=1e-6)
    for exact in ("accuracy", "f1_macro", "precision_weighted", "recall_weighted"):
        assert body["metrics"][exact] == pytest.approx(expected[exact], rel=1e-12)
    assert body["confusion_matrix"]["matrix"] == skm.confusion_matrix(y_test, pred).tolist()
    report = skm.classification_report(y_test, pred, output_dict=True, zero_division=0)
    for label, row in body["per_class"].items():
        assert row["precision"] == pytest.approx(report[label]["precision"])
        assert row["recall"] == pytest.approx(report[label]["recall"])
        assert row["f1"] == pytest.approx(report[label]["f1-score"])
        assert row["support"] == report[label]["support"]
    assert body["provenance"]["model_sha256"] == Evaluation.objects.get(pk=evaluation_id).model_file.sha256


def test_regression_results_equal_scikit_learn_on_the_same_predictions(owner, owner_api):
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = X[:300], X[300:], y[:300], y[300:]
    estimator = LinearRegression().fit(X_train, y_train)
    make_version(
        make_model(owner, name="diabetes", task="tabular-regression"),
        files={"model.onnx": crafted.sklearn_onnx(estimator, X_test)},
    )
    names = [f"f{i}" for i in range(10)]
    ev.test_set_create(
        owner=owner, name="diabetes-test", task="regression", target_column="progression",
        uploaded_file=SimpleUploadedFile("d.csv", crafted.csv_bytes(X_test, y_test, names, "progression")),
    )  # fmt: skip
    evaluation_id = request_evaluation(owner_api, evaluations_url(name="diabetes"), "olivia/diabetes-test").json()["id"]
    run_evaluation(evaluation_id)
    body = owner_api.get(f"{API}/evaluations/{evaluation_id}/").json()
    assert body["status"] == "succeeded", body["error"]
    pred = _stored_predictions(Evaluation.objects.get(pk=evaluation_id)).astype(float)
    assert pred == pytest.approx(estimator.predict(X_test), rel=1e-4)
    assert body["metrics"] == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y_test, pred),
            "rmse": skm.root_mean_squared_error(y_test, pred),
            "r2": skm.r2_score(y_test, pred),
        },
        rel=1e-9,
    )
