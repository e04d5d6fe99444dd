"""GET /api/v1/reviews/: the queue for reviewers (open, oldest first, filterable), one's own
submissions for everyone else, at a fixed number of queries whatever its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app.models import RegisteredModel, ScanStatus
from reviews_app import services
from tests.conftest import client_for
from tests.factories import UserFactory, make_model, make_version, tiny_onnx_bytes
from tests.models.api.helpers import assert_error

from .conftest import GOOD_CARD, SIGNATURE
from .helpers import REVIEWS

pytestmark = pytest.mark.django_db


def submit_new(owner, name: str, *, task: str = "tabular-classification", card: str = GOOD_CARD, version="1.0.0"):
    model = RegisteredModel.objects.filter(owner=owner, name=name).first() or make_model(
        owner, name, task=task, description=card
    )
    instance = make_version(model, version, files={"model.onnx": tiny_onnx_bytes()}, signature=SIGNATURE)
    instance.files.update(scan_status=ScanStatus.CLEAN)  # as the worker's scan of a plain ONNX graph finds
    return services.version_submit(version=instance, actor=owner)


@pytest.fixture
def queue(owner, outsider, reviewer):
    """olivia: iris (tabular, clean), sentiment (text, failing card); oscar: detector (decided)."""
    iris = submit_new(owner, "iris-classifier")
    sentiment = submit_new(owner, "sentiment", task="sentiment-analysis", card="TODO")
    detector = submit_new(outsider, "detector", task="object-detection")
    services.review_decide(review=detector, actor=reviewer, decision="reject", comment="Unlicensed data.")
    oscar_open = submit_new(outsider, "segmenter", task="image-segmentation")
    return {"iris": iris, "sentiment": sentiment, "detector": detector, "segmenter": oscar_open}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_reviewers_get_every_open_submission_oldest_first(queue, reviewer_api):
    assert ids(reviewer_api.get(REVIEWS)) == [queue["iris"].pk, queue["sentiment"].pk, queue["segmenter"].pk]


def test_a_queue_row_has_what_a_reviewer_needs(queue, reviewer_api):
    row = reviewer_api.get(REVIEWS).json()["results"][1]

    assert {
        k: row[k] for k in ("model", "version", "version_status", "task", "status", "submitted_by", "decision")
    } == {
        "model": "olivia/sentiment",
        "version": "1.0.0",
        "version_status": "in_review",
        "task": "sentiment-analysis",
        "status": "open",
        "submitted_by": "olivia",
        "decision": "",
    }
    assert {"name": "model_card", "status": "fail"}.items() <= next(
        c for c in row["checks"] if c["name"] == "model_card"
    ).items()
    assert row["url"].endswith(f"/api/v1/reviews/{queue['sentiment'].pk}/")


def test_owners_see_their_own_submissions_with_the_decisions(queue, outsider, reviewer):
    oscar = client_for(outsider)

    rows = oscar.get(REVIEWS).json()["results"]

    assert {row["id"] for row in rows} == {queue["detector"].pk, queue["segmenter"].pk}
    decided = next(row for row in rows if row["id"] == queue["detector"].pk)
    assert (decided["decision"], decided["comment"], decided["reviewer"]) == ("reject", "Unlicensed data.", "rita")
    assert ids(oscar.get(REVIEWS, {"status": "open"})) == [queue["segmenter"].pk]


def test_other_users_see_none_and_anonymous_users_must_sign_in(queue, api):
    stranger = client_for(UserFactory(username="stan"))

    assert ids(stranger.get(REVIEWS)) == []
    assert ids(stranger.get(REVIEWS, {"status": "all"})) == []
    assert_error(api.get(REVIEWS), 401)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"task": "sentiment-analysis"}, ["sentiment"]),
        ({"task": "object-detection"}, []),
        ({"submitter": "oscar"}, ["segmenter"]),
        ({"submitter": "olivia", "failing": "true"}, ["sentiment"]),
        ({"failing": "false"}, ["iris", "sentiment", "segmenter"]),
        ({"status": "closed"}, ["detector"]),
        ({"status": "all", "submitter": "oscar"}, ["segmenter", "detector"]),
        ({"status": "closed", "task": "object-detection"}, ["detector"]),
    ],
)
def test_the_queue_filters(params, expected, queue, reviewer_api):
    assert ids(reviewer_api.get(REVIEWS, params)) == [queue[name].pk for name in expected]


@pytest.mark.parametrize("params", [{"task": "cooking"}, {"status": "maybe"}, {"submitter": "x" * 151}])
def test_a_bad_filter_value_is_a_400(params, queue, reviewer_api):
    assert_error(reviewer_api.get(REVIEWS, params), 400)


def test_a_staff_member_outside_the_group_reads_the_queue_but_cannot_decide(queue, staff_api):
    assert ids(staff_api.get(REVIEWS)) == [queue["iris"].pk, queue["sentiment"].pk, queue["segmenter"].pk]


def test_the_queue_costs_the_same_number_of_queries_for_5_and_100_open_reviews(
    reviewer, reviewer_api, django_assert_max_num_queries
):
    submitters = [UserFactory(username=f"user-{n}") for n in range(10)]

    def add(start: int, count: int) -> None:
        for n in range(start, start + count):
            submit_new(submitters[n % 10], f"model-{n}", task="tabular-classification" if n % 2 else "translation")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            response = reviewer_api.get(REVIEWS, {"page_size": 100})
        assert response.status_code == 200
        return len(context.captured_queries), len(response.json()["results"])

    add(0, 5)
    reviewer_api.get(REVIEWS)  # the token's last-used time is written once a minute; not part of the count
    few, rows = count_queries()
    assert rows == 5
    add(5, 95)

    # 1. the token, with its user joined (authentication)
    # 2. whether the user holds the decide permission (which reviews they may see)
    # 3. COUNT(*) of the open reviews (pagination)
    # 4. the page of reviews with version, model and model owner joined
    with django_assert_max_num_queries(4):
        response = reviewer_api.get(REVIEWS, {"page_size": 100})
    assert len(response.json()["results"]) == 100
    assert few == 4
