"""Unreferenced blobs (a removed draft file, an upload that failed half way) are collected;
a blob any row uses (a model file, a test set's table and arrays, an evaluation's
predictions) never is, even when the reference appears while the collection runs."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from evaluations_app.models import Evaluation, TestSet
from models_app import services
from models_app.blobs import blob_key, blob_store
from models_app.formats import Format
from models_app.models import Blob, ModelFile
from protocols_app.models import Artifact
from tests.evaluations.web.conftest import finish, make_test_set
from tests.factories import make_model, make_version

SHA_OF_ORPHAN = "ab" * 32
GRACE = 3600


def age_every_blob() -> None:
    """Every blob is past the grace period, as on a registry that has run for a while."""
    Blob.objects.update(created_at=timezone.now() - timedelta(seconds=2 * GRACE))


def collect() -> int:
    return services.blobs_collect_unreferenced(older_than_seconds=GRACE)


def kept(sha256: str) -> bool:
    """The row and the stored bytes are both still there."""
    return Blob.objects.filter(sha256=sha256).exists() and default_storage.exists(blob_key(sha256))


def gone(sha256: str) -> bool:
    return not Blob.objects.filter(sha256=sha256).exists() and not default_storage.exists(blob_key(sha256))


def test_it_removes_a_blob_no_file_uses_after_the_grace_period(owner):
    version = make_version(make_model(owner), files={"model.bin": b"weights"})
    model_file = version.files.get()
    sha = model_file.sha256
    services.file_delete(model_file=model_file, actor=owner)
    Blob.objects.filter(sha256=sha).update(created_at=timezone.now() - timedelta(hours=2))

    removed = services.blobs_collect_unreferenced(older_than_seconds=3600)

    assert removed == 1
    assert not Blob.objects.filter(sha256=sha).exists()
    assert not default_storage.exists(blob_key(sha))


def test_it_keeps_young_and_referenced_blobs(owner):
    version = make_version(make_model(owner), files={"kept.bin": b"in use", "removed.bin": b"just removed"})
    services.file_delete(model_file=version.files.get(path="removed.bin"), actor=owner)

    assert services.blobs_collect_unreferenced(older_than_seconds=3600) == 0
    assert Blob.objects.count() == 2
    assert ModelFile.objects.count() == 1


def test_it_removes_stored_bytes_that_never_got_a_row(db):
    key = blob_key(SHA_OF_ORPHAN)
    default_storage.save(key, ContentFile(b"orphan"))

    assert services.blobs_collect_unreferenced(older_than_seconds=0) == 1
    assert not default_storage.exists(key)


# --- Every kind of reference counts ---------------------------------------------------------


def test_it_finds_every_foreign_key_to_blob_in_every_app_including_the_unnamed_ones():
    """Discovered from the model registry: a reference a later feature adds counts by itself."""
    assert set(services.blob_references()) == {
        (ModelFile, "blob"),
        (TestSet, "blob"),
        (TestSet, "features_blob"),  # related_name="+": hidden from Blob._meta.related_objects
        (TestSet, "target_blob"),
        (Evaluation, "predictions_blob"),
        (Artifact, "blob"),  # files an MLflow client uploaded, not yet registered
    }


def test_it_keeps_the_blob_of_a_published_file_past_the_grace_period(owner):
    version = make_version(make_model(owner), status="published", files={"model.onnx": b"published weights"})
    age_every_blob()

    assert collect() == 0
    assert kept(version.files.get().sha256)


def test_it_keeps_a_test_sets_table_and_its_feature_and_target_arrays_and_does_not_crash(owner):
    test_set = make_test_set(owner)
    age_every_blob()

    assert collect() == 0  # used to stop for good on ProtectedError here

    for sha256 in (test_set.blob_id, test_set.features_blob_id, test_set.target_blob_id):
        assert kept(sha256)


def test_it_keeps_an_evaluations_predictions_and_the_evaluation_keeps_pointing_at_them(owner):
    version = make_version(make_model(owner), status="published", files={"model.onnx": b"weights"})
    evaluation = finish(version, make_test_set(owner), accuracy=0.9, wrong=2)
    age_every_blob()

    assert collect() == 0

    assert kept(evaluation.predictions_blob_id)
    evaluation.refresh_from_db()
    assert evaluation.predictions_blob_id is not None  # not silently set to NULL (McNemar needs it)


def test_it_collects_a_test_sets_blobs_once_the_test_set_is_deleted(owner):
    test_set = make_test_set(owner)
    shas = (test_set.blob_id, test_set.features_blob_id, test_set.target_blob_id)
    test_set.delete()
    age_every_blob()

    assert collect() == 3
    assert all(gone(sha256) for sha256 in shas)


def test_a_blob_that_turns_out_protected_is_skipped_not_raised(owner, monkeypatch):
    """Even if the unreferenced check were wrong, PROTECT stops the delete and the run goes on."""
    test_set = make_test_set(owner)
    version = make_version(make_model(owner), files={"model.onnx": b"draft weights"})
    age_every_blob()
    monkeypatch.setattr(services, "_collectable", lambda cutoff: Blob.objects.filter(created_at__lt=cutoff))

    assert collect() == 0

    assert kept(test_set.blob_id) and kept(version.files.get().sha256)


# --- Races with uploads of the same bytes ---------------------------------------------------


def _upload_the_same_bytes(owner, sha256: str) -> None:
    version = make_version(make_model(owner, "other"), "1.0.0")
    services.file_upload(version=version, uploaded_file=SimpleUploadedFile("model.onnx", b"same bytes"), actor=owner)


def _record_them_as_predictions(owner, sha256: str) -> None:
    """SET_NULL, not PROTECT: without the check under the lock, deleting the blob would
    silently empty the evaluation's predictions instead of failing."""
    version = make_version(make_model(owner, "other"), "1.0.0", status="published")
    evaluation = finish(version, make_test_set(owner, "other-set"), accuracy=0.8)
    Evaluation.objects.filter(pk=evaluation.pk).update(predictions_blob=sha256)


@pytest.mark.parametrize("reference_appears", [_upload_the_same_bytes, _record_them_as_predictions])
def test_a_reference_that_appears_after_the_blob_was_picked_keeps_it(owner, monkeypatch, reference_appears):
    """Picked as unreferenced, then a row starts using the same bytes before the delete: the
    check under the row lock sees it, and the blob stays, row and bytes."""
    first = make_version(make_model(owner), files={"model.onnx": b"same bytes"})
    sha256 = first.files.get().sha256
    services.file_delete(model_file=first.files.get(), actor=owner)
    age_every_blob()
    pick = services._candidates

    def pick_then_reference(cutoff):
        picked = pick(cutoff)
        assert sha256 in picked
        reference_appears(owner, sha256)
        return picked

    monkeypatch.setattr(services, "_candidates", pick_then_reference)

    collect()

    assert kept(sha256)
    assert ModelFile.objects.filter(blob=sha256).exists() or Evaluation.objects.filter(predictions_blob=sha256).exists()
    with default_storage.open(blob_key(sha256)) as handle:
        assert handle.read() == b"same bytes"


def test_an_upload_whose_bytes_were_collected_after_it_stored_them_stores_them_again(db):
    """The upload's order: store the bytes (found there already), then record the row. If a
    collection removes row and bytes in between, `blob_record`, under the row lock, finds
    the bytes gone and writes them again: no row ever points at deleted bytes."""
    content = b"bytes an old, unreferenced blob already had"
    sha256 = hashlib.sha256(content).hexdigest()
    blob_store(sha256=sha256, size=len(content), fileobj=io.BytesIO(content))
    Blob.objects.create(sha256=sha256, size=len(content), format=Format.UNKNOWN)
    age_every_blob()

    blob_store(sha256=sha256, size=len(content), fileobj=io.BytesIO(content))  # the upload: "already stored"
    assert collect() == 1  # the collection runs in between
    assert gone(sha256)
    with transaction.atomic():  # the upload records its reference
        blob = services.blob_record(
            sha256=sha256, size=len(content), file_format=Format.UNKNOWN, fileobj=io.BytesIO(content)
        )

    assert blob.sha256 == sha256 and kept(sha256)
    with default_storage.open(blob_key(sha256)) as handle:
        assert handle.read() == content


def test_blob_record_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError, match="transaction"):
        services.blob_record(sha256=SHA_OF_ORPHAN, size=1, file_format=Format.UNKNOWN, fileobj=io.BytesIO(b"x"))


def test_stored_bytes_whose_row_appears_while_the_collection_looks_are_kept(db, monkeypatch):
    """Bytes without a row, old enough to go; an upload records their row just after the
    collection listed the folder: the claim on the row's key fails, and the bytes stay."""
    key = blob_key(SHA_OF_ORPHAN)
    default_storage.save(key, ContentFile(b"orphan no more"))
    modified_time = FileSystemStorage.get_modified_time

    def upload_records_the_row(storage, name):
        Blob.objects.get_or_create(sha256=SHA_OF_ORPHAN, defaults={"size": 14})
        return modified_time(storage, name)

    monkeypatch.setattr(FileSystemStorage, "get_modified_time", upload_records_the_row)

    assert services.blobs_collect_unreferenced(older_than_seconds=0) == 0
    assert default_storage.exists(key) and Blob.objects.filter(sha256=SHA_OF_ORPHAN).exists()
