"""An evaluation runs contained or not at all; running with less is the operator's explicit
choice, and then every page that shows the result says what was missing."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from sklearn.linear_model import LogisticRegression

from evaluations_app import services as ev
from evaluations_app.models import EvaluationStatus
from evaluations_app.tasks import run_evaluation
from tests.factories import login_client, make_model, make_version

from . import crafted
from .conftest import iris_test_set


@pytest.fixture
def evaluation(owner, iris_data):
    X_train, _, y_train, _ = iris_data
    onnx = crafted.sklearn_onnx(LogisticRegression(max_iter=500).fit(X_train, y_train), X_train)
    version = make_version(make_model(owner), files={"model.onnx": onnx})
    return ev.evaluation_request(version=version, test_set=iris_test_set(owner, iris_data), actor=owner)


def test_without_bubblewrap_the_evaluation_fails_and_says_what_to_install(evaluation, monkeypatch):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    run_evaluation(evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FAILED
    assert evaluation.error_code == "sandbox_unavailable"
    assert "apt-get install bubblewrap" in evaluation.error
    assert evaluation.metrics == {}


def test_a_weak_sandbox_runs_only_when_the_operator_allows_it_and_the_pages_say_so(
    evaluation, monkeypatch, settings, owner
):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    settings.EVAL_ALLOW_WEAK_SANDBOX = True
    run_evaluation(evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    assert evaluation.provenance["isolation"] == "weak"
    assert any("network" in missing for missing in evaluation.provenance["missing_protections"])
    client = login_client(owner)
    detail = client.get(reverse("evaluation-detail", kwargs={"pk": evaluation.pk})).content.decode()
    assert "Weak (EVAL_ALLOW_WEAK_SANDBOX)" in detail
    version = evaluation.version
    page = client.get(
        reverse("version-detail", kwargs={"owner": owner.username, "name": version.model.name, "version": "1.0.0"})
    ).content.decode()
    assert "data-weak-sandbox" in page and "Run in a weak sandbox" in page


def test_a_contained_evaluation_records_its_isolation(evaluation):
    run_evaluation(evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    assert evaluation.provenance["isolation"] == "bubblewrap"
    assert evaluation.provenance["missing_protections"] == []


def test_check_sandbox_prints_what_the_probe_could_not_reach(db):
    out = io.StringIO()
    call_command("check_sandbox", stdout=out)
    report = out.getvalue()
    assert report.startswith("Sandbox: bubblewrap")
    assert "LEAK" not in report
    for line in ("the database file: refused", "a listener on the host's 127.0.0.1: refused", "user id: 65534"):
        assert line in report
    assert "The probe reached nothing it should not." in report


def test_check_sandbox_fails_without_bubblewrap(db, monkeypatch):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    with pytest.raises(CommandError, match="apt-get install bubblewrap"):
        call_command("check_sandbox", stdout=io.StringIO())


def test_check_sandbox_names_every_leak_of_a_weak_sandbox(db, monkeypatch, settings):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    settings.EVAL_ALLOW_WEAK_SANDBOX = True
    out = io.StringIO()
    with pytest.raises(CommandError, match="a listener on the host's 127.0.0.1"):
        call_command("check_sandbox", stdout=out)
    assert "Sandbox: weak" in out.getvalue()
