"""With more than one model in a draft, the owner chooses the file the registry evaluates;
the choice shows on the version and evaluation pages, and removing the file withdraws the
results computed on it from the version page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from models_app import services as catalog
from models_app.models import ModelVersion
from tests.factories import login_client, make_model, make_version

from . import crafted
from .conftest import iris_test_set

SIGNATURE = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}], "outputs": []}


@pytest.fixture
def sent(monkeypatch):
    ids = []
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: ids.append(evaluation_id))
    return ids


@pytest.fixture
def draft(owner):
    files = {"a-first.onnx": crafted.argmax_model(), "b-second.onnx": crafted.wrong_length_model(), "notes.md": b"# n"}
    return make_version(make_model(owner), files=files, signature=SIGNATURE)


def page_of(client, version: ModelVersion):
    return client.get(
        reverse("version-detail", args=[version.model.owner.username, version.model.name, version.version])
    )


def test_the_owner_chooses_the_evaluated_file_and_the_evaluation_runs_it(owner, draft, iris_data, sent):
    client = login_client(owner)
    assert "File the registry evaluates" in page_of(client, draft).content.decode()
    url = reverse("version-evaluated-file", args=["olivia", draft.model.name, draft.version])

    response = client.post(url, {"path": "b-second.onnx"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.evaluated_file.path == "b-second.onnx"
    assert "data-evaluated title=" in page_of(client, draft).content.decode()

    evaluation = ev.evaluation_request(version=draft, test_set=iris_test_set(owner, iris_data), actor=owner)
    assert (evaluation.model_file.path, evaluation.model_file_path) == ("b-second.onnx", "b-second.onnx")


def test_without_a_choice_the_first_runnable_file_is_evaluated(owner, draft, iris_data, sent):
    evaluation = ev.evaluation_request(version=draft, test_set=iris_test_set(owner, iris_data), actor=owner)
    assert evaluation.model_file.path == "a-first.onnx"


def test_a_data_file_cannot_be_chosen(owner, draft):
    url = reverse("version-evaluated-file", args=["olivia", draft.model.name, draft.version])
    response = login_client(owner).post(url, {"path": "notes.md"}, follow=True)
    assert "notes.md is Text, not a model: the registry cannot run it." in response.content.decode()
    assert ModelVersion.objects.get(pk=draft.pk).evaluated_file is None


def test_an_outsider_cannot_choose(outsider, draft):
    url = reverse("version-evaluated-file", args=["olivia", draft.model.name, draft.version])
    assert login_client(outsider).post(url, {"path": "a-first.onnx"}).status_code in (403, 404)
    assert ModelVersion.objects.get(pk=draft.pk).evaluated_file is None


def test_removing_the_evaluated_file_withdraws_its_results(owner, draft, iris_data, sent):
    catalog.version_choose_evaluated_file(version=draft, path="a-first.onnx", actor=draft.model.owner)
    draft.refresh_from_db()
    evaluation = ev.evaluation_request(version=draft, test_set=iris_test_set(owner, iris_data), actor=owner)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.SUCCEEDED, metrics={"accuracy": 0.9}, finished_at=timezone.now()
    )
    client = login_client(owner)
    assert len(page_of(client, draft).context["results"]) == 1

    catalog.file_delete(model_file=draft.files.get(path="a-first.onnx"), actor=draft.model.owner)

    draft.refresh_from_db()
    assert draft.evaluated_file is None
    response = page_of(client, draft)
    assert response.context["results"] == []
    assert "removed: results withdrawn" in response.content.decode()
    detail = client.get(reverse("evaluation-detail", args=[evaluation.pk])).content.decode()
    assert "a-first.onnx" in detail and "these results are withdrawn" in detail
