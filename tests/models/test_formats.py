"""Formats are detected from the bytes, never from the file name."""

import io
import json
import pickle
import zipfile

import pytest

from models_app.formats import Format, detect_format, format_warning


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"{}")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x08\x07\x12\x07pytorch\x1a\x032.0", Format.ONNX),
        (zipped("schema.json", "abc.npy"), Format.SKOPS),
        (zipped("archive/data.pkl", "archive/version"), Format.PYTORCH),
        (zipped("readme.txt"), Format.ZIP),
        (pickle.dumps({"a": 1}, protocol=4), Format.PICKLE),
        (b"\x80\x04joblib NumpyArrayWrapper", Format.JOBLIB),
        (b"\x78\x9c" + b"\x00" * 10, Format.JOBLIB),
        (b"GGUF\x03\x00\x00\x00", Format.GGUF),
        (b"\x89HDF\r\n\x1a\n" + b"\x00" * 8, Format.HDF5),
        (b"\x93NUMPY\x01\x00", Format.NUMPY),
        (b"PAR1" + b"\x00" * 8, Format.PARQUET),
        (len(b'{"a":{}}').to_bytes(8, "little") + b'{"a":{}}', Format.SAFETENSORS),
        (json.dumps({"classes": [1, 2]}).encode(), Format.JSON),
        (b"[1, 2", Format.TEXT),
        (b"# Model card\n\nHello", Format.TEXT),
        ("héllo".encode() * 2000, Format.TEXT),
        (b"\xff\xfe\x00\x01garbage", Format.UNKNOWN),
        (b"", Format.TEXT),
        (b"PK\x03\x04not really a zip", Format.UNKNOWN),
    ],
)
def test_it_detects_the_format_from_the_bytes(content, expected):
    assert detect_format(io.BytesIO(content)) == expected


def test_it_rewinds_the_file():
    fileobj = io.BytesIO(b"GGUF rest")
    fileobj.read(3)
    detect_format(fileobj)
    assert fileobj.tell() == 0


def test_a_pickle_named_onnx_is_still_a_pickle():
    fileobj = io.BytesIO(pickle.dumps(object, protocol=2))
    fileobj.name = "model.onnx"
    assert detect_format(fileobj) == Format.PICKLE


def test_an_html_page_is_just_text():
    assert detect_format(io.BytesIO(b"<!doctype html><script>alert(1)</script>")) == Format.TEXT


@pytest.mark.parametrize(
    ("path", "file_format", "warning"),
    [
        ("model.onnx", Format.ONNX, ""),
        ("dir/model.skops", Format.SKOPS, ""),
        ("model.pkl", Format.JOBLIB, ""),
        ("README.md", Format.TEXT, ""),
        ("weights.bin", Format.PICKLE, ""),  # .bin claims nothing
        ("garbage.onnx", Format.TEXT, "garbage.onnx is named like an ONNX file, but its bytes are Text."),
        (
            "MODEL.ONNX",
            Format.UNKNOWN,
            "MODEL.ONNX is named like an ONNX file, but its bytes match no known model or data format.",
        ),
        ("model.skops", Format.ZIP, "model.skops is named like a skops file, but its bytes are Zip archive."),
        (
            "weights.bin",
            Format.UNKNOWN,
            "The bytes of weights.bin match no known model or data format; the registry cannot scan or run it.",
        ),
    ],
)
def test_a_warning_names_a_file_whose_bytes_are_not_what_its_name_claims(path, file_format, warning):
    assert format_warning(path, file_format) == warning
