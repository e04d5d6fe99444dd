"""Reading and validating test-set tables (CSV or Parquet) with pandas and pyarrow.

Validation runs at upload, before anything is stored, and names the column or row at
fault. The column count is checked from the header (CSV) or the schema (Parquet) before
the body is read, so a table with a million columns is refused cheaply.
"""

import csv
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from django.conf import settings

from models_app.formats import Format, detect_format
from registry_site.errors import DomainError

MAX_CLASSES = 1000


class InvalidTable(DomainError):
    status = 422
    code = "invalid_test_set"


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


def read_table(fileobj: BinaryIO) -> Table:
    """Read a CSV or Parquet file (detected from its bytes) within the configured caps."""
    kind = detect_format(fileobj)
    fileobj.seek(0)
    if kind == Format.PARQUET:
        try:
            parquet = pq.ParquetFile(fileobj)
        except Exception as error:  # pyarrow raises several types for a corrupt file
            raise InvalidTable(f"The Parquet file cannot be read: {error}.") from None
        _check_columns([str(name) for name in parquet.schema_arrow.names])
        if parquet.metadata.num_rows > settings.TEST_SET_MAX_ROWS:
            raise InvalidTable(
                f"The table has {parquet.metadata.num_rows} rows; the limit is {settings.TEST_SET_MAX_ROWS}."
            )
        frame = parquet.read().to_pandas()
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
