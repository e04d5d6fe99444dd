"""Reading and validating test-set tables (CSV or Parquet) with pandas and pyarrow.

Validation runs at upload, before anything is stored, and names the column or row at
fault. What a table would take once decoded is bounded before it is decoded, since the
upload is read inside a web request: the column count from the header (CSV) or the schema
(Parquet); the decoded size from the Parquet metadata (rows, column types, declared
uncompressed bytes) or from a streaming count of the CSV's bytes and lines. A few
megabytes of Parquet that declare two million rows of a thousand columns are refused
without reading a page.
"""

import csv
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from models_app.formats import Format, detect_format
from registry_site.errors import DomainError

MAX_CLASSES = 1000
# The target becomes fixed-width text (rows × longest label × 4 bytes): one long label
# among two million short ones must not make that gigabytes.
MAX_LABEL_CHARS = 100
# pandas holds a number or a boolean in at most 8 bytes (an integer column with an empty
# cell becomes float64); a text cell in an 8-byte offset plus its bytes.
CELL_BYTES = 8
READ_BLOCK_BYTES = 1024 * 1024
# Parquet is decoded in batches of about this many cells, and the decoded size counted as
# it grows: the metadata cannot say how far dictionary-encoded text expands.
BATCH_CELLS = 1_000_000


class InvalidTable(DomainError):
    status = 422
    code = "invalid_test_set"


def _size(n: int) -> str:
    return filesizeformat(n).replace("\xa0", " ")


def _too_large(what: str) -> InvalidTable:
    return InvalidTable(
        f"{what}; the limit is {_size(settings.TEST_SET_MAX_DECODED_BYTES)}.",
        code="test_set_too_large",
    )


@dataclass
class Table:
    file_format: str
    frame: pd.DataFrame

    @property
    def columns(self) -> list[str]:
        return [str(column) for column in self.frame.columns]


def _check_columns(columns: list[str]) -> None:
    limit = settings.TEST_SET_MAX_COLUMNS
    if len(columns) > limit:
        raise InvalidTable(f"The table has {len(columns)} columns; the limit is {limit}.")
    if len(columns) < 2:
        raise InvalidTable("The table needs at least one feature column and the target column.")
    seen = set()
    for column in columns:
        if column in seen:
            raise InvalidTable(f"The column '{column}' appears twice.")
        seen.add(column)


def _raw_header(fileobj: BinaryIO) -> list[str] | None:
    """The header's names as written: pandas renames a repeated column ("a", "a.1")."""
    fileobj.seek(0)
    try:
        first = fileobj.readline(1024 * 1024).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    finally:
        fileobj.seek(0)
    rows = list(csv.reader([first]))
    return rows[0] if rows else None


def _first_undecodable(fileobj: BinaryIO) -> tuple[int, int]:
    """(line, character) of the first byte sequence that is not UTF-8, both from 1."""
    fileobj.seek(0)
    for number, raw in enumerate(fileobj, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return number, len(raw[: error.start].decode("utf-8")) + 1
    return 1, 1


def _parquet_type_fits(arrow_type: pa.DataType) -> bool:
    """Numbers, booleans and text: what pandas holds compactly. Decimals, dates, lists and
    structs become one Python object per cell, tens of bytes more than the file says."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    return any(
        check(arrow_type)
        for check in (
            pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean,
            pa.types.is_string, pa.types.is_large_string, pa.types.is_null,
        )
    )  # fmt: skip


def _is_text(arrow_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _check_parquet_size(parquet: pq.ParquetFile) -> None:
    """Refuse, from the footer alone, a Parquet file whose table would be too large decoded.

    Fixed-width columns take rows × their width whatever the compression (a constant column
    of two million rows compresses to a few bytes); text takes an offset per row plus the
    bytes its pages declare. Both are read from the metadata; no page is decoded.
    """
    metadata, schema = parquet.metadata, parquet.schema_arrow
    for field in schema:
        if not _parquet_type_fits(field.type):
            raise InvalidTable(
                f"The column '{field.name}' is of Parquet type {field.type}; "
                "a test set's columns must be numbers, booleans or text."
            )
    rows, cap = metadata.num_rows, settings.TEST_SET_MAX_DECODED_BYTES
    declared: dict[str, int] = {}  # uncompressed bytes per column, summed over row groups
    for group in range(metadata.num_row_groups):
        for column in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(column)
            declared[chunk.path_in_schema] = declared.get(chunk.path_in_schema, 0) + chunk.total_uncompressed_size
    if sum(declared.values()) > cap:
        raise _too_large(f"The Parquet file declares {_size(sum(declared.values()))} of uncompressed data")
    estimate = 0
    for field in schema:
        if _is_text(field.type):
            estimate += rows * CELL_BYTES + declared.get(field.name, 0)
        elif pa.types.is_floating(field.type):
            estimate += rows * (field.type.bit_width // 8)
        else:
            estimate += rows * CELL_BYTES
    if estimate > cap:
        raise _too_large(
            f"The table would take about {_size(estimate)} once decoded ({rows:,} rows × {len(schema)} columns)"
        )


def _read_parquet(parquet: pq.ParquetFile) -> pd.DataFrame:
    """Decode in batches, counting the bytes decoded, so a file whose text expands past what
    its metadata declares is refused at the batch that crosses the cap, not after."""
    names = parquet.schema_arrow.names
    batch_rows = max(1, BATCH_CELLS // max(len(names), 1))
    batches, decoded = [], 0
    for batch in parquet.iter_batches(batch_size=batch_rows, use_pandas_metadata=True):
        decoded += batch.nbytes
        if decoded > settings.TEST_SET_MAX_DECODED_BYTES:
            raise _too_large("The Parquet file's text decodes to more than its metadata declares")
        batches.append(batch)
    if not batches:
        return parquet.schema_arrow.empty_table().to_pandas()
    return pa.Table.from_batches(batches).to_pandas()


def _check_csv_size(fileobj: BinaryIO, *, columns: int) -> None:
    """Refuse, from one streaming pass that counts bytes and lines, a CSV too large decoded.

    A line is at most one row, so lines × columns × 8 bytes plus the text itself bounds
    what pandas will hold; the count stops as soon as the bytes alone pass the cap.
    """
    cap = settings.TEST_SET_MAX_DECODED_BYTES
    fileobj.seek(0)
    size = lines = 0
    last = b""
    while block := fileobj.read(READ_BLOCK_BYTES):
        size += len(block)
        lines += block.count(b"\n")
        last = block
        if size > cap:
            raise _too_large("The CSV file is larger than a test set may be once decoded")
    fileobj.seek(0)
    rows = max(lines - 1 + (1 if last and not last.endswith(b"\n") else 0), 0)  # after the header
    estimate = rows * columns * CELL_BYTES + size
    if estimate > cap:
        raise _too_large(
            f"The table would take about {_size(estimate)} once decoded ({rows:,} lines × {columns} columns)"
        )


def read_table(fileobj: BinaryIO) -> Table:
    """Read a CSV or Parquet file (detected from its bytes) within the configured caps."""
    kind = detect_format(fileobj)
    fileobj.seek(0)
    if kind == Format.PARQUET:
        try:
            parquet = pq.ParquetFile(fileobj)  # reads the footer only
        except Exception as error:  # pyarrow raises several types for a corrupt file
            raise InvalidTable(f"The Parquet file cannot be read: {error}.") from None
        _check_columns([str(name) for name in parquet.schema_arrow.names])
        if parquet.metadata.num_rows > settings.TEST_SET_MAX_ROWS:
            raise InvalidTable(
                f"The table has {parquet.metadata.num_rows} rows; the limit is {settings.TEST_SET_MAX_ROWS}."
            )
        _check_parquet_size(parquet)
        try:
            frame = _read_parquet(parquet)
        except (OSError, pa.ArrowException) as error:
            raise InvalidTable(f"The Parquet file cannot be read: {error}.") from None
        return Table("parquet", frame)
    if kind not in (Format.TEXT, Format.JSON, Format.UNKNOWN):
        raise InvalidTable("Upload the test set as a CSV or Parquet file.")
    try:
        header = pd.read_csv(fileobj, nrows=0, encoding="utf-8", encoding_errors="strict")
        names = [str(column) for column in header.columns]
        _check_columns(names)
        raw = _raw_header(fileobj)
        if raw is not None and len(raw) == len(names):
            _check_columns(raw)
        _check_csv_size(fileobj, columns=len(names))
        fileobj.seek(0)
        frame = pd.read_csv(
            fileobj, encoding="utf-8", encoding_errors="strict", nrows=settings.TEST_SET_MAX_ROWS + 1, low_memory=False
        )
    except UnicodeDecodeError:
        # pandas reports the position within its read buffer, not the file: find the line.
        line, column = _first_undecodable(fileobj)
        raise InvalidTable(
            f"The CSV file is not UTF-8 text (line {line} has a byte UTF-8 cannot read at character {column}); "
            "save it as UTF-8."
        ) from None
    except pd.errors.EmptyDataError:
        raise InvalidTable("The CSV file is empty.") from None
    except pd.errors.ParserError as error:
        raise InvalidTable(f"The CSV file cannot be parsed: {str(error).strip()}.") from None
    if len(frame) > settings.TEST_SET_MAX_ROWS:
        raise InvalidTable(f"The table has more than {settings.TEST_SET_MAX_ROWS} rows, the limit.")
    return Table("csv", frame)


def _first_bad_row(mask: np.ndarray) -> int:
    # Rows are counted from 1 after the header, as a spreadsheet shows them (+1 for the header line).
    return int(np.argmax(mask)) + 2


def validate_table(table: Table, *, target_column: str, task: str) -> None:
    """Refuse, with the column or row named, what the registry cannot evaluate on."""
    frame = table.frame
    if len(frame) == 0:
        raise InvalidTable("The table has no rows.")
    if target_column not in frame.columns:
        raise InvalidTable(
            f"The target column '{target_column}' is not in the table; its columns are: {', '.join(table.columns[:20])}.",
            field="target_column",
        )
    target = frame[target_column]
    missing = target.isna().to_numpy()
    if missing.any():
        raise InvalidTable(f"The target column '{target_column}' is empty on line {_first_bad_row(missing)}.")
    if task == "regression" and not pd.api.types.is_numeric_dtype(target):
        raise InvalidTable(f"The target column '{target_column}' must be numeric for a regression test set.")
    if task == "classification" and target.nunique() > MAX_CLASSES:
        raise InvalidTable(f"The target column '{target_column}' has more than {MAX_CLASSES} classes.")
    if task == "classification":
        longest = max(target.unique(), key=lambda label: len(str(label)))
        if len(str(longest)) > MAX_LABEL_CHARS:
            line = _first_bad_row((target == longest).to_numpy())
            raise InvalidTable(
                f"The target column '{target_column}' holds a label of {len(str(longest))} characters on line "
                f"{line}; labels may be at most {MAX_LABEL_CHARS} characters."
            )
    for column in frame.columns:
        if column == target_column:
            continue
        values = frame[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            bad = ~pd.to_numeric(values, errors="coerce").notna().to_numpy()
            example = values.iloc[int(np.argmax(bad))] if bad.any() else values.iloc[0]
            raise InvalidTable(
                f"The feature column '{column}' is not numeric (line {_first_bad_row(bad)} holds {str(example)[:40]!r}); "
                "the models evaluated here take numbers only."
            )
        empty = values.isna().to_numpy()
        if empty.any():
            raise InvalidTable(f"The feature column '{column}' is empty on line {_first_bad_row(empty)}.")


def features_and_target(table: Table, *, target_column: str) -> tuple[np.ndarray, np.ndarray]:
    """The feature matrix as C-contiguous float32 (what ONNX tabular models take) and the target.

    A text target becomes fixed-width unicode, so it can be saved without pickle.
    """
    frame = table.frame
    target = frame[target_column].to_numpy()
    if target.dtype == object:
        target = target.astype(str)
    features = frame.drop(columns=[target_column]).to_numpy(dtype=np.float32, copy=False)
    return np.ascontiguousarray(features), target
