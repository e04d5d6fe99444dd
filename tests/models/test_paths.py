"""User-supplied file paths are display text: normalised, and refused when unsafe."""

import pytest

from models_app.paths import InvalidPath, sanitize_path


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("model.onnx", "model.onnx"),
        ("weights/v1/model.bin", "weights/v1/model.bin"),
        ("weights\\model.bin", "weights/model.bin"),
        ("./model.onnx", "model.onnx"),
        ("a//b", "a/b"),
        ("semi;colon.bin", "semi_colon.bin"),
        ('quo"te.bin', "quo_te.bin"),
        ("<script>.html", "_script_.html"),
        ("ünïcödé.bin", "ünïcödé.bin"),
        ("with space.txt", "with space.txt"),
    ],
)
def test_it_normalises_a_safe_path(raw, clean):
    assert sanitize_path(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "..\\..\\x",
        "a/../../b",
        "a/ .. /b",
        "/etc/passwd",
        "\\\\server\\share\\x",
        "C:\\Windows\\win.ini",
        "c:model",
        "file:///etc/passwd",
        "s3://bucket/key",
        "model\x00.onnx",
        "line\nbreak",
        "crlf\r\nX-Header: 1",
        "tab\tname",
        "\x7f",
        "",
        "   ",
        None,
        ".",
        "...",
        "a/" * 9 + "b",
        "x" * 129,
        "/".join(["y" * 100] * 6),
    ],
)
def test_it_refuses_an_unsafe_path(raw):
    with pytest.raises(InvalidPath) as error:
        sanitize_path(raw)
    assert error.value.status == 400
    assert error.value.field == "path"
    assert error.value.detail


def test_unicode_is_normalised_so_lookalikes_compare_equal():
    assert sanitize_path("cafe\u0301.bin") == sanitize_path("caf\u00e9.bin")
