""" "Recently updated" follows publications: approving a version moves its model up."""

import pytest
from django.urls import reverse
from django.utils import timezone

from models_app import selectors
from models_app.models import RegisteredModel, VersionStatus
from reviews_app import services
from tests.factories import make_model, make_version, release_reviewer

pytestmark = pytest.mark.django_db


def test_approving_a_version_moves_its_model_to_the_top_of_recently_updated(client, owner):
    quiet = make_model(owner, "quiet-model")
    make_version(quiet, "1.0.0", status=VersionStatus.PUBLISHED, files={"w.txt": b"q"})
    busy = make_model(owner, "busy-model")
    make_version(busy, "1.0.0", status=VersionStatus.PUBLISHED, files={"w.txt": b"b1"})
    candidate = make_version(busy, "1.1.0", status=VersionStatus.IN_REVIEW, files={"w.txt": b"b2"})
    # quiet-model changed last (a card edit of a released model waits for review and moves nothing).
    RegisteredModel.objects.filter(pk=quiet.pk).update(updated_at=timezone.now())
    assert [m.name for m in selectors.model_recent(user=None)][:1] == ["quiet-model"]

    review = candidate.reviews.get()
    services.review_decide(review=review, actor=release_reviewer(busy), decision="approve")

    candidate.refresh_from_db()
    assert RegisteredModel.objects.get(pk=busy.pk).updated_at == candidate.published_at
    assert [m.name for m in selectors.model_recent(user=None)][:2] == ["busy-model", "quiet-model"]
    catalog = client.get(reverse("model-list"), {"ordering": "updated"})
    assert [m.name for m in catalog.context["page"]][:2] == ["busy-model", "quiet-model"]


def test_a_rejection_does_not_move_the_model(owner):
    model = make_model(owner, "rejected-model")
    version = make_version(model, "1.0.0", status=VersionStatus.IN_REVIEW, files={"w.txt": b"r"})
    before = RegisteredModel.objects.get(pk=model.pk).updated_at
    services.review_decide(
        review=version.reviews.get(), actor=release_reviewer(model), decision="reject", comment="Not a model."
    )
    assert RegisteredModel.objects.get(pk=model.pk).updated_at == before
