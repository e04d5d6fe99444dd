"""Unreferenced blobs (a removed draft file, an upload that failed half way) are collected."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from models_app import services
from models_app.blobs import blob_key
from models_app.models import Blob, ModelFile
from tests.factories import make_model, make_version

SHA_OF_ORPHAN = "ab" * 32


def test_it_removes_a_blob_no_file_uses_after_the_grace_period(owner):
    version = make_version(make_model(owner), files={"model.bin": b"weights"})
    model_file = version.files.get()
    sha = model_file.sha256
    services.file_delete(model_file=model_file)
    Blob.objects.filter(sha256=sha).update(created_at=timezone.now() - timedelta(hours=2))

    removed = services.blobs_collect_unreferenced(older_than_seconds=3600)

    assert removed == 1
    assert not Blob.objects.filter(sha256=sha).exists()
    assert not default_storage.exists(blob_key(sha))


def test_it_keeps_young_and_referenced_blobs(owner):
    version = make_version(make_model(owner), files={"kept.bin": b"in use", "removed.bin": b"just removed"})
    services.file_delete(model_file=version.files.get(path="removed.bin"))

    assert services.blobs_collect_unreferenced(older_than_seconds=3600) == 0
    assert Blob.objects.count() == 2
    assert ModelFile.objects.count() == 1


def test_it_removes_stored_bytes_that_never_got_a_row(db):
    key = blob_key(SHA_OF_ORPHAN)
    default_storage.save(key, ContentFile(b"orphan"))

    assert services.blobs_collect_unreferenced(older_than_seconds=0) == 1
    assert not default_storage.exists(key)
