"""Real concurrency against PostgreSQL: two reviewers decide on the same submission at the
same moment, and two submits of one draft race. Each thread has its own connection; a
barrier releases both into the service together. Exactly one wins, every time."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model

from models_app.models import ModelVersion, VersionStatus
from registry_site.errors import Conflict
from reviews_app import services
from reviews_app.models import AuditEvent, Review, ReviewStatus
from tests.concurrency import race
from tests.factories import make_model, make_reviewer, make_version

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 20


def as_user(pk: int):
    # Loaded in the thread, so nothing (not even the reviewer cache) is shared between threads.
    return get_user_model().objects.get(pk=pk)


def decide(review_pk: int, user_pk: int, decision: str) -> Callable[[], Review]:
    def call() -> Review:
        review = Review.objects.select_related("version").get(pk=review_pk)
        return services.review_decide(review=review, actor=as_user(user_pk), decision=decision, comment="Decided.")

    return call


def submit(version_pk: int, user_pk: int) -> Callable[[], Review]:
    def call() -> Review:
        return services.version_submit(version=ModelVersion.objects.get(pk=version_pk), actor=as_user(user_pk))

    return call


@pytest.fixture
def cast(owner):
    return owner, make_reviewer("rita"), make_reviewer("ravi")


def test_two_reviewers_deciding_at_once_exactly_one_wins(cast):
    owner, rita, ravi = cast
    model = make_model(owner)
    pairs = [("approve", "reject"), ("request_changes", "approve"), ("reject", "request_changes")]
    winners: dict[str, int] = {"rita": 0, "ravi": 0}

    for n in range(ROUNDS):
        version = make_version(model, f"0.{n}.0", files={"model.onnx": f"round {n}".encode()})
        review = services.version_submit(version=version, actor=owner)
        first, second = pairs[n % len(pairs)]

        outcomes = race(decide(review.pk, rita.pk, first), decide(review.pk, ravi.pk, second))

        wins = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
        losses = [value for kind, value in outcomes if kind == "error"]
        assert len(wins) == 1 and len(losses) == 1, (n, outcomes)
        assert isinstance(losses[0], Conflict) and losses[0].code == "already_decided", (n, losses[0])
        assert losses[0].status == 409
        winner, decision = (("rita", first), ("ravi", second))[wins[0]]
        winners[winner] += 1
        review.refresh_from_db()
        version.refresh_from_db()
        assert (review.status, review.decision, review.reviewer_username) == (ReviewStatus.CLOSED, decision, winner)
        expected = {"approve": "published", "request_changes": "changes_requested", "reject": "rejected"}[decision]
        assert version.status == expected
        events = AuditEvent.objects.filter(review=review).exclude(action="version.submit")
        assert [(e.action, e.actor_username) for e in events] == [(f"review.{decision}", winner)]
        assert winner in str(losses[0])  # the loser is told who decided what

    assert sum(winners.values()) == ROUNDS
    print(f"\n{ROUNDS} rounds: one winner each ({winners}); every loser got 409 already_decided")


def test_two_submits_of_one_draft_at_once_open_one_review(cast):
    owner, _, _ = cast
    model = make_model(owner)

    for n in range(ROUNDS):
        version = make_version(model, f"0.{n}.0", files={"model.onnx": f"round {n}".encode()})

        outcomes = race(submit(version.pk, owner.pk), submit(version.pk, owner.pk))

        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["error", "ok"], (n, outcomes)
        error = next(value for kind, value in outcomes if kind == "error")
        assert isinstance(error, Conflict) and error.code == "invalid_state" and "in review" in str(error)
        assert Review.objects.filter(version=version).count() == 1
        assert AuditEvent.objects.filter(version=version, action="version.submit").count() == 1
        assert ModelVersion.objects.get(pk=version.pk).status == VersionStatus.IN_REVIEW
