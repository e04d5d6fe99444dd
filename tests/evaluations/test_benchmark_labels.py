"""A benchmark keeps its labels: it scores no uploaded predictions, one version is evaluated
on it a few times a day at most, and no page or endpoint shows its rows' predictions.

The attack these tests try is the one the issue reports: a version carrying predictions
files that differ in one row each; the accuracy of each, against the first, says what the
label of that row is.
"""

import json
import logging
from datetime import UTC, timedelta

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus, TestSet
from evaluations_app.tasks import run_evaluation
from models_app.models import VersionStatus
from tests.conftest import client_for
from tests.factories import login_client, make_model, make_version
from tests.models.api.helpers import API, assert_error

from . import crafted
from .conftest import iris_test_set
from .test_evaluations_api import evaluations_url
from .web.conftest import finish, make_test_set

PROBED_ROWS = 6  # a baseline and six probes: the seven evaluations of the issue


def benchmark(test_set: TestSet) -> TestSet:
    TestSet.objects.filter(pk=test_set.pk).update(benchmark=True)
    test_set.refresh_from_db()
    return test_set


def predictions_csv(predictions) -> bytes:
    return pd.DataFrame({"prediction": predictions}).to_csv(index=False).encode()


def probing_files(rows: int) -> dict[str, bytes]:
    """pred-base.csv says 0 everywhere; pred-<i>.csv says 1 on row i and 0 elsewhere."""
    files = {"pred-base.csv": predictions_csv(np.zeros(rows, dtype=int))}
    for row in range(PROBED_ROWS):
        probe = np.zeros(rows, dtype=int)
        probe[row] = 1
        files[f"pred-{row}.csv"] = predictions_csv(probe)
    return files


def recover_labels(client, test_set: str) -> tuple[list[int], list[int]]:
    """Run the attack through the API: (the labels it recovered, the statuses it got)."""
    statuses, accuracy = [], {}
    for name in ["pred-base.csv"] + [f"pred-{row}.csv" for row in range(PROBED_ROWS)]:
        response = client.post(evaluations_url(), {"test_set": test_set, "predictions_file": name}, format="json")
        statuses.append(response.status_code)
        if response.status_code != 202:
            continue
        run_evaluation(response.json()["id"])
        body = client.get(response["Location"]).json()
        accuracy[name] = body["metrics"]["accuracy"]
    labels = []
    for row in range(PROBED_ROWS):
        if "pred-base.csv" not in accuracy or f"pred-{row}.csv" not in accuracy:
            continue
        delta = accuracy[f"pred-{row}.csv"] - accuracy["pred-base.csv"]
        labels.append(1 if delta > 1e-9 else 0 if delta < -1e-9 else 2)
    return labels, statuses


@pytest.fixture
def prober(owner, iris_data):
    """A draft of the owner's carrying the probing files, and the iris rows they probe."""
    rows = len(iris_data[3])
    return make_version(make_model(owner), files=probing_files(rows))


def test_the_attack_recovers_the_labels_of_a_test_set_that_is_no_benchmark(owner, owner_api, iris_data, prober):
    """The control: the same attack works where nothing forbids it, so the test below tests something."""
    iris_test_set(owner, iris_data)
    labels, statuses = recover_labels(owner_api, "olivia/iris-test")
    assert statuses == [202] * (PROBED_ROWS + 1)
    assert labels == iris_data[3][:PROBED_ROWS].tolist()


def test_the_attack_recovers_nothing_from_a_benchmark(staff, owner, owner_api, iris_data, prober):
    holdout = benchmark(iris_test_set(staff, iris_data, name="iris-holdout"))
    labels, statuses = recover_labels(owner_api, holdout.full_name)
    assert labels == []
    assert statuses == [403] * (PROBED_ROWS + 1)
    assert not Evaluation.objects.exists()
    body = assert_error(
        owner_api.post(
            evaluations_url(), {"test_set": holdout.full_name, "predictions_file": "pred-base.csv"}, format="json"
        ),
        403,
        "benchmark_predictions",
    )
    assert body["detail"].startswith("sam/iris-holdout is a benchmark: its labels are kept secret")
    assert "Let the registry run the model itself" in body["detail"]


def test_staff_and_reviewers_may_not_score_predictions_on_a_benchmark_either(staff, reviewer, iris_data, prober):
    holdout = benchmark(iris_test_set(staff, iris_data, name="iris-holdout"))
    for actor in (staff, reviewer):
        with pytest.raises(ev.Forbidden) as refused:
            ev.evaluation_request(version=prober, test_set=holdout, actor=actor, predictions_path="pred-base.csv")
        assert refused.value.code == "benchmark_predictions"
    assert not Evaluation.objects.exists()


def test_the_web_form_says_why_predictions_are_refused(owner, owner_client, staff, iris_data, prober):
    holdout = benchmark(iris_test_set(staff, iris_data, name="iris-holdout"))
    url = reverse("evaluation-request", args=["olivia", "iris-classifier", "1.0.0"])
    response = owner_client.post(url, {"test_set": holdout.full_name, "predictions_file": "pred-0.csv"}, follow=True)
    assert "sam/iris-holdout is a benchmark: its labels are kept secret" in response.text
    assert not Evaluation.objects.exists()


# --- The daily cap on registry-run evaluations ---


@pytest.fixture
def holdout(staff, iris_data):
    return benchmark(iris_test_set(staff, iris_data, name="iris-holdout"))


@pytest.fixture
def runnable(owner):
    return make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()})


def request(client, test_set: str = "sam/iris-holdout", version: str = "1.0.0"):
    return client.post(evaluations_url(version), {"test_set": test_set}, format="json")


def finish_all() -> None:
    Evaluation.objects.filter(status=EvaluationStatus.QUEUED).update(
        status=EvaluationStatus.SUCCEEDED, finished_at=timezone.now()
    )


def test_a_version_is_evaluated_on_a_benchmark_at_most_the_daily_cap(
    owner, owner_api, holdout, runnable, iris_data, settings
):
    settings.EVAL_BENCHMARK_RUNS_PER_DAY = 2
    for _ in range(2):
        assert request(owner_api).status_code == 202
        finish_all()
    body = assert_error(request(owner_api), 429, "benchmark_daily_cap")
    first = Evaluation.objects.order_by("created_at").first()
    again = (first.created_at + timedelta(days=1)).astimezone(UTC)
    assert body["detail"] == (
        "olivia/iris-classifier 1.0.0 was evaluated 2 times on the benchmark sam/iris-holdout in the last 24 hours, "
        f"the most a benchmark allows so that its labels stay secret; try again after {again:%Y-%m-%d %H:%M} UTC."
    )
    assert Evaluation.objects.count() == 2

    # The cap is the version's on this benchmark: another version, or another test set, is not held back.
    make_version(runnable.model, "1.1.0", files={"model.onnx": crafted.argmax_model()})
    assert request(owner_api, version="1.1.0").status_code == 202
    iris_test_set(owner, iris_data, name="iris-test")
    for _ in range(3):
        finish_all()
        assert request(owner_api, test_set="olivia/iris-test").status_code == 202


def test_failed_and_day_old_evaluations_do_not_count(owner_api, holdout, runnable, settings):
    settings.EVAL_BENCHMARK_RUNS_PER_DAY = 1
    assert request(owner_api).status_code == 202
    Evaluation.objects.update(status=EvaluationStatus.FAILED, finished_at=timezone.now())
    assert request(owner_api).status_code == 202  # a failure produced no metrics: it told nothing
    finish_all()
    assert_error(request(owner_api), 429, "benchmark_daily_cap")
    Evaluation.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    assert request(owner_api).status_code == 202


def test_everyone_s_requests_and_submissions_count_towards_the_cap(
    owner, reviewer, staff, holdout, runnable, settings, caplog
):
    settings.EVAL_BENCHMARK_RUNS_PER_DAY = 3
    [on_submission] = ev.evaluations_for_submission(version=runnable)
    assert (on_submission.test_set, on_submission.requested_by) == (holdout, None)
    for actor in (reviewer, staff):  # the version is a draft: through the service, as a submission's reviewer would
        finish_all()
        ev.evaluation_request(version=runnable, test_set=holdout, actor=actor)
    finish_all()
    assert_error(request(client_for(owner)), 429, "benchmark_daily_cap")

    # A submission over the cap goes on without the benchmark's evaluation, and says so in the log.
    with caplog.at_level(logging.WARNING, logger="evaluations_app.services"):
        assert ev.evaluations_for_submission(version=runnable) == []
    assert "was evaluated 3 times on the benchmark sam/iris-holdout" in caplog.text
    assert Evaluation.objects.filter(version=runnable).count() == 3


# --- Nobody sees a benchmark's rows ---


def _lists_of_length(value, length: int) -> list:
    """Every list anywhere in a JSON value that has `length` items."""
    found = []
    if isinstance(value, list):
        if len(value) == length:
            found.append(value)
        for item in value:
            found += _lists_of_length(item, length)
    elif isinstance(value, dict):
        for item in value.values():
            found += _lists_of_length(item, length)
    return found


def _finished_predictions(rows: int, wrong: int) -> list[int]:
    """What web.conftest.finish() stores as the predictions: the labels, the first `wrong` rows off by one."""
    labels = np.arange(rows) % 3
    labels[:wrong] = (labels[:wrong] + 1) % 3
    return labels.tolist()


def test_no_page_or_endpoint_shows_a_benchmark_s_predictions_or_per_row_results(owner, staff, reviewer, outsider):
    bench = benchmark(make_test_set(staff, "iris-holdout", rows=40))
    model = make_model(owner)
    v1 = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"1"})
    v2 = make_version(model, "1.1.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"2"})
    first, second = finish(v1, bench, accuracy=0.8, wrong=8), finish(v2, bench, accuracy=0.9, wrong=4)
    assert first.predictions_blob_id and second.predictions_blob_id  # stored, for McNemar's test
    rows = [_finished_predictions(40, 8), _finished_predictions(40, 4), _finished_predictions(40, 0)]  # and the labels
    written = [json.dumps(r) for r in rows] + [json.dumps(r, separators=(",", ":")) for r in rows]
    written += [" ".join(map(str, r)) for r in rows] + ["".join(map(str, r)) for r in rows]

    api_paths = [
        f"{API}/evaluations/{first.pk}/",
        f"{API}/evaluations/{second.pk}/",
        evaluations_url("1.0.0"),
        f"{API}/test-sets/{bench.full_name}/leaderboard/",
        f"{API}/test-sets/{bench.full_name}/",
    ]
    pages = [
        reverse("evaluation-detail", args=[first.pk]),
        reverse("version-detail", args=["olivia", "iris-classifier", "1.0.0"]),
        reverse("model-compare", args=["olivia", "iris-classifier"]) + "?a=1.0.0&b=1.1.0",
        reverse("test-set-detail", args=["sam", "iris-holdout"]),
        reverse("model-detail", args=["olivia", "iris-classifier"]),
    ]
    for user in (None, owner, outsider, reviewer):
        api, web = client_for(user), login_client(user) if user else client_for(None)
        for path in api_paths:
            response = api.get(path)
            assert response.status_code == 200, (path, response.content[:300])
            assert not _lists_of_length(response.json(), bench.rows), path  # nothing one-per-row
            assert not any(text in response.content.decode() for text in written), path
        for path in pages:
            response = web.get(path)
            assert response.status_code == 200, path
            assert not any(text in response.content.decode() for text in written), path
    detail = client_for(owner).get(api_paths[0]).json()
    assert not {key for key in detail if "prediction" in key or "row" in key.replace("rows_per_second", "")}
    # What the compare page shows of the rows is McNemar's two counts, not the rows.
    assert "rows where exactly one is right" in login_client(owner).get(pages[2]).content.decode()
