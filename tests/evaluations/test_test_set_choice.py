"""The owner picks the test sets a model's submitted versions are evaluated on, on the
version page; on submission only test sets whose task and columns fit the signature are
queued, and the others are skipped with a note that says why, counting against no cap."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationSkip
from evaluations_app.tasks import run_evaluation
from reviews_app import services as review_services
from reviews_app.models import AuditEvent
from tests.factories import login_client, make_model, make_version
from tests.reviews.conftest import GOOD_CARD

from . import crafted
from .conftest import iris_test_set

FOUR = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}], "outputs": []}


@pytest.fixture
def model(owner):
    return make_model(owner, description=GOOD_CARD)


@pytest.fixture
def sent(monkeypatch):
    ids = []
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: ids.append(evaluation_id))
    return ids


def benchmark(staff, name: str, csv: bytes, task: str = "classification"):
    test_set = ev.test_set_create(
        owner=staff, name=name, task=task, target_column="target", uploaded_file=SimpleUploadedFile(f"{name}.csv", csv)
    )
    return ev.test_set_update(test_set=test_set, actor=staff, benchmark=True)


def submit(version, owner, capture):
    with capture(execute=True):
        return review_services.version_submit(version=version, actor=owner)


def test_the_owner_picks_test_sets_on_the_version_page(owner, model, iris_data):
    mine = iris_test_set(owner, iris_data, name="holdout")
    make_version(model, "1.0.0", files={"model.onnx": crafted.argmax_model()})
    client = login_client(owner)
    page = client.get(reverse("version-detail", args=["olivia", model.name, "1.0.0"])).content.decode()
    assert 'value="olivia/holdout"' in page and "Test sets for submission" in page

    response = client.post(
        reverse("evaluate-on", args=["olivia", model.name, "1.0.0"]), {"test_sets": ["olivia/holdout"]}
    )
    assert response.status_code == 302 and response["Location"].endswith("#evaluate-on")
    assert list(model.evaluate_on.all()) == [mine]
    event = AuditEvent.objects.get(action="model.evaluate_on")
    assert event.data["test_sets"] == ["olivia/holdout"]


def test_nobody_else_picks_them_and_nobody_picks_a_private_test_set_of_another(owner, outsider, model, iris_data):
    iris_test_set(outsider, iris_data, name="secret", visibility="private")
    make_version(model, "1.0.0", files={"model.onnx": crafted.argmax_model()})
    url = reverse("evaluate-on", args=["olivia", model.name, "1.0.0"])

    assert login_client(outsider).post(url, {"test_sets": []}).status_code == 404  # the draft is not theirs to see
    response = login_client(owner).post(url, {"test_sets": ["oscar/secret"]}, follow=True)
    assert "not one of the available choices" in response.content.decode()
    assert model.evaluate_on.count() == 0


def test_only_fitting_test_sets_are_queued_and_the_rest_skipped_with_a_note(
    owner, staff, model, iris_data, sent, django_capture_on_commit_callbacks
):
    picked = iris_test_set(owner, iris_data, name="holdout")
    fits = benchmark(staff, "iris-bench", crafted.csv_bytes(*iris_data[1::2]))
    benchmark(staff, "wide-bench", b"a,b,c,d,e,target\n1,2,3,4,5,0\n2,3,4,5,6,1\n")  # five features
    benchmark(staff, "prices", b"a,b,c,d,target\n1,2,3,4,10.5\n5,6,7,8,2\n", task="regression")
    narrow = iris_test_set(owner, iris_data, name="my-other")
    model.evaluate_on.add(picked, narrow)
    version = make_version(model, files={"model.onnx": crafted.argmax_model()}, signature=FOUR)
    # The owner's own second pick does not fit either once the signature names columns it lacks.
    version.signature = {"inputs": [{**FOUR["inputs"][0], "columns": list(picked.feature_columns)}], "outputs": []}
    version.save()
    from evaluations_app.models import TestSet

    TestSet.objects.filter(pk=narrow.pk).update(columns=["w", "x", "y", "z", "target"])

    submit(version, owner, django_capture_on_commit_callbacks)

    queued = {e.test_set.full_name for e in Evaluation.objects.filter(version=version)}
    assert queued == {"olivia/holdout", fits.full_name}
    skips = {s.test_set.full_name: (s.chosen_by, s.reason) for s in EvaluationSkip.objects.filter(version=version)}
    assert skips == {
        "sam/wide-bench": (
            "registry",
            f"{model.full_name} 1.0.0 declares 4 input features and sam/wide-bench has 5 feature columns; "
            "pick a test set with the columns the model takes.",
        ),
        "sam/prices": (
            "registry",
            f"{model.full_name} is a tabular classification model and sam/prices is a regression test set.",
        ),
        "olivia/my-other": (
            "owner",
            f"{model.full_name} 1.0.0 reads the columns sepal_length, sepal_width, petal_length, petal_width, "
            "which olivia/my-other does not have.",
        ),
    }
    # The notes are on the version page, for the owner and the reviewers alike.
    page = login_client(owner).get(reverse("version-detail", args=["olivia", model.name, "1.0.0"])).content.decode()
    assert "Not evaluated at submission" in page and "sam/wide-bench has 5 feature columns" in page


def test_a_skipped_benchmark_counts_against_no_cap(
    owner, staff, model, iris_data, sent, settings, django_capture_on_commit_callbacks
):
    settings.EVAL_BENCHMARK_RUNS_PER_DAY = 1
    wide = benchmark(staff, "wide-bench", b"a,b,c,d,e,target\n1,2,3,4,5,0\n2,3,4,5,6,1\n")
    version = make_version(model, files={"model.onnx": crafted.argmax_model()}, signature=FOUR)
    submit(version, owner, django_capture_on_commit_callbacks)

    assert not Evaluation.objects.filter(version=version, test_set=wide).exists()
    assert EvaluationSkip.objects.filter(version=version, test_set=wide).exists()


def test_a_resubmission_replaces_the_notes(
    owner, staff, reviewer, model, iris_data, sent, django_capture_on_commit_callbacks
):
    benchmark(staff, "wide-bench", b"a,b,c,d,e,target\n1,2,3,4,5,0\n2,3,4,5,6,1\n")
    version = make_version(model, files={"model.onnx": crafted.argmax_model()}, signature=FOUR)
    review = submit(version, owner, django_capture_on_commit_callbacks)
    assert EvaluationSkip.objects.filter(version=version).count() == 1
    review_services.review_decide(review=review, actor=reviewer, decision="request_changes", comment="Five features.")
    version.refresh_from_db()
    ev_signature = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 5]}], "outputs": []}
    from models_app import services as catalog

    catalog.version_update(version=version, signature=ev_signature, actor=version.model.owner)
    submit(version, owner, django_capture_on_commit_callbacks)
    assert EvaluationSkip.objects.filter(version=version).count() == 0


def test_the_draft_page_says_what_a_submission_would_run_and_skip(owner, staff, model, iris_data):
    benchmark(staff, "wide-bench", b"a,b,c,d,e,target\n1,2,3,4,5,0\n2,3,4,5,6,1\n")
    make_version(model, files={"model.onnx": crafted.argmax_model()}, signature=FOUR)
    page = login_client(owner).get(reverse("version-detail", args=["olivia", model.name, "1.0.0"])).content.decode()
    assert 'data-test-set="sam/wide-bench"' in page
    assert "declares 4 input features and sam/wide-bench has 5 feature columns" in page
