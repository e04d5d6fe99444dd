"""Deleting a model locks it and its versions and checks again inside the transaction, so
an approval that lands meanwhile is never deleted with it."""

import pytest
from django.db.models.query import QuerySet

from models_app import services
from models_app.models import ModelVersion, RegisteredModel, VersionStatus
from registry_site.errors import Conflict, NotFound
from reviews_app import services as reviews
from reviews_app.models import AuditEvent, Review
from tests.concurrency import race
from tests.factories import make_model, make_reviewer, make_version


@pytest.mark.django_db
def test_a_model_read_before_its_version_was_approved_is_not_deleted(owner, reviewer):
    model = make_model(owner)
    version = make_version(model, "1.0.0", status="in_review")
    stale = RegisteredModel.objects.get(pk=model.pk)  # the delete page was opened now
    reviews.review_decide(review=version.reviews.get(), actor=reviewer, decision="approve")

    with pytest.raises(Conflict, match="published versions"):
        services.model_delete(model=stale, actor=owner)

    assert ModelVersion.objects.get(pk=version.pk).status == VersionStatus.PUBLISHED
    assert not AuditEvent.objects.filter(action="model.delete").exists()


@pytest.mark.django_db
def test_it_locks_the_model_and_then_its_versions_before_it_checks(owner, monkeypatch):
    model = make_model(owner)
    make_version(model, "1.0.0")
    make_version(model, "1.1.0", status="in_review")
    locked = []
    select_for_update = QuerySet.select_for_update

    def recording(queryset, *args, **kwargs):
        locked.append(queryset.model)
        return select_for_update(queryset, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", recording)

    services.model_delete(model=model, actor=owner)

    assert locked[:2] == [RegisteredModel, ModelVersion]
    assert not RegisteredModel.objects.filter(pk=model.pk).exists()


@pytest.mark.django_db
def test_a_model_deleted_meanwhile_is_a_not_found(owner):
    model = make_model(owner)
    RegisteredModel.objects.filter(pk=model.pk).delete()

    with pytest.raises(NotFound):
        services.model_delete(model=model, actor=owner)


@pytest.mark.django_db
def test_a_version_created_for_a_model_deleted_meanwhile_is_a_not_found(owner):
    model = make_model(owner)
    RegisteredModel.objects.filter(pk=model.pk).delete()

    with pytest.raises(NotFound):
        services.version_create(model=model, version="1.0.0", created_by=owner)


# --- Real concurrency (PostgreSQL) ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delete_and_an_approval_at_once_never_both_succeed(owner):
    """Released together, twenty times: either the approval wins and the delete is refused,
    or the delete wins and the approval finds nothing to approve. Never both."""
    reviewer = make_reviewer("rita")
    for n in range(20):
        model = make_model(owner, f"raced-{n}")
        version = make_version(model, "1.0.0", status="in_review")
        review_pk = version.reviews.get().pk
        outcomes = race(
            lambda model_pk=model.pk: services.model_delete(
                model=RegisteredModel.objects.get(pk=model_pk), actor=owner
            ),
            lambda review_pk=review_pk: reviews.review_decide(
                review=Review.objects.get(pk=review_pk), actor=reviewer, decision="approve"
            ),
        )
        deleted, approved = (outcome[0] == "ok" for outcome in outcomes)
        assert deleted != approved, outcomes
        if approved:
            assert isinstance(outcomes[0][1], Conflict)
            assert ModelVersion.objects.get(pk=version.pk).status == VersionStatus.PUBLISHED
        else:
            assert not RegisteredModel.objects.filter(pk=model.pk).exists()
