"""Real concurrency against PostgreSQL: requests released together by a barrier, each on its
own connection, cannot both pass a quota that only one of them fits under.

- the per-user quota of active evaluations (EVAL_MAX_ACTIVE_PER_USER), counted under the
  user's row lock;
- a benchmark's daily cap per version (EVAL_BENCHMARK_RUNS_PER_DAY), counted under the
  version's row lock. (Two active evaluations of one version on one test set are stopped by
  a unique index anyway; the lock is what makes the loser hear the cap, with its sentence,
  rather than a conflict.)
"""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus, TestSet
from models_app.models import ModelVersion
from tests.concurrency import race
from tests.factories import make_model, make_version

from . import crafted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 10


def ask(version_pk: int, test_set_pk: int, user_pk: int) -> Callable[[], Evaluation]:
    def call() -> Evaluation:
        # Loaded in the thread, so no row object is shared between threads.
        return ev.evaluation_request(
            version=ModelVersion.objects.select_related("model__owner").get(pk=version_pk),
            test_set=TestSet.objects.select_related("owner").get(pk=test_set_pk),
            actor=get_user_model().objects.get(pk=user_pk),
        )

    return call


def table(owner, name: str) -> TestSet:
    X, y = [[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]], [0, 1]
    return ev.test_set_create(
        owner=owner, name=name, task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile(f"{name}.csv", crafted.csv_bytes(X, y)),
    )  # fmt: skip


def test_two_requests_at_once_cannot_both_fit_under_the_active_quota(owner, settings):
    settings.EVAL_MAX_ACTIVE_PER_USER = 1
    model = make_model(owner)
    version = make_version(model, files={"model.onnx": crafted.argmax_model()})
    for n in range(ROUNDS):
        first, second = table(owner, f"left-{n}"), table(owner, f"right-{n}")
        outcomes = race(ask(version.pk, first.pk, owner.pk), ask(version.pk, second.pk, owner.pk))
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["error", "ok"], outcomes
        error = next(value for kind, value in outcomes if kind == "error")
        assert isinstance(error, ev.TooManyEvaluations), error
        assert Evaluation.objects.filter(status=EvaluationStatus.QUEUED).count() == 1
        Evaluation.objects.update(status=EvaluationStatus.SUCCEEDED)


def test_two_requests_at_once_cannot_both_fit_under_a_benchmark_s_daily_cap(owner, staff, settings):
    settings.EVAL_BENCHMARK_RUNS_PER_DAY = 1
    holdout = table(staff, "holdout")
    TestSet.objects.filter(pk=holdout.pk).update(benchmark=True)
    model = make_model(owner)
    for n in range(ROUNDS):
        version = make_version(model, f"1.{n}.0", files={"model.onnx": crafted.argmax_model()})
        outcomes = race(ask(version.pk, holdout.pk, owner.pk), ask(version.pk, holdout.pk, staff.pk))
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["error", "ok"], outcomes
        error = next(value for kind, value in outcomes if kind == "error")
        assert isinstance(error, ev.TooManyEvaluations) and error.code == "benchmark_daily_cap", error
        assert version.evaluations.count() == 1
