"""The queue and the audit log cost a fixed number of queries whatever their length."""

import pytest
from django.urls import reverse

from models_app import services as catalog
from reviews_app.models import AuditEvent, Review
from tests.factories import make_model

pytestmark = pytest.mark.django_db

# Queue, as a reviewer: 1 session, 1 user, 1 is_reviewer (cached on the user for the rest of
# the request), 1 count (paginator), 1 page of reviews (version, model, owner, submitter and
# reviewer joined; the checks are a JSON column), 1 navigation counts (unread, open reviews).
QUEUE_QUERIES = 6
# Audit log, as staff: 1 session, 1 user, 1 distinct actions (the filter's choices),
# 1 count, 1 page of events (copied names, no joins needed), 1 navigation counts.
AUDIT_QUERIES = 6
CHECKS = [
    {"name": "files", "status": "pass", "message": "1 file(s), 1 byte in all."},
    {"name": "license", "status": "pass", "message": "Licensed under MIT."},
    {"name": "model_card", "status": "fail", "message": "The model card is empty."},
    {"name": "signature", "status": "warn", "message": "No input signature is declared."},
]


def _open_submissions(owner, count: int, start: int = 0) -> None:
    """`count` open reviews spread over models of 10 versions each (rows made directly: the
    services are tested elsewhere; this is about the page's queries)."""
    reviews, events = [], []
    for index in range(start, start + count):
        name = f"model-{index // 10:03d}"
        model = owner.registered_models.filter(name=name).first() or make_model(owner, name, description="")
        version = catalog.version_create(model=model, version=f"1.{index % 10}.0", created_by=owner)
        reviews.append(
            Review(
                version=version,
                submitted_by=owner,
                submitted_by_username=owner.username,
                checks=CHECKS,
                failing_check_count=1,
            )
        )
        events.append(AuditEvent(actor=owner, actor_username=owner.username, action="version.submit", version=version,
                                 model_full_name=model.full_name, version_label=version.version, from_status="draft", to_status="in_review"))  # fmt: skip
    Review.objects.bulk_create(reviews)
    AuditEvent.objects.bulk_create(events)


def test_queue_query_count_is_the_same_at_5_and_100_open_submissions(
    reviewer_client, owner, django_assert_max_num_queries, django_assert_num_queries
):
    _open_submissions(owner, 5)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = reviewer_client.get(reverse("review-queue"))
    assert len(response.context["page"].object_list) == 5
    _open_submissions(owner, 95, start=5)
    reviewer_client.cookies.clear()
    reviewer_client.force_login(response.wsgi_request.user)  # a fresh user object: nothing cached
    with django_assert_num_queries(QUEUE_QUERIES):
        response = reviewer_client.get(reverse("review-queue"), {"failing": "on"})
    assert response.context["page"].paginator.count == 100
    assert len(response.context["page"].object_list) == 25
    assert response.content.decode().count("badge-check-fail") >= 25


def test_audit_log_query_count_stays_fixed(staff_client, owner, django_assert_num_queries):
    _open_submissions(owner, 3)
    with django_assert_num_queries(AUDIT_QUERIES):
        staff_client.get(reverse("audit-log"))
    _open_submissions(owner, 80, start=3)
    with django_assert_num_queries(AUDIT_QUERIES):
        response = staff_client.get(reverse("audit-log"), {"action": "version.submit"})
    assert len(response.context["page"].object_list) == 50


def test_review_page_query_count_does_not_grow_with_files_or_history(
    reviewer_client, review, django_assert_max_num_queries
):
    # session, user, review (joined), is_reviewer, version (joined), its files, the previous
    # published version, its files, the snapshot approved for it, the reviews of the version,
    # its audit events, nav counts; for the verified metric deltas, the latest successful
    # evaluations of each of the two versions; and the checks as they stand now (the files,
    # the latest run and the latest success of each version on each test set); the
    # version's own results, for evaluation's part of the page (one query, whatever the
    # number of test sets: tests/reviews/web/test_review_decide_page.py).
    with django_assert_max_num_queries(18):
        assert reviewer_client.get(reverse("review-detail", args=[review.pk])).status_code == 200
