"""The diff against the latest published version: a pure function over plain data."""

from reviews_app.diff import Change, diff_snapshots

OLD = {
    "version": "1.0.0",
    "metadata": {"summary": "Iris", "license": "MIT", "task": "tabular-classification"},
    "params": {"C": 1.0, "penalty": "l2", "seed": None},
    "inputs": {"features": {"name": "features", "type": "float32", "shape": [-1, 4]}},
    "outputs": {"label": {"name": "label", "type": "int64"}},
    "files": {"model.onnx": {"sha256": "a" * 64, "size": 10}, "labels.txt": {"sha256": "b" * 64, "size": 3}},
}


def _new(**changes) -> dict:
    return {**OLD, "version": "1.1.0", **changes}


def test_identical_versions_have_an_empty_diff():
    diff = diff_snapshots(OLD, _new())
    assert diff.is_empty and diff.against == "1.0.0"


def test_params_added_removed_and_changed():
    diff = diff_snapshots(OLD, _new(params={"C": 0.5, "penalty": "l2", "max_iter": 100}))
    assert diff.params == [
        Change("C", "changed", 1.0, 0.5),
        Change("max_iter", "added", new=100),
        Change("seed", "removed", old=None),  # a JSON null is still a parameter
    ]
    assert not diff.files and not diff.metadata


def test_a_param_changed_to_null_is_a_change_not_a_removal():
    diff = diff_snapshots(OLD, _new(params={**OLD["params"], "C": None}))
    assert diff.params == [Change("C", "changed", 1.0, None)]


def test_files_compared_by_sha256_not_by_size_or_name_alone():
    files = {
        "model.onnx": {"sha256": "c" * 64, "size": 10},  # same size, new bytes
        "labels.txt": {"sha256": "b" * 64, "size": 3},
        "README.md": {"sha256": "d" * 64, "size": 5},
    }
    diff = diff_snapshots(OLD, _new(files=files))
    assert [(c.name, c.kind) for c in diff.files] == [("README.md", "added"), ("model.onnx", "changed")]


def test_a_renamed_file_is_one_removed_and_one_added():
    diff = diff_snapshots(
        OLD, _new(files={"weights.onnx": OLD["files"]["model.onnx"], "labels.txt": OLD["files"]["labels.txt"]})
    )
    assert [(c.name, c.kind) for c in diff.files] == [("model.onnx", "removed"), ("weights.onnx", "added")]


def test_signature_inputs_and_outputs_by_name():
    diff = diff_snapshots(
        OLD,
        _new(
            inputs={"features": {"name": "features", "type": "float64", "shape": [-1, 4]}},
            outputs={"label": OLD["outputs"]["label"], "proba": {"name": "proba", "type": "float32"}},
        ),
    )
    assert [(c.name, c.kind) for c in diff.inputs] == [("features", "changed")]
    assert diff.inputs[0].new["type"] == "float64"
    assert [(c.name, c.kind) for c in diff.outputs] == [("proba", "added")]


def test_metadata_changes_and_blank_equals_missing():
    diff = diff_snapshots(
        OLD, _new(metadata={"summary": "Iris v2", "license": "MIT", "task": "tabular-classification"})
    )
    assert diff.metadata == [Change("summary", "changed", "Iris", "Iris v2")]
    old = {**OLD, "metadata": {"summary": "", "license": "MIT"}}
    assert diff_snapshots(old, _new(metadata={"license": "MIT"})).metadata == []


def test_missing_sections_count_as_empty():
    diff = diff_snapshots({"version": "0.1.0"}, _new())
    assert [c.kind for c in diff.params] == ["added"] * 3
    assert [c.kind for c in diff.files] == ["added", "added"]
