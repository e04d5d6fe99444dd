"""The evaluation pages for the anonymous visitor, the owner, the outsider and staff."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations_app.models import EvaluationStatus, TestSet
from models_app.models import VersionStatus
from tests.factories import make_model, make_version

from .conftest import csv_bytes, finish, make_test_set

pytestmark = pytest.mark.django_db


def leaderboard_url(test_set: TestSet) -> str:
    return reverse("test-set-detail", kwargs={"owner": test_set.owner.username, "name": test_set.name})


@pytest.fixture
def public_set(owner):
    return make_test_set(owner, "iris-test")


@pytest.fixture
def private_set(owner):
    return make_test_set(owner, "secret-rows", visibility="private")


@pytest.fixture
def scored(owner, public_set):
    """Two published versions of one model and one of another, evaluated on public_set; a draft too."""
    model = make_model(owner, "iris-classifier")
    v1 = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"1"})
    v2 = make_version(model, "1.1.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"2"})
    other = make_version(
        make_model(owner, "iris-forest"), "0.3.0", status=VersionStatus.PUBLISHED, files={"f.onnx": b"3"}
    )
    draft = make_version(model, "1.2.0", files={"m.onnx": b"4"})
    evaluations = {
        "v1": finish(v1, public_set, accuracy=0.80, wrong=8),
        "v2": finish(v2, public_set, accuracy=0.95, wrong=2, roc_auc=0.90),
        "other": finish(other, public_set, accuracy=0.90, wrong=4, roc_auc=0.99),
        "draft": finish(draft, public_set, accuracy=1.0),
    }
    return {"model": model, "v1": v1, "v2": v2, "other": other, "draft": draft, **evaluations}


# --- Test set list and upload ---


def test_anonymous_sees_public_test_sets_and_no_upload_form(client, public_set, private_set):
    response = client.get(reverse("test-set-list"))
    assert response.status_code == 200
    assert public_set.full_name in response.text
    assert private_set.full_name not in response.text
    assert response.context["form"] is None
    assert "Log in</a> to upload" in response.text


def test_the_nav_bar_links_the_test_sets(client):
    response = client.get(reverse("home"))
    assert f'href="{reverse("test-set-list")}"' in response.text


def test_owner_sees_own_private_test_set_and_benchmarks_are_marked(owner_client, public_set, private_set):
    TestSet.objects.filter(pk=public_set.pk).update(benchmark=True)
    response = owner_client.get(reverse("test-set-list"))
    assert private_set.full_name in response.text
    assert "★ benchmark" in response.text
    benchmarks = owner_client.get(reverse("benchmark-list"))
    assert [t.pk for t in benchmarks.context["test_sets"]] == [public_set.pk]


def test_owner_uploads_a_test_set_from_the_page(owner_client, owner):
    X = np.arange(12, dtype=float).reshape(6, 2)
    upload = SimpleUploadedFile("rows.csv", csv_bytes(X, [0, 1, 0, 1, 0, 1], names=["a", "b"], target="label"))
    response = owner_client.post(
        reverse("test-set-list"),
        {"name": "tiny", "task": "classification", "target_column": "label", "file": upload, "visibility": "public"},
    )
    test_set = TestSet.objects.get(owner=owner, name="tiny")
    assert response.status_code == 302 and response["Location"] == leaderboard_url(test_set)
    assert (test_set.rows, test_set.columns, test_set.target_column) == (6, ["a", "b", "label"], "label")
    page = owner_client.get(leaderboard_url(test_set))
    assert test_set.sha256 in page.text and "Uploaded olivia/tiny: 6 rows." in page.text


@pytest.mark.parametrize(
    "content, target, sentence",
    [
        (b"a,b,label\n", "label", "no rows"),
        (b"a,b,label\n1,2,0\n3,4,1\n", "species", "species"),
        (b"a,b,label\nx,2,0\ny,4,1\n", "label", "a"),
        (b"a,b,label\n\xff\xfe,2,0\n", "label", "UTF-8"),
    ],
    ids=["no-rows", "target-missing", "non-numeric-feature", "bad-encoding"],
)
def test_upload_errors_are_shown_beside_the_file(owner_client, owner, content, target, sentence):
    response = owner_client.post(
        reverse("test-set-list"),
        {
            "name": "broken",
            "task": "classification",
            "target_column": target,
            "file": SimpleUploadedFile("b.csv", content),
            "visibility": "public",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "file" in errors, errors
    assert sentence.lower() in " ".join(errors["file"]).lower()
    assert not TestSet.objects.filter(name="broken").exists()


def test_a_taken_name_is_a_form_error(owner_client, public_set):
    response = owner_client.post(
        reverse("test-set-list"),
        {
            "name": public_set.name,
            "task": "classification",
            "target_column": "target",
            "file": SimpleUploadedFile("b.csv", b"a,target\n1,0\n"),
            "visibility": "public",
        },
    )
    assert response.status_code == 400
    assert "already have a test set" in str(response.context["form"].errors)


def test_anonymous_upload_goes_to_the_login_page(client):
    response = client.post(reverse("test-set-list"), {"name": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Test set page and leaderboard ---


def test_private_test_set_is_404_for_outsider_and_anonymous(client, outsider_client, owner_client, private_set):
    url = leaderboard_url(private_set)
    assert client.get(url).status_code == 404
    assert outsider_client.get(url).status_code == 404
    assert owner_client.get(url).status_code == 200


def test_leaderboard_ranks_published_versions_by_the_chosen_metric(client, public_set, scored):
    response = client.get(leaderboard_url(public_set))
    assert response.context["metric"] == "accuracy"
    ranked = [(row["rank"], row["evaluation"].pk) for row in response.context["rows"]]
    assert ranked == [(1, scored["v2"].pk), (2, scored["other"].pk), (3, scored["v1"].pk)]  # the draft is not listed
    assert "12,345" in response.text  # rows/second
    by_auc = client.get(leaderboard_url(public_set), {"metric": "roc_auc"})
    assert [row["evaluation"].pk for row in by_auc.context["rows"]] == [scored["other"].pk, scored["v2"].pk]
    assert 'href="?metric=roc_auc#leaderboard" aria-current="true"' in by_auc.text
    junk = client.get(leaderboard_url(public_set), {"metric": "<b>"})
    assert junk.context["metric"] == "accuracy"


def test_leaderboard_hides_versions_of_private_models_from_others(outsider_client, owner, public_set):
    model = make_model(owner, "hidden", visibility="private")
    version = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"h"})
    finish(version, public_set, accuracy=0.99)
    assert outsider_client.get(leaderboard_url(public_set)).context["rows"] == []


def test_staff_mark_a_benchmark_and_set_its_gate(staff_client, owner_client, public_set):
    assert owner_client.get(leaderboard_url(public_set)).context["staff_form"] is None
    url = reverse("test-set-benchmark", kwargs={"owner": "olivia", "name": public_set.name})
    assert owner_client.post(url, {"benchmark": "on", "regression_threshold": "0.05"}).status_code == 403
    assert staff_client.get(leaderboard_url(public_set)).context["staff_form"] is not None
    response = staff_client.post(url, {"benchmark": "on", "regression_threshold": "0.05"})
    assert response.status_code == 302
    public_set.refresh_from_db()
    assert public_set.benchmark and public_set.regression_threshold == 0.05


# --- Version, evaluation, model and compare pages ---


def test_version_page_shows_verified_next_to_reported_metrics_and_charts(client, owner, public_set):
    model = make_model(owner, "reported")
    version = make_version(
        model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"r"}, reported_metrics={"accuracy": 0.99}
    )
    evaluation = finish(version, public_set, accuracy=0.9)
    response = client.get(_version_url(version))
    assert response.status_code == 200
    [result] = response.context["results"]
    row = next(r for r in result["rows"] if r["name"] == "accuracy")
    assert (row["value"], row["interval"], row["reported"]) == (0.9, pytest.approx([0.85, 0.95]), 0.99)
    text = response.text
    assert "badge-verified" in text and "badge-reported" in text
    assert reverse("evaluation-detail", kwargs={"pk": evaluation.pk}) in text
    assert response.context["evaluation_form"] is None  # anonymous may not request
    for svg in (result["heat_map"], result["class_bars"], result["importance_bars"]):
        ET.fromstring(str(svg))
    assert text.count("<svg") == 3  # the three charts (the anonymous have no notification bell)
    assert "evaluation-status.js" not in text  # nothing to poll


def _version_url(version) -> str:
    model = version.model
    return reverse(
        "version-detail", kwargs={"owner": model.owner.username, "name": model.name, "version": version.version}
    )


def test_failed_and_active_evaluations_show_their_status_and_sentence(owner_client, owner, public_set):
    from evaluations_app import services as ev
    from evaluations_app import worker

    version = make_version(make_model(owner, "flaky"), "1.0.0", files={"m.onnx": b"x"})
    failed = ev.evaluation_request(version=version, test_set=public_set, actor=owner, predictions_path="m.onnx")
    assert worker.evaluation_claim(evaluation_id=failed.pk)  # only a running evaluation can fail
    worker.evaluation_fail(
        evaluation_id=failed.pk, code="features", reason="The model expects 4 features, the test set has 13."
    )
    other = make_test_set(owner, "second")
    ev.evaluation_request(version=version, test_set=other, actor=owner, predictions_path="m.onnx")
    response = owner_client.get(_version_url(version))
    assert "The model expects 4 features, the test set has 13." in response.text
    assert "badge-eval-failed" in response.text and "badge-eval-queued" in response.text
    assert response.context["evaluations_active"]
    assert "js/evaluation-status.js" in response.text
    assert 'data-poll-url="/api/v1/evaluations/' in response.text


def test_predictions_evaluations_are_labelled(client, owner, public_set):
    version = make_version(make_model(owner, "preds"), "1.0.0", status=VersionStatus.PUBLISHED, files={"p.csv": b"p"})
    evaluation = finish(version, public_set, accuracy=0.7)
    type(evaluation).objects.filter(pk=evaluation.pk).update(source="predictions")
    assert "from submitted predictions" in client.get(_version_url(version)).text
    assert "from submitted predictions" in client.get(leaderboard_url(public_set)).text


def test_evaluation_page_shows_provenance_and_is_hidden_with_its_model(
    client, outsider_client, owner_client, owner, public_set
):
    model = make_model(owner, "private-one", visibility="private")
    version = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"p"})
    evaluation = finish(version, public_set, accuracy=0.9)
    url = reverse("evaluation-detail", kwargs={"pk": evaluation.pk})
    assert client.get(url).status_code == 404
    assert outsider_client.get(url).status_code == 404
    response = owner_client.get(url)
    assert response.status_code == 200
    for fact in (
        "ab" * 32,
        public_set.sha256,
        "20261126",
        "onnxruntime",
        "2.0\xa0GB",
        "Not isolated",
        "unshare is not permitted",
    ):
        assert fact in response.text, fact


def test_model_page_draws_the_metric_across_published_versions(client, scored):
    response = client.get(scored["model"].get_absolute_url())
    [item] = response.context["metric_charts"]
    assert item["points"] == [("1.0.0", 0.80), ("1.1.0", 0.95)]  # semver order, the draft left out
    root = ET.fromstring(str(item["chart"]))
    assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == 2


def test_compare_page_shows_deltas_and_mcnemars_verdict(client, scored, owner, public_set):
    url = reverse("model-compare", kwargs={"owner": "olivia", "name": "iris-classifier"})
    response = client.get(url, {"a": "1.0.0", "b": "1.1.0"})
    assert response.status_code == 200
    [row] = response.context["rows"]
    accuracy = next(m for m in row["metrics"] if m["name"] == "accuracy")
    assert accuracy["delta"] == pytest.approx(0.15) and not accuracy["regression"]
    # 1.0.0 misses rows 0-7, 1.1.0 rows 0-1: 6 rows only 1.1.0 gets right, none the other way.
    assert row["mcnemar"].b_only_correct == 6
    assert row["verdict"].startswith("1.1.0 is better than 1.0.0 on olivia/iris-test (p = ")
    backwards = client.get(url, {"a": "1.1.0", "b": "1.0.0"})
    assert "row-regression" in backwards.text
    assert "The data does not show a difference" not in backwards.text


def test_compare_says_when_the_data_shows_no_difference(client, owner, public_set):
    model = make_model(owner, "close")
    a = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"a"})
    b = make_version(model, "1.0.1", status=VersionStatus.PUBLISHED, files={"m.onnx": b"b"})
    finish(a, public_set, accuracy=0.9, wrong=4)
    finish(b, public_set, accuracy=0.88, wrong=5)
    response = client.get(reverse("model-compare", kwargs={"owner": "olivia", "name": "close"}))
    assert (response.context["a"], response.context["b"]) == (a, b)  # the newest against the one before
    assert "The data does not show a difference (p = 1.00)." in response.text


def test_compare_of_a_private_model_is_404_for_others(outsider_client, owner):
    make_model(owner, "private-cmp", visibility="private")
    url = reverse("model-compare", kwargs={"owner": "olivia", "name": "private-cmp"})
    assert outsider_client.get(url).status_code == 404


def test_status_of_a_version_page_evaluation_is_in_the_api_for_the_poller(owner_client, owner, public_set):
    version = make_version(make_model(owner, "polled", visibility="private"), "1.0.0", files={"m.onnx": b"x"})
    from evaluations_app import services as ev

    evaluation = ev.evaluation_request(version=version, test_set=public_set, actor=owner, predictions_path="m.onnx")
    data = owner_client.get(reverse("api-evaluation-detail", kwargs={"pk": evaluation.pk})).json()
    assert data["status"] == EvaluationStatus.QUEUED
