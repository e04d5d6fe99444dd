"""The evaluation tests' cast and shared tables: an iris test set, reviewers, an eager broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations_app import services as ev
from tests.factories import set_up_unaudited

from . import crafted


@pytest.fixture(scope="session")
def iris_data():
    return crafted.iris_split()


def iris_test_set(owner, iris_data, name: str = "iris-test", **fields):
    _, X_test, _, y_test = iris_data
    with set_up_unaudited():
        return ev.test_set_create(
            owner=owner, name=name, task="classification", target_column="target",
            uploaded_file=SimpleUploadedFile(f"{name}.csv", crafted.csv_bytes(X_test, y_test)), **fields,
        )  # fmt: skip
