"""A test-set upload cannot exhaust the web process: what a table would take decoded is
bounded before it is decoded (TEST_SET_MAX_DECODED_BYTES), from the Parquet metadata or a
streaming count of the CSV, and refused with a 422 that says what is too large."""

import datetime
import decimal
import gzip
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluations_app.engine import tables
from evaluations_app.models import TestSet
from models_app.models import Blob
from tests.models.api.helpers import assert_error

from .test_test_sets_api import post


def parquet(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def constant_columns(rows: int, columns: int) -> pa.Table:
    """`columns` float columns of `rows` zeros, dictionary-encoded: two million rows of them
    compress to a few kilobytes, and decode to rows × columns × 8 bytes."""
    zeros = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int8)), pa.array([0.0]))
    names = [f"f{i}" for i in range(columns - 1)] + ["target"]
    return pa.Table.from_arrays([zeros] * columns, names=names)


@pytest.fixture
def no_decoding(monkeypatch):
    """Reading any Parquet page fails the test: a refusal must come from the footer alone."""

    def refuse(*args, **kwargs):
        raise AssertionError("the Parquet data was decoded")

    for name in ("read", "iter_batches", "read_row_group", "read_row_groups"):
        monkeypatch.setattr(pq.ParquetFile, name, refuse)


def assert_nothing_stored() -> None:
    assert not TestSet.objects.exists()
    assert not Blob.objects.exists()


def test_a_small_parquet_file_declaring_a_huge_table_is_refused_without_being_decoded(owner_api, no_decoding):
    content = parquet(constant_columns(2_000_000, 100), compression="zstd", store_schema=False)
    assert len(content) < 2 * 1024**2  # a couple of megabytes at most, for 1.6 GB of float64
    body = assert_error(post(owner_api, content, file_name="huge.parquet"), 422, "test_set_too_large")
    assert body["detail"] == (
        "The table would take about 1.5 GB once decoded (2,000,000 rows × 100 columns); the limit is 1.0 GB."
    )
    assert_nothing_stored()


def test_the_cap_is_a_setting(owner_api, settings, no_decoding):
    settings.TEST_SET_MAX_DECODED_BYTES = 1024**2
    content = parquet(constant_columns(100_000, 3))  # 2.3 MB decoded
    body = assert_error(post(owner_api, content), 422, "test_set_too_large")
    assert body["detail"].endswith("(100,000 rows × 3 columns); the limit is 1.0 MB.")


def test_declared_uncompressed_bytes_over_the_cap_are_refused_from_the_footer(owner_api, settings, no_decoding):
    settings.TEST_SET_MAX_DECODED_BYTES = 64 * 1024
    rng = np.random.default_rng(1)
    frame = pa.table({"a": rng.normal(size=10_000), "b": rng.normal(size=10_000), "target": np.arange(10_000) % 2})
    body = assert_error(post(owner_api, parquet(frame, use_dictionary=False)), 422, "test_set_too_large")
    assert body["detail"].startswith("The Parquet file declares ")
    assert body["detail"].endswith(" of uncompressed data; the limit is 64.0 KB.")


def test_text_that_decodes_past_what_the_metadata_declares_is_refused_as_it_is_read(owner_api, settings):
    """One 1000-character label repeated 20,000 times: a few kilobytes of dictionary pages
    that the metadata cannot show expand to 20 MB; the batched read stops at the cap."""
    settings.TEST_SET_MAX_DECODED_BYTES = 4 * 1024**2
    label = pa.DictionaryArray.from_arrays(pa.array(np.zeros(20_000, dtype=np.int8)), pa.array(["x" * 1000]))
    content = parquet(pa.table({"a": np.zeros(20_000), "target": label.cast(pa.string())}))
    assert len(content) < 64 * 1024
    body = assert_error(post(owner_api, content), 422, "test_set_too_large")
    assert body["detail"] == "The Parquet file's text decodes to more than its metadata declares; the limit is 4.0 MB."
    assert_nothing_stored()


@pytest.mark.parametrize(
    "column, words",
    [
        (pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.5")]), "decimal128(2, 1)"),
        (pa.array([datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)]), "date32[day]"),
        (pa.array([[1.0], [2.0, 3.0]]), "list<element: double>"),
        (pa.array([b"\x00", b"\x01"]), "binary"),
    ],
    ids=["decimal", "date", "list", "binary"],
)
def test_parquet_columns_pandas_would_hold_as_objects_are_refused_by_name(owner_api, no_decoding, column, words):
    content = parquet(pa.table({"odd": column, "target": [0, 1]}))
    body = assert_error(post(owner_api, content), 422, "invalid_test_set")
    assert body["detail"] == (
        f"The column 'odd' is of Parquet type {words}; a test set's columns must be numbers, booleans or text."
    )


def test_ordinary_parquet_files_read_as_they_did(owner_api):
    """An index, a categorical text target and float32 features: what pandas writes."""
    frame = pd.DataFrame(
        {
            "a": np.arange(6, dtype=np.float32),
            "b": [True, False] * 3,
            "target": pd.Categorical(["cat", "dog", "cat", "dog", "cat", "dog"]),
        },
        index=pd.Index([10, 11, 12, 13, 14, 15], name="id"),
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    response = post(owner_api, buffer.getvalue())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["columns"], body["file_format"]) == (6, ["a", "b", "target"], "parquet")
    empty = pa.table({"a": pa.array([], pa.float64()), "target": pa.array([], pa.int64())})
    assert assert_error(post(owner_api, parquet(empty), name="empty"), 422)["detail"] == "The table has no rows."


# --- CSV ---


@pytest.fixture
def parsed(monkeypatch):
    """The calls that parse CSV rows (the header's nrows=0 read is not one)."""
    calls = []
    read_csv = pd.read_csv

    def spy(*args, **kwargs):
        if kwargs.get("nrows") != 0:
            calls.append(kwargs)
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(tables.pd, "read_csv", spy)
    return calls


def test_a_csv_larger_than_the_cap_is_refused_by_a_streaming_count(owner_api, settings, parsed):
    settings.TEST_SET_MAX_DECODED_BYTES = 1024
    content = b"a,b,target\n" + b"1,2,0\n" * 400
    body = assert_error(post(owner_api, content), 422, "test_set_too_large")
    assert body["detail"] == "The CSV file is larger than a test set may be once decoded; the limit is 1.0 KB."
    assert parsed == []
    assert_nothing_stored()


def test_a_csv_whose_rows_times_columns_would_pass_the_cap_is_refused_before_it_is_parsed(owner_api, settings, parsed):
    """Short cells take more room decoded than in the file: 8 bytes for each '0,'."""
    settings.TEST_SET_MAX_DECODED_BYTES = 100 * 1024
    header = ",".join([f"f{i}" for i in range(49)] + ["target"]).encode() + b"\n"
    content = header + (b",".join([b"0"] * 50) + b"\n") * 300
    assert len(content) < 100 * 1024
    body = assert_error(post(owner_api, content), 422, "test_set_too_large")
    assert body["detail"].startswith("The table would take about 146.")
    assert body["detail"].endswith(" KB once decoded (300 lines × 50 columns); the limit is 100.0 KB.")
    assert parsed == []


def test_a_csv_under_the_cap_is_parsed_as_before(owner_api, settings, parsed):
    settings.TEST_SET_MAX_DECODED_BYTES = 100 * 1024
    content = b"a,b,target\n" + b"1,2.5,0\n3,4,1\n" * 100
    response = post(owner_api, content)
    assert response.status_code == 201, response.content
    assert response.json()["rows"] == 200
    assert len(parsed) == 1


def test_a_gzip_compressed_csv_is_refused_without_being_decompressed(owner_api):
    content = gzip.compress(b"a,b,target\n" + b"0,0,0\n" * 100_000)
    body = assert_error(post(owner_api, content, file_name="table.csv.gz"), 422, "invalid_test_set")
    assert body["detail"] == "Upload the test set as a CSV or Parquet file."


def test_a_label_longer_than_the_limit_is_refused_naming_its_line(owner_api):
    """The target is stored as fixed-width text: rows × the longest label × 4 bytes."""
    content = b"a,b,target\n1,2,cat\n3,4," + b"x" * 101 + b"\n5,6,dog\n"
    body = assert_error(post(owner_api, content), 422, "invalid_test_set")
    assert body["detail"] == (
        "The target column 'target' holds a label of 101 characters on line 3; labels may be at most 100 characters."
    )
    assert post(owner_api, b"a,b,target\n1,2," + b"x" * 100 + b"\n3,4,y\n").status_code == 201
