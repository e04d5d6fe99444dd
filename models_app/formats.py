"""Detect a model file's format from its bytes, never from its name.

Generic sniffers (libmagic, `filetype`) know none of the model formats, so the few
signatures that matter here are checked directly: ONNX is a protobuf whose first field
is `ir_version`, skops and PyTorch are zip archives recognised by their members, pickle
starts with the PROTO opcode, and so on.
"""

import json
import pickletools
import zipfile
from typing import BinaryIO

HEAD_SIZE = 4096


class Format:
    ONNX = "onnx"
    SKOPS = "skops"
    PICKLE = "pickle"
    JOBLIB = "joblib"
    PYTORCH = "pytorch"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HDF5 = "hdf5"
    NUMPY = "numpy"
    PARQUET = "parquet"
    ZIP = "zip"
    JSON = "json"
    TEXT = "text"
    UNKNOWN = "unknown"

    CHOICES = [
        (ONNX, "ONNX"),
        (SKOPS, "skops"),
        (PICKLE, "Pickle"),
        (JOBLIB, "joblib"),
        (PYTORCH, "PyTorch"),
        (SAFETENSORS, "safetensors"),
        (GGUF, "GGUF"),
        (HDF5, "HDF5 / Keras"),
        (NUMPY, "NumPy array"),
        (PARQUET, "Parquet"),
        (ZIP, "Zip archive"),
        (JSON, "JSON"),
        (TEXT, "Text"),
        (UNKNOWN, "Unknown"),
    ]


# Formats whose loading runs no code: a scan has nothing to look for in them.
DATA_FORMATS = frozenset({Format.TEXT, Format.JSON, Format.PARQUET})


def _zip_format(fileobj: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return Format.UNKNOWN
    if "schema.json" in names:
        return Format.SKOPS
    if any(name.endswith("data.pkl") for name in names):
        return Format.PYTORCH
    return Format.ZIP


def _looks_like_onnx(head: bytes) -> bool:
    # ModelProto: field 1 (ir_version, varint) comes first in every exporter we know of,
    # followed by producer_name (field 2, length-delimited) or opset_import (field 8).
    return len(head) >= 4 and head[0] == 0x08 and 1 <= head[1] <= 20 and head[2] in (0x12, 0x1A, 0x22, 0x3A, 0x42)


# A protocol 0 or 1 pickle has no PROTO header, and protocol 0 is printable
# ("cposix\nsystem\n..." is both text and a program). It counts as a pickle when its opcodes
# parse (pickletools only decodes them; nothing is imported or run) up to a STOP that ends
# the file. Checked before the text test.
OLD_PICKLE_SCAN_BYTES = 4 * 1024 * 1024


def _looks_like_old_pickle(fileobj: BinaryIO) -> bool:
    fileobj.seek(0)
    data = fileobj.read(OLD_PICKLE_SCAN_BYTES + 1)
    if not data or len(data) > OLD_PICKLE_SCAN_BYTES:
        return False
    try:
        for opcode, _, position in pickletools.genops(data):
            if opcode.name == "STOP":
                return data[position + 1 :].strip() == b""
    except Exception:  # noqa: BLE001 - any decoding error means: not a pickle
        return False
    return False


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still text.
        return error.start >= len(head) - 3
    return True


def detect_format(fileobj: BinaryIO) -> str:
    """Return one of the `Format` values for the bytes in `fileobj` (rewound afterwards)."""
    fileobj.seek(0)
    head = fileobj.read(HEAD_SIZE)
    try:
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
            fileobj.seek(0)
            return _zip_format(fileobj)
        if head.startswith(b"\x80") and len(head) > 1 and 2 <= head[1] <= 5:
            return Format.JOBLIB if b"joblib" in head or b"NumpyArrayWrapper" in head else Format.PICKLE
        if head.startswith(b"\x78\x9c") or head.startswith(b"\x1f\x8b"):
            return Format.JOBLIB  # zlib/gzip: joblib's compressed dumps
        if head.startswith(b"GGUF"):
            return Format.GGUF
        if head.startswith(b"\x89HDF\r\n\x1a\n"):
            return Format.HDF5
        if head.startswith(b"\x93NUMPY"):
            return Format.NUMPY
        if head.startswith(b"PAR1"):
            return Format.PARQUET
        if len(head) > 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
            return Format.SAFETENSORS
        if _looks_like_onnx(head):
            return Format.ONNX
        if _looks_like_old_pickle(fileobj):
            return Format.PICKLE
        if _is_text(head):
            stripped = head.lstrip()
            if stripped[:1] in (b"{", b"[") and _is_json(fileobj):
                return Format.JSON
            return Format.TEXT
        return Format.UNKNOWN
    finally:
        fileobj.seek(0)


def _is_json(fileobj: BinaryIO, limit: int = 1024 * 1024) -> bool:
    fileobj.seek(0)
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        return True  # too large to parse cheaply; the start looked like JSON
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


# Formats that hold a model (weights, a graph, an estimator); the rest is data or unknown.
MODEL_FORMATS = frozenset(
    {Format.ONNX, Format.SKOPS, Format.PICKLE, Format.JOBLIB, Format.PYTORCH, Format.SAFETENSORS, Format.GGUF,
     Format.HDF5}
)  # fmt: skip

# What a file's name claims. Each extension maps to the formats whose bytes may carry it
# (a .pt may be a zip checkpoint or an old raw pickle; a .bin is anything, so it claims nothing).
CLAIMED_BY_EXTENSION: dict[str, frozenset[str]] = {
    "onnx": frozenset({Format.ONNX}),
    "skops": frozenset({Format.SKOPS}),
    "pkl": frozenset({Format.PICKLE, Format.JOBLIB}),
    "pickle": frozenset({Format.PICKLE, Format.JOBLIB}),
    "joblib": frozenset({Format.JOBLIB, Format.PICKLE}),
    "pt": frozenset({Format.PYTORCH, Format.PICKLE}),
    "pth": frozenset({Format.PYTORCH, Format.PICKLE}),
    "safetensors": frozenset({Format.SAFETENSORS}),
    "gguf": frozenset({Format.GGUF}),
    "h5": frozenset({Format.HDF5}),
    "hdf5": frozenset({Format.HDF5}),
    "keras": frozenset({Format.ZIP, Format.HDF5}),
    "npy": frozenset({Format.NUMPY}),
    "parquet": frozenset({Format.PARQUET}),
    "json": frozenset({Format.JSON}),
    "zip": frozenset({Format.ZIP, Format.SKOPS, Format.PYTORCH}),
    "csv": frozenset({Format.TEXT}),
    "txt": frozenset({Format.TEXT, Format.JSON}),
    "md": frozenset({Format.TEXT}),
}


def format_label(file_format: str) -> str:
    return dict(Format.CHOICES).get(file_format, file_format)


def format_warning(path: str, file_format: str) -> str:
    """A sentence when a file's bytes are no known format, or not the format its name claims;
    "" when they agree. Derived from the name and the detected format only, so the upload's
    answer, the file table and the review's files check all say the same thing."""
    name = path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""
    claimed = CLAIMED_BY_EXTENSION.get(extension)
    if claimed is not None and file_format not in claimed:
        wanted = " or ".join(sorted({format_label(f) for f in claimed}))
        found = (
            "match no known model or data format"
            if file_format == Format.UNKNOWN
            else (f"are {format_label(file_format)}")
        )
        return f"{name} is named like a{'n' if wanted[0] in 'AEIOU' else ''} {wanted} file, but its bytes {found}."
    if file_format == Format.UNKNOWN:
        return f"The bytes of {name} match no known model or data format; the registry cannot scan or run it."
    return ""
