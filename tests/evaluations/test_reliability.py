"""Faults: a worker killed mid-evaluation, a broker that is down, two workers on one job.

The SIGKILL test starts real `celery worker` processes on Redis against the test
database (PostgreSQL: an in-memory SQLite database cannot be shared with another
process), so it runs where .ci/run provides both and is skipped elsewhere.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from evaluations_app import services as ev
from evaluations_app import worker
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import recover_evaluations, run_evaluation
from models_app.models import VersionStatus
from tests.factories import make_model, make_version
from tests.models.api.helpers import API, version_url

from . import crafted
from .conftest import iris_test_set

CELERY = Path(sys.executable).with_name("celery")


@pytest.fixture
def version(owner):
    return make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()}, status=VersionStatus.PUBLISHED)


def _sweep(settings) -> dict:
    """Run the periodic sweep with every running evaluation counted as stale."""
    settings.EVAL_TASK_TIME_LIMIT = 0
    settings.EVAL_STALE_MARGIN_SECONDS = 0
    Evaluation.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    return recover_evaluations()


# --- the broker is down ------------------------------------------------------------


def test_a_request_while_the_broker_is_down_is_recorded_and_sent_by_the_sweep(
    owner_api, owner, version, iris_data, monkeypatch, settings, eager_broker, django_capture_on_commit_callbacks
):
    iris_test_set(owner, iris_data)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_evaluation, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(version_url() + "evaluations/", {"test_set": "olivia/iris-test"}, format="json")
    assert response.status_code == 202, response.content
    evaluation = Evaluation.objects.get()
    assert (evaluation.status, evaluation.enqueued_at) == (EvaluationStatus.QUEUED, None)

    assert _sweep(settings) == {"requeued": 0, "failed": 0, "resent": 0}  # still down: nothing lost
    assert Evaluation.objects.get().enqueued_at is None

    monkeypatch.undo()  # the broker is back; the eager broker runs what is sent
    assert _sweep(settings) == {"requeued": 0, "failed": 0, "resent": 1}
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    assert evaluation.enqueued_at is not None
    assert owner_api.get(f"{API}/evaluations/{evaluation.pk}/").json()["status"] == "succeeded"


def test_submitting_while_the_broker_is_down_still_submits(
    owner, iris_data, monkeypatch, django_capture_on_commit_callbacks
):
    from reviews_app import services as review_services
    from tests.reviews.conftest import GOOD_CARD

    model = make_model(owner, description=GOOD_CARD)
    model.evaluate_on.add(iris_test_set(owner, iris_data))
    monkeypatch.setattr(run_evaluation, "delay", lambda *a: (_ for _ in ()).throw(OperationalError("down")))
    draft = make_version(model, files={"model.onnx": crafted.argmax_model()})
    with django_capture_on_commit_callbacks(execute=True):
        review = review_services.version_submit(version=draft, actor=owner)
    assert review.version.status == VersionStatus.IN_REVIEW
    assert Evaluation.objects.get().enqueued_at is None


# --- two workers, one evaluation ----------------------------------------------------


def test_only_one_claim_of_an_evaluation_wins(owner, version, iris_data):
    evaluation = ev.evaluation_request(version=version, test_set=iris_test_set(owner, iris_data), actor=owner)
    assert worker.evaluation_claim(evaluation_id=evaluation.pk) is True
    assert worker.evaluation_claim(evaluation_id=evaluation.pk) is False
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.attempts) == (EvaluationStatus.RUNNING, 1)


def test_a_duplicate_delivery_does_not_run_the_evaluation_twice(owner, version, iris_data, monkeypatch):
    evaluation = ev.evaluation_request(version=version, test_set=iris_test_set(owner, iris_data), actor=owner)
    runs = []
    from evaluations_app.engine import runner

    real = runner.run_model
    monkeypatch.setattr(runner, "run_model", lambda e: runs.append(e.pk) or real(e))
    run_evaluation(evaluation.pk)
    run_evaluation(evaluation.pk)  # the broker redelivers the message (visibility timeout)
    evaluation.refresh_from_db()
    assert runs == [evaluation.pk]
    assert (evaluation.status, evaluation.attempts) == (EvaluationStatus.SUCCEEDED, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_only_one_wins(owner, version, iris_data):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    evaluation = ev.evaluation_request(version=version, test_set=iris_test_set(owner, iris_data), actor=owner)
    barrier = Barrier(4)

    def claim(_):
        try:
            barrier.wait()
            return worker.evaluation_claim(evaluation_id=evaluation.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(claim, range(4)))
    assert sorted(results) == [False, False, False, True]
    assert Evaluation.objects.get().attempts == 1


# --- a real worker killed with SIGKILL ----------------------------------------------


def _sandbox_children() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"/sandbox/child.py" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


class Workers:
    """Real `celery worker` processes against the test database and the test's Redis."""

    def __init__(self, tmp_path: Path):
        name = connection.settings_dict["NAME"]
        user, host, port = (connection.settings_dict[k] for k in ("USER", "HOST", "PORT"))
        password = connection.settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{password}@" if password else f"{user}@"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{auth}{host or '127.0.0.1'}:{port or 5432}/{name}",
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EVAL_WALL_SECONDS": "60",
            "EVAL_CPU_SECONDS": "60",
        }
        self.env.pop("TEST_DATABASE_NAME", None)
        self.logs = tmp_path
        self.started: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.logs / f"worker-{len(self.started)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S603 - our own venv's celery
            [str(CELERY), "-A", "registry_site", "worker", "-Q", "celery,evaluations", "--pool=solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
             "-n", f"test-{os.getpid()}-{len(self.started)}@%h"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=django_settings.BASE_DIR,
        )  # fmt: skip
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait(5)

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.logs.glob("worker-*.log")))


def _clear_broker() -> None:
    import redis

    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete("celery", "evaluations", "unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def workers(tmp_path):
    _clear_broker()
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()
    _clear_broker()


def _status(evaluation_id: int) -> str:
    return Evaluation.objects.values_list("status", flat=True).get(pk=evaluation_id)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_evaluation_is_recovered_and_the_job_finishes(owner, iris_data, workers, settings):
    """1. A worker starts a slow evaluation and is SIGKILLed: the evaluation is left running.
    2. The sweep requeues it and sends it again; a new worker finishes it (attempt 2).
    3. With the attempt cap reached, a second killed run is failed by the sweep with a reason."""
    slow = crafted.looping_model(trip_count=150_000)  # ~0.3 s per predict, 13 predicts with importance
    version = make_version(make_model(owner), files={"model.onnx": slow}, status=VersionStatus.PUBLISHED)
    test_set = iris_test_set(owner, iris_data)

    first = workers.start()
    evaluation = ev.evaluation_request(version=version, test_set=test_set, actor=owner)  # sent on commit
    _wait_for(lambda: _status(evaluation.pk) == "running", 60, "the first worker to claim it:\n" + workers.log())
    _wait_for(_sandbox_children, 10, "the sandboxed model to start")
    workers.kill(first)

    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.attempts) == (EvaluationStatus.RUNNING, 1)
    _wait_for(lambda: not _sandbox_children(), 5, "the orphaned sandbox child to die with its worker")

    assert _sweep(settings) == {"requeued": 1, "failed": 0, "resent": 1}
    second = workers.start()
    _wait_for(lambda: _status(evaluation.pk) in ("succeeded", "failed"), 90, "the second worker:\n" + workers.log())
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUCCEEDED, (evaluation.error_code, evaluation.error)
    assert evaluation.attempts == 2
    assert evaluation.metrics["accuracy"] > 0

    # The attempt cap: this time the sweep gives up on the first lost run.
    settings.EVAL_MAX_ATTEMPTS = 1
    again = ev.evaluation_request(version=version, test_set=test_set, actor=owner)
    _wait_for(lambda: _status(again.pk) == "running", 60, "the second worker to claim the next job")
    _wait_for(_sandbox_children, 10, "the sandboxed model to start")
    workers.kill(second)
    assert _sweep(settings) == {"requeued": 0, "failed": 1, "resent": 0}
    again.refresh_from_db()
    assert (again.status, again.error_code) == (EvaluationStatus.FAILED, "worker_lost")
    assert again.error == "The worker running this evaluation stopped 1 time; giving up."
    assert again.finished_at is not None
