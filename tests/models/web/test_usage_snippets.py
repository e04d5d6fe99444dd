"""The usage snippets: what each one says for each kind of file, and that nothing a file or an
owner wrote can break out of the code a reader pastes."""

import ast
import subprocess
import sys

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import TensorProto, helper

from evaluations_app import scanning
from models_app import services, usage
from models_app.models import ModelFile, VersionStatus
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db
URL = "http://registry.example/api/v1/models/olivia/iris-classifier/versions/1.0.0/files/model.onnx"
HOSTILE = 'x"]}); __import__("os").system("touch pwned") #\nprint("pwned")'
LABELS_SIGNATURE = {
    "inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}],
    "outputs": [{"name": "label", "type": "int64", "shape": [None], "classes": ["setosa", "versicolor", "virginica"]}],
}


def argmax_onnx(input_name: str = "X") -> bytes:
    """label = argmax of the 4 features; an initializer the caller must not be asked to feed."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", [input_name, "bias"], ["shifted"]),
            helper.make_node("ArgMax", ["shifted"], ["label"], axis=1, keepdims=0),
        ],
        "argmax",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])],
        initializer=[helper.make_tensor("bias", TensorProto.FLOAT, [4], [0.0, 0.0, 1.0, 0.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def draft_file(owner, content: bytes, path: str, *, signature=None, report=None, **model_fields) -> ModelFile:
    model = make_model(owner, **model_fields)
    version = make_version(model, "1.0.0", signature=signature or {})
    model_file = services.file_upload(
        version=version, uploaded_file=SimpleUploadedFile(path, content), path=path, actor=owner
    )
    if report is not None:
        ModelFile.objects.filter(pk=model_file.pk).update(scan_report=report)
    return ModelFile.objects.select_related("blob", "version").get(pk=model_file.pk)


def snippets(model_file: ModelFile, private: bool = False) -> dict[str, str]:
    found = usage.file_usage(version=model_file.version, model_file=model_file, url=URL, private=private)
    return {s.key: s.code for s in found.snippets}


def run_part(code: str) -> str:
    """The lines after the download and its check: what loads and runs the model."""
    return code.split("do not load it.")[1].split("\n", 1)[1]


def test_the_scan_reads_an_onnx_files_inputs_and_outputs(owner):
    """Through the sandboxed scan, as every upload: the caller's input (not the initializer),
    its type and shape, and the outputs."""
    model_file = draft_file(owner, argmax_onnx(), "model.onnx")
    assert scanning.file_scan(file_id=model_file.pk) == "clean"
    model_file.refresh_from_db()
    assert model_file.scan_report["onnx_io"] == {
        "inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}],
        "outputs": [{"name": "label", "type": "int64", "shape": [None]}],
    }


def test_an_onnx_snippet_feeds_the_input_the_file_declares_and_names_the_class(owner, tmp_path):
    io = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}], "outputs": [{"name": "label", "type": "int64", "shape": [None]}]}  # fmt: skip
    model_file = draft_file(owner, argmax_onnx(), "model.onnx", signature=LABELS_SIGNATURE, report={"onnx_io": io})
    codes = snippets(model_file)
    assert set(codes) == {"curl", "python", "requests"}
    for key, code in codes.items():
        assert model_file.sha256 in code, key
        assert '"X": np.zeros((1, 4), dtype=np.float32)' in code, key
        assert 'LABELS = ["setosa", "versicolor", "virginica"]' in code, key
        assert "Authorization" not in code, key
    assert f'echo "{model_file.sha256}  model.onnx" | sha256sum -c' not in codes["curl"]
    assert f"echo '{model_file.sha256}  model.onnx' | sha256sum -c" in codes["curl"]
    # The loading part runs as written: the bias makes feature 2 win on a row of zeros.
    (tmp_path / "model.onnx").write_bytes(argmax_onnx())
    result = subprocess.run(
        [sys.executable, "-c", run_part(codes["python"])], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "virginica"


def test_a_hostile_input_name_stays_a_string_literal(owner, tmp_path):
    content = argmax_onnx(HOSTILE)
    model_file = draft_file(owner, content, "model.onnx")
    assert scanning.file_scan(file_id=model_file.pk) == "clean"
    model_file.refresh_from_db()
    assert model_file.scan_report["onnx_io"]["inputs"][0]["name"] == HOSTILE
    codes = snippets(model_file)
    for key in ("python", "requests"):
        tree = ast.parse(codes[key])
        feeds = next(n for n in ast.walk(tree) if isinstance(n, ast.Dict) and n.keys and isinstance(n.keys[0], ast.Constant) and n.keys[0].value == HOSTILE)  # fmt: skip
        assert len(feeds.keys) == 1, key
    (tmp_path / "model.onnx").write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-c", run_part(codes["python"])], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2" and not (tmp_path / "pwned").exists()


def test_a_scan_report_that_is_malformed_is_not_trusted(owner):
    bad = {"onnx_io": {"inputs": [{"name": "X", "type": "float32); import os; (", "shape": [None, 4]}], "outputs": []}}
    model_file = draft_file(owner, argmax_onnx(), "model.onnx", report=bad)
    code = snippets(model_file)["python"]
    assert "import os" not in code
    assert "spec = session.get_inputs()[0]" in code  # read when it runs instead
    assert usage.clean_onnx_io({"inputs": [{"name": "X", "type": "float32", "shape": [True]}], "outputs": []}) is None
    assert usage.clean_type_list(["sklearn.tree._tree.Tree", "os.system; rm"]) is None


def test_an_undescribed_onnx_file_is_read_when_the_snippet_runs(owner):
    model_file = draft_file(owner, argmax_onnx(), "model.onnx", report={})
    found = usage.file_usage(version=model_file.version, model_file=model_file, url=URL, private=False)
    assert found.loader == "onnxruntime"
    assert any("reads them when it runs" in note for note in found.notes)
    assert "spec = session.get_inputs()[0]" in found.snippets[1].code


def test_a_skops_snippet_trusts_exactly_the_types_the_scan_listed(owner):
    listed = draft_file(owner, b"PK\x05\x06" + b"\0" * 18, "model.skops", report={"skops_untrusted": ["mylib.Scaler", "numpy.dtype"]})  # fmt: skip
    listed.blob.format = "skops"
    code = snippets(listed)["requests"]
    assert 'trusted = ["mylib.Scaler", "numpy.dtype"]' in code
    assert 'model = sio.load("model.skops", trusted=trusted)' in code
    assert "x = np.zeros((1, model.n_features_in_))" in code
    plain = draft_file(owner, b"PK\x05\x06" + b"\0" * 18, "model.skops", name="plain", report={"skops_untrusted": []}, signature=LABELS_SIGNATURE)  # fmt: skip
    plain.blob.format = "skops"
    code = snippets(plain)["python"]
    assert "trusted = []  # skops.io.get_untrusted_types lists none" in code
    assert "x = np.zeros((1, model.n_features_in_), dtype=np.float32)" in code
    assert "print(LABELS[prediction] if isinstance(prediction, int)" in code
    unknown = draft_file(owner, b"PK\x05\x06" + b"\0" * 18, "model.skops", name="unscanned", report={})
    unknown.blob.format = "skops"
    assert 'trusted = sio.get_untrusted_types(file="model.skops")' in snippets(unknown)["curl"]


def test_a_skops_snippet_loads_a_real_file(owner, tmp_path):
    import skops.io as sio
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=300).fit(X, y)
    sio.dump(estimator, tmp_path / "model.skops")
    content = (tmp_path / "model.skops").read_bytes()
    model_file = draft_file(owner, content, "model.skops", signature=LABELS_SIGNATURE)
    assert scanning.file_scan(file_id=model_file.pk) == "clean"
    model_file.refresh_from_db()
    assert model_file.scan_report["skops_untrusted"] == []
    result = subprocess.run(
        [sys.executable, "-c", run_part(snippets(model_file)["requests"])],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = ["setosa", "versicolor", "virginica"][int(estimator.predict(np.zeros((1, 4), dtype=np.float32))[0])]
    assert result.stdout.strip() == expected


def test_private_snippets_send_the_token_in_every_variant(owner):
    model_file = draft_file(owner, argmax_onnx(), "model.onnx", report={})
    for key, code in snippets(model_file, private=True).items():
        assert "MODEL_REGISTRY_TOKEN" in code and "Bearer" in code, key
    for key, code in snippets(model_file, private=False).items():
        assert "MODEL_REGISTRY_TOKEN" not in code, key


def test_a_pickle_is_only_downloaded_and_checked(owner):
    model_file = draft_file(owner, b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.", "model.pkl")
    found = usage.file_usage(version=model_file.version, model_file=model_file, url=URL, private=False)
    assert found.loader == "" and not found.runs
    assert any("can run code" in note for note in found.notes)
    assert all(model_file.sha256 in s.code and "pickle" not in s.code for s in found.snippets)


def test_the_page_offers_onnx_then_skops_and_ignores_the_readme(client, owner):
    model = make_model(owner)
    version = make_version(
        model, "1.0.0", status=VersionStatus.PUBLISHED,
        files={"README.md": b"# Card\n" * 50000, "model.onnx": argmax_onnx()},
    )  # fmt: skip
    response = client.get(model.get_absolute_url())
    assert [u.file.path for u in response.context["usage"]] == ["model.onnx"]
    html = response.text
    assert 'data-usage-file="model.onnx"' in html and 'data-snippet="requests"' in html
    assert "&quot;X&quot;: np.zeros((1, 4), dtype=np.float32)" in html
    assert version.files.get(path="model.onnx").sha256 in html
