"""Moving TestSet and Evaluation into evaluations_app keeps every row where it was.

The database is migrated back to the head before the move (models_app 0004, no
evaluations_app), filled through the historical models of that state, then migrated
forward; the rows, the blobs they point at and the declared test sets are all still
there, read through today's models.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from evaluations_app.models import Evaluation, TestSet
from models_app.models import Blob, RegisteredModel

BEFORE = [("models_app", "0004_test_sets_and_evaluations"), ("evaluations_app", None)]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The historical models at those nodes (an app migrated to zero has none).
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_rows_blobs_and_evaluations_survive_the_move_to_evaluations_app():
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    OldBlob = old.get_model("models_app", "Blob")
    OldModel = old.get_model("models_app", "RegisteredModel")
    OldVersion = old.get_model("models_app", "ModelVersion")
    OldFile = old.get_model("models_app", "ModelFile")
    OldTestSet = old.get_model("models_app", "TestSet")
    OldEvaluation = old.get_model("models_app", "Evaluation")

    owner = User.objects.create(username="olivia")
    table, model_bytes = (
        OldBlob.objects.create(sha256="a" * 64, size=10),
        OldBlob.objects.create(sha256="b" * 64, size=5),
    )
    registered = OldModel.objects.create(owner=owner, name="iris", task="tabular-classification",
                                         framework="scikit-learn", license="MIT")  # fmt: skip
    version = OldVersion.objects.create(model=registered, version="1.0.0", major=1, minor=0, patch=0,
                                        prerelease_key="z", status="published")  # fmt: skip
    model_file = OldFile.objects.create(version=version, path="model.onnx", blob=model_bytes)
    test_set = OldTestSet.objects.create(owner=owner, name="iris-test", task="classification", target_column="y",
                                         blob=table, file_format="csv", rows=30, columns=["a", "y"],
                                         benchmark=True)  # fmt: skip
    registered.evaluate_on.add(test_set)
    OldEvaluation.objects.create(version=version, test_set=test_set, model_file=model_file, status="succeeded",
                                 metrics={"accuracy": 0.9}, attempts=1)  # fmt: skip

    _migrate(_latest())

    moved = TestSet.objects.get(name="iris-test")
    assert (moved.owner.username, moved.rows, moved.benchmark, moved.blob_id) == ("olivia", 30, True, "a" * 64)
    assert list(RegisteredModel.objects.get(name="iris").evaluate_on.all()) == [moved]
    evaluation = Evaluation.objects.get()
    assert (evaluation.test_set, evaluation.version.version, evaluation.metrics) == (moved, "1.0.0", {"accuracy": 0.9})
    assert evaluation.model_file.blob_id == "b" * 64
    assert set(Blob.objects.values_list("sha256", flat=True)) == {"a" * 64, "b" * 64}
    # Permissions and admin history follow the models to their new app.
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(TestSet).app_label == "evaluations_app"
    assert not ContentType.objects.filter(app_label="models_app", model__in=["testset", "evaluation"]).exists()


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Whatever happens, the next test finds the database fully migrated."""
    yield
    call_command("migrate", verbosity=0)
