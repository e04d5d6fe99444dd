"""Every upload is scanned by its format, detected from its bytes; the verdict names what it found.

Hostile files are real files made here: pickles that run a command, gadgets that pass a
deny-list, a protocol-0 pickle named model.onnx, archives that climb out with ../, link
outside, or expand to gigabytes, ONNX with external data or custom operators, broken
safetensors headers, object arrays.
"""

import io
import json
import os
import pickle
import struct
import tarfile
import zipfile

import joblib
import numpy as np
import pytest
import skops.io as sio
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

from evaluations_app import scanning, tasks
from models_app.models import ModelFile, ScanStatus
from tests.factories import make_model, make_version

from . import crafted


class RunsCommand:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def _fitted():
    return LogisticRegression(max_iter=200).fit(np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 3)


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _onnx_with(domain: str = "", external: bool = False) -> bytes:
    weights = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    if external:
        weights.data_location = TensorProto.EXTERNAL
        weights.ClearField("float_data")
        weights.external_data.add(key="location", value="../../../etc/passwd")
    node = helper.make_node("Add", ["x", "w"], ["y"], domain=domain)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [weights],
    )  # fmt: skip
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets).SerializeToString()


def _safetensors(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def _tar_with_link() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("weights.bin")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
        archive.addfile(info)
    return buffer.getvalue()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


@pytest.fixture
def scan(owner):
    """Upload `content` as `name` in a new draft and scan it as the worker would."""
    counter = iter(range(1000))

    def run(name: str, content: bytes) -> ModelFile:
        version = make_version(make_model(owner, f"scanned-{next(counter)}"), files={name: content})
        model_file = version.files.get()
        scanning.file_scan(file_id=model_file.pk)
        model_file.refresh_from_db()
        return model_file

    return run


def assert_verdict(model_file: ModelFile, status: str, *words: str) -> None:
    text = " ".join(model_file.scan_findings)
    assert model_file.scan_status == status, (model_file.scan_status, model_file.scan_findings)
    for word in words:
        assert word in text, (word, model_file.scan_findings)
    assert model_file.scanned_at is not None


def test_a_pickle_that_runs_a_command_is_flagged_naming_the_import(scan):
    model_file = scan("model.pkl", pickle.dumps(RunsCommand(), protocol=4))
    assert_verdict(model_file, ScanStatus.FLAGGED, "imports posix.system (it can run commands)", "picklescan")
    assert model_file.can_run_code
    assert "posix.system" in model_file.scan_report["imports"]


def test_a_gadget_that_deny_lists_miss_is_flagged_by_the_allow_list(scan):
    gadget = b"csklearn.utils._testing\ncheck_output\n(S'id'\ntR."
    assert_verdict(scan("model.pkl", gadget), ScanStatus.FLAGGED, "sklearn.utils._testing.check_output")


def test_a_protocol_zero_pickle_named_onnx_is_scanned_as_a_pickle(scan):
    model_file = scan("model.onnx", pickle.dumps(RunsCommand(), protocol=0))
    assert model_file.format == "pickle"
    assert_verdict(model_file, ScanStatus.FLAGGED, "posix.system")


def test_a_scikit_learn_pickle_is_clean_and_still_marked_as_able_to_run_code(scan):
    model_file = scan("model.pkl", pickle.dumps(_fitted(), protocol=5))
    assert_verdict(model_file, ScanStatus.CLEAN)
    assert model_file.can_run_code
    assert "sklearn.linear_model._logistic.LogisticRegression" in model_file.scan_report["imports"]


def test_a_joblib_dump_is_walked_past_its_arrays(scan):
    buffer = io.BytesIO()
    joblib.dump(_fitted(), buffer)
    model_file = scan("model.joblib", buffer.getvalue())
    assert model_file.format == "joblib"
    assert_verdict(model_file, ScanStatus.CLEAN)
    # The deny-list scanners stop at joblib's raw array bytes; that is a note, never a pass.
    assert any("could not read" in note for note in model_file.scan_report["notes"])


def test_a_joblib_dump_hiding_a_command_behind_an_array_is_flagged(scan):
    buffer = io.BytesIO()
    joblib.dump({"weights": np.zeros(1000), "hook": RunsCommand()}, buffer)
    assert_verdict(scan("model.joblib", buffer.getvalue()), ScanStatus.FLAGGED, "posix.system")


def test_a_pytorch_style_archive_with_a_hostile_data_pkl_is_flagged(scan):
    content = _zip({"archive/data.pkl": pickle.dumps(RunsCommand(), protocol=2), "archive/version": b"3\n"})
    model_file = scan("model.pt", content)
    assert model_file.format == "pytorch"
    assert_verdict(model_file, ScanStatus.FLAGGED, "Member archive/data.pkl imports posix.system")


@pytest.mark.parametrize(
    "content,words",
    [
        (_zip({"../../etc/cron.d/x": b"boom"}), "leaves the archive"),
        (_zip({"/etc/passwd": b"x"}), "absolute path"),
        (_zip({"zeros.bin": b"\0" * (64 * 1024**2)}), "expands to more than"),
        (_tar_with_link(), "link"),
    ],
    ids=["dot-dot", "absolute", "bomb", "tar-symlink"],
)
def test_an_archive_that_escapes_or_explodes_could_not_be_scanned(scan, settings, content, words):
    settings.SCAN_MAX_EXPANDED_BYTES = 16 * 1024**2
    name = "weights.tar" if content[257:262] == b"ustar" else "weights.zip"
    model_file = scan(name, content)
    if name == "weights.tar":
        assert model_file.format == "unknown"  # no tar detection at upload: not scanned, never clean
        assert_verdict(model_file, ScanStatus.ERROR, "No scanner")
    else:
        assert_verdict(model_file, ScanStatus.ERROR, words)


def test_onnx_external_data_and_custom_operators_are_flagged(scan):
    assert_verdict(scan("model.onnx", _onnx_with(external=True)), ScanStatus.FLAGGED, "external files")
    assert_verdict(scan("custom.onnx", _onnx_with(domain="com.evil")), ScanStatus.FLAGGED, "com.evil")
    assert_verdict(scan("plain.onnx", crafted.argmax_model()), ScanStatus.CLEAN)


def test_safetensors_headers_are_checked_against_the_file(scan):
    good = _safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8)
    assert_verdict(scan("model.safetensors", good), ScanStatus.CLEAN)
    past_end = _safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}, b"\0" * 8)
    assert_verdict(scan("bad.safetensors", past_end), ScanStatus.FLAGGED, "past the end")


def test_an_object_array_is_flagged(scan):
    assert_verdict(scan("labels.npy", _npy(np.array([{"a": 1}], dtype=object))), ScanStatus.FLAGGED, "Python objects")
    assert_verdict(scan("weights.npy", _npy(np.zeros(4))), ScanStatus.CLEAN)


def test_a_plain_skops_file_is_clean(scan, tmp_path):
    path = tmp_path / "m.skops"
    sio.dump(_fitted(), path)
    model_file = scan("model.skops", path.read_bytes())
    assert model_file.format == "skops"
    assert_verdict(model_file, ScanStatus.CLEAN)


def test_formats_without_a_scanner_could_not_be_scanned_never_clean(scan):
    assert_verdict(scan("weights.bin", b"\x00\x01\x02binary"), ScanStatus.ERROR, "No scanner here reads Unknown")
    assert_verdict(scan("model.gguf", b"GGUF\x03\x00\x00\x00"), ScanStatus.ERROR, "GGUF")


def test_data_files_are_clean_on_upload_without_waiting(owner):
    version = make_version(make_model(owner), files={"README.md": b"# Card", "config.json": b'{"a": 1}'})
    assert set(version.files.values_list("scan_status", flat=True)) == {ScanStatus.CLEAN}


def test_an_upload_sends_its_scan_after_commit_and_the_sweep_resends_what_the_broker_lost(
    owner, monkeypatch, settings, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.scan_file, "delay", lambda file_id: sent.append(file_id))
    with django_capture_on_commit_callbacks(execute=True):
        version = make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()})
    model_file = version.files.get()
    assert sent == [model_file.pk]
    assert model_file.scan_status == ScanStatus.PENDING

    def broker_down(file_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.scan_file, "delay", broker_down)
    assert tasks.sweep_pending_scans() == 0  # nothing sent, nothing lost: still pending
    monkeypatch.setattr(tasks.scan_file, "delay", lambda file_id: sent.append(file_id))
    settings.SCAN_RESEND_AFTER_SECONDS = 0
    assert tasks.sweep_pending_scans() == 1
    assert sent == [model_file.pk, model_file.pk]


def test_the_task_scans_only_a_file_still_waiting_for_its_verdict(scan, monkeypatch):
    model_file = scan("model.pkl", pickle.dumps(RunsCommand(), protocol=4))
    scanned_at = model_file.scanned_at
    tasks.scan_file(model_file.pk)  # a second message for the same upload
    model_file.refresh_from_db()
    assert model_file.scanned_at == scanned_at
