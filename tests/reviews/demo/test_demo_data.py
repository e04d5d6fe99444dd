"""The demo catalog that `make run` loads is real: trained models that load and predict."""

import io

import numpy as np
import pytest
from django.core.management import call_command

from models_app.blobs import blob_open
from models_app.models import AliasChange, ModelAlias, ModelFile, ModelVersion, RegisteredModel


@pytest.mark.django_db
def test_it_loads_at_least_six_models_of_two_owners_across_tasks(demo):
    models = RegisteredModel.objects.select_related("owner")
    assert models.count() >= 6
    assert len({m.owner.username for m in models}) >= 2
    assert len({m.task for m in models}) >= 3
    assert all(m.versions.count() >= 1 for m in models)
    assert sum(m.versions.count() >= 2 for m in models) >= 5


@pytest.mark.django_db
def test_every_demo_file_is_scanned_and_clean(demo):
    """Scanned as any upload is: none stays pending, and the demo's ONNX, skops and text are clean."""
    verdicts = {(f.blob.format, f.scan_status) for f in ModelFile.objects.select_related("blob")}
    assert {status for _, status in verdicts} == {"clean"}, verdicts
    assert {"onnx", "skops"} <= {file_format for file_format, _ in verdicts}


@pytest.mark.django_db
def test_it_is_idempotent(demo):
    before = (RegisteredModel.objects.count(), ModelVersion.objects.count(), ModelFile.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count(), ModelFile.objects.count()) == before


@pytest.mark.django_db
def test_its_onnx_and_skops_files_load_and_agree(demo):
    import onnxruntime as ort
    import skops.io as sio
    from sklearn.datasets import load_iris

    version = ModelVersion.objects.get(model__name="iris-classifier", version="1.1.0")
    files = {f.path: f for f in version.files.select_related("blob")}
    assert files["model.onnx"].blob.format == "onnx"
    assert files["model.skops"].blob.format == "skops"
    X = load_iris().data.astype(np.float32)[:20]

    with blob_open(files["model.onnx"].sha256) as handle:
        session = ort.InferenceSession(handle.read(), providers=["CPUExecutionProvider"])
    onnx_labels = session.run(None, {session.get_inputs()[0].name: X})[0]

    with blob_open(files["model.skops"].sha256) as handle:
        data = handle.read()
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == [], "a plain scikit-learn pipeline needs no extra trusted types"
    estimator = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(onnx_labels, estimator.predict(X))


@pytest.mark.django_db
def test_it_has_public_private_and_unpublished_versions_to_show_visibility(demo):
    assert RegisteredModel.objects.filter(visibility="private").exists()
    statuses = set(ModelVersion.objects.values_list("status", flat=True))
    assert {"published", "draft", "in_review", "deprecated"} <= statuses


@pytest.mark.django_db
def test_its_benchmarks_have_leaderboards_from_finished_evaluations(demo):
    from evaluations_app.models import Evaluation, TestSet

    assert TestSet.objects.filter(benchmark=True).count() >= 4
    succeeded = Evaluation.objects.filter(status="succeeded")
    assert succeeded.filter(version__status="published").values("test_set").distinct().count() >= 4
    assert not Evaluation.objects.filter(status__in=["queued", "running"]).exists()


@pytest.mark.django_db
def test_a_demo_model_has_a_protected_production_alias_with_a_history(demo):
    aliases = {a.name: a for a in ModelAlias.objects.filter(model__name="iris-classifier").select_related("version")}
    assert aliases["production"].protected and aliases["production"].version.version == "1.1.0"
    assert not aliases["staging"].protected and aliases["staging"].version.version == "1.1.0"
    history = AliasChange.objects.filter(model__name="iris-classifier", alias="production").order_by("at", "pk")
    assert [(c.action, c.to_label, c.actor_username) for c in history] == [
        ("set", "1.0.0", "alice"),
        ("moved", "1.1.0", "rita"),
        ("protected", "1.1.0", "rita"),
    ]
