"""POST/GET /api/v1/test-sets/: uploads are validated up front and refused with the column
or row at fault; what is accepted is stored content-addressed; private sets stay private."""

import hashlib

import numpy as np
import pytest

from evaluations_app import services as ev
from evaluations_app.models import TestSet
from models_app.blobs import blob_open
from models_app.models import Blob
from registry_site.errors import Forbidden
from tests.conftest import client_for
from tests.models.api.helpers import API, assert_error, upload

from . import crafted

TEST_SETS = f"{API}/test-sets/"
GOOD_CSV = b"a,b,target\n1,2.5,0\n3,4,1\n5,6.25,0\n"


def post(client, content: bytes, file_name: str = "table.csv", **fields):
    data = {"file": upload(content, file_name), "name": "table", "task": "classification", "target_column": "target"}
    data.update(fields)
    return client.post(TEST_SETS, data, format="multipart")


def stored_bytes(sha256: str) -> bytes:
    with blob_open(sha256) as handle:
        return handle.read()


def test_it_accepts_a_csv_and_stores_it_content_addressed(owner_api):
    response = post(owner_api, GOOD_CSV, description="Three rows")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["full_name"] == "olivia/table"
    assert body["rows"] == 3
    assert body["columns"] == ["a", "b", "target"]
    assert body["file_format"] == "csv"
    assert body["sha256"] == hashlib.sha256(GOOD_CSV).hexdigest()
    assert body["benchmark"] is False
    assert Blob.objects.filter(sha256=body["sha256"], size=len(GOOD_CSV)).exists()
    assert stored_bytes(body["sha256"]) == GOOD_CSV
    test_set = TestSet.objects.get(name="table")
    assert test_set.feature_columns == ["a", "b"]


def test_it_accepts_parquet_detected_from_the_bytes(owner_api, iris_data):
    _, X_test, _, y_test = iris_data
    content = crafted.parquet_bytes(X_test, y_test)
    response = post(owner_api, content, file_name="table.csv")  # the extension lies; the bytes decide
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["file_format"]) == (len(y_test), "parquet")
    assert body["columns"] == [*crafted.FEATURES, "target"]
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored_bytes(body["sha256"]) == content


def test_the_same_table_under_two_names_is_stored_once(owner_api):
    first = post(owner_api, GOOD_CSV, name="one").json()
    second = post(owner_api, GOOD_CSV, name="two").json()
    assert first["sha256"] == second["sha256"]
    assert Blob.objects.filter(sha256=first["sha256"]).count() == 1


@pytest.mark.parametrize(
    "content, words",
    [
        (b"a,b,target\n", "The table has no rows."),
        (b"a,b,label\n1,2,0\n", "The target column 'target' is not in the table; its columns are: a, b, label."),
        (b"a,b,target\n1,2,0\n3,abc,1\n", "The feature column 'b' is not numeric (line 3 holds 'abc')"),
        (b"a,b,target\n1,2,0\n3,4,1\n,6,0\n", "The feature column 'a' is empty on line 4."),
        (b"a,b,target\n1,2,\n", "The target column 'target' is empty on line 2."),
        (
            "a,caf\xe9,target\n1,2,0\n".encode("latin-1"),
            "not UTF-8 text (line 1 has a byte UTF-8 cannot read at character 6)",
        ),
        (b"a,a,target\n1,2,0\n", "The column 'a' appears twice."),
        (b"target\n1\n", "at least one feature column"),
    ],
    ids=["no-rows", "no-target", "non-numeric", "empty-cell", "empty-target", "latin-1", "dup-column", "no-feature"],
)
def test_it_refuses_a_bad_table_naming_the_column_or_row(owner_api, content, words):
    body = assert_error(post(owner_api, content), 422, "invalid_test_set")
    assert words in body["detail"]
    assert not TestSet.objects.exists()


def test_it_refuses_more_columns_than_the_cap_from_the_header(owner_api, settings):
    settings.TEST_SET_MAX_COLUMNS = 3
    body = assert_error(post(owner_api, b"a,b,c,d,target\n1,2,3,4,0\n"), 422, "invalid_test_set")
    assert body["detail"] == "The table has 5 columns; the limit is 3."


def test_it_refuses_more_rows_than_the_cap(owner_api, settings, iris_data):
    settings.TEST_SET_MAX_ROWS = 10
    _, X_test, _, y_test = iris_data
    body = assert_error(post(owner_api, crafted.csv_bytes(X_test, y_test)), 422, "invalid_test_set")
    assert body["detail"] == "The table has more than 10 rows, the limit."
    body = assert_error(post(owner_api, crafted.parquet_bytes(X_test, y_test)), 422, "invalid_test_set")
    assert body["detail"] == f"The table has {len(y_test)} rows; the limit is 10."


def test_it_refuses_a_file_that_is_not_a_table(owner_api):
    body = assert_error(post(owner_api, b"\x89PNG\r\n\x1a\n" + bytes(64)), 422, "invalid_test_set")
    assert "not UTF-8 text" in body["detail"]


def test_csv_injection_cells_are_stored_as_they_are(owner_api):
    content = b"a,b,target\n1,2,=cmd|' /C calc'!A0\n3,4,@SUM(1+1)\n5,6,+1-1\n"
    response = post(owner_api, content, description='=HYPERLINK("http://evil")')
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["description"] == '=HYPERLINK("http://evil")'
    assert stored_bytes(body["sha256"]) == content
    test_set = TestSet.objects.get(name="table")
    with blob_open(test_set.target_blob_id) as handle:
        target = np.load(handle, allow_pickle=False)
    assert target.tolist() == ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1-1"]


def test_a_second_test_set_with_the_same_name_is_a_conflict(owner_api):
    assert post(owner_api, GOOD_CSV).status_code == 201
    body = assert_error(post(owner_api, GOOD_CSV), 409, "name_taken")
    assert "already have a test set named 'table'" in body["detail"]
    assert TestSet.objects.count() == 1


def test_another_user_may_use_the_same_name(owner_api, outsider_api):
    assert post(owner_api, GOOD_CSV).status_code == 201
    assert post(outsider_api, GOOD_CSV).status_code == 201


def test_anonymous_users_cannot_upload(api, db):
    response = post(api, GOOD_CSV)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert not TestSet.objects.exists()


def test_a_private_test_set_is_visible_only_to_its_owner_and_staff(owner_api, outsider_api, staff_api, api):
    assert post(owner_api, GOOD_CSV, name="secret", visibility="private").status_code == 201
    assert post(owner_api, GOOD_CSV, name="open").status_code == 201
    detail = f"{TEST_SETS}olivia/secret/"

    def names(client) -> set[str]:
        return {row["name"] for row in client.get(TEST_SETS).json()["results"]}

    assert names(owner_api) == {"secret", "open"}
    assert names(staff_api) == {"secret", "open"}
    assert names(outsider_api) == names(api) == {"open"}
    assert owner_api.get(detail).status_code == 200
    for client in (outsider_api, api):
        assert_error(client.get(detail), 404)
        assert_error(client.get(detail + "leaderboard/"), 404)


def test_the_benchmark_flag_cannot_be_set_by_uploaders(owner_api, owner, staff):
    response = post(owner_api, GOOD_CSV, benchmark="true", regression_threshold="0.5")
    assert response.status_code == 201
    assert response.json()["benchmark"] is False
    test_set = TestSet.objects.get(name="table")
    assert (test_set.benchmark, test_set.regression_threshold) == (False, 0.02)
    with pytest.raises(Forbidden, match="Only staff can mark benchmarks"):
        ev.test_set_update(test_set=test_set, actor=owner, benchmark=True)
    test_set.refresh_from_db()
    assert test_set.benchmark is False
    ev.test_set_update(test_set=test_set, actor=staff, benchmark=True, regression_threshold=0.05)
    test_set.refresh_from_db()
    assert (test_set.benchmark, test_set.regression_threshold) == (True, 0.05)
    benchmarks = client_for(None).get(TEST_SETS + "?benchmark=1").json()["results"]
    assert [row["full_name"] for row in benchmarks] == ["olivia/table"]
