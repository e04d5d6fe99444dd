"""Requesting an evaluation from the version page, then running the task inline: the real
ONNX model in the real sandbox, nothing mocked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from models_app.models import VersionStatus
from tests.factories import make_model, make_version, move_to

from .conftest import FEATURES, csv_bytes, onnx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def iris_case(owner):
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.3, random_state=0)
    estimator = LogisticRegression(max_iter=500).fit(X_train, y_train)
    version = make_version(
        make_model(owner, "iris-classifier"), "1.0.0", files={"model.onnx": onnx_bytes(estimator, X_test)}
    )
    test_set = ev.test_set_create(
        owner=owner, name="iris-test", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("iris.csv", csv_bytes(X_test, y_test)),
    )  # fmt: skip
    return version, test_set


def version_url(version) -> str:
    return reverse("version-detail", kwargs={"owner": "olivia", "name": version.model.name, "version": version.version})


def request_url(version) -> str:
    return reverse(
        "evaluation-request", kwargs={"owner": "olivia", "name": version.model.name, "version": version.version}
    )


def test_owner_requests_an_evaluation_from_the_page_and_sees_the_verified_metrics(
    owner_client, iris_case, django_capture_on_commit_callbacks
):
    version, test_set = iris_case
    page = owner_client.get(version_url(version))
    assert [c[0] for c in page.context["evaluation_form"].fields["test_set"].choices] == ["olivia/iris-test"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(request_url(version), {"test_set": "olivia/iris-test", "predictions_file": ""})
    assert response.status_code == 302 and response["Location"].endswith("#evaluations")
    assert len(callbacks) == 1  # the enqueue, after commit
    evaluation = Evaluation.objects.get(version=version)
    assert (evaluation.status, evaluation.requested_by.username, evaluation.source) == ("queued", "olivia", "model")
    assert "badge-eval-queued" in owner_client.get(version_url(version)).text

    run_evaluation(evaluation.pk)

    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    page = owner_client.get(version_url(version))
    [result] = page.context["results"]
    assert result["evaluation"] == evaluation
    assert {item["feature"] for item in evaluation.feature_importance} == set(FEATURES)
    assert page.text.count('class="chart ') == 3
    assert not page.context["evaluations_active"]


def test_a_duplicate_request_is_refused_with_a_message(owner_client, iris_case):
    version, _ = iris_case
    owner_client.post(request_url(version), {"test_set": "olivia/iris-test"})
    response = owner_client.post(request_url(version), {"test_set": "olivia/iris-test"}, follow=True)
    assert "is already being evaluated on olivia/iris-test" in response.text
    assert Evaluation.objects.filter(version=version).count() == 1


def test_outsider_may_not_request_and_sees_no_form(outsider_client, iris_case):
    version, _ = iris_case
    move_to(version, VersionStatus.PUBLISHED)
    assert outsider_client.get(version_url(version)).context["evaluation_form"] is None
    assert outsider_client.post(request_url(version), {"test_set": "olivia/iris-test"}).status_code == 403
    assert not Evaluation.objects.exists()


def test_anonymous_request_goes_to_login(client, iris_case):
    version, _ = iris_case
    response = client.post(request_url(version), {"test_set": "olivia/iris-test"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_failing_evaluation_shows_its_sentence_on_the_page(owner_client, owner, iris_case):
    version, _ = iris_case
    import numpy as np

    wide = ev.test_set_create(
        owner=owner, name="wide", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("w.csv", csv_bytes(np.ones((6, 8)), [0, 1, 2] * 2, names=[f"c{i}" for i in range(8)])),
    )  # fmt: skip
    owner_client.post(request_url(version), {"test_set": wide.full_name})
    run_evaluation(Evaluation.objects.get(version=version).pk)
    assert "expects 4 features, the test set has 8" in owner_client.get(version_url(version)).text
