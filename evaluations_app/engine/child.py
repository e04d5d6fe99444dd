"""The program the sandbox runs: load one model, predict one feature matrix, write arrays.

It runs as `python -I child.py REQUEST.json` in an empty folder with hard limits (see
sandbox.py) and imports nothing from the project: only the standard library, numpy and
the model runtimes. It writes `pred.npy`, optionally `proba.npy` and `perm_pred.npy`, and
prints one JSON line describing them. Every byte of that is validated by the worker.

Request keys: format ("onnx", "skops", "pickle", "joblib"), model (file name), features
(a .npy file, float32, rows × columns), trusted_types (for skops), permutation ({"rows",
"repeats", "seed"} or null), allow_pickle (bool, set by the operator).
"""

import json
import pickle
import sys
import time

import numpy as np

PICKLE_ALLOWED_PREFIXES = ("sklearn.", "numpy", "scipy.sparse", "collections.OrderedDict", "_codecs.encode")


class RefusedModel(Exception):
    """The model cannot be evaluated for a reason the user can fix."""


def fail(code: str, message: str) -> None:
    print(json.dumps({"ok": False, "error": code, "message": message}))
    sys.exit(3)


# --- loaders: each returns predict(X) -> (labels_or_values, probabilities_or_None, classes_or_None)


def _onnx_tensors(graph):
    """Every tensor in the graph: initializers, and those in node attributes (a Constant's
    value) and in subgraphs (Loop, If, Scan bodies), where external data can hide too."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            if attribute.HasField("sparse_tensor"):
                yield attribute.sparse_tensor.values
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _onnx_tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _onnx_tensors(subgraph)


# Each loader imports its runtime itself: the child loads only what the file's format needs,
# which keeps its memory and start-up small and its attack surface to that one library.


def load_onnx(path: str):
    import onnx
    import onnxruntime as ort

    proto = onnx.load(path, load_external_data=False)
    if any(tensor.data_location == onnx.TensorProto.EXTERNAL for tensor in _onnx_tensors(proto.graph)):
        raise RefusedModel(
            "The ONNX model keeps weights in external data files; upload a single self-contained .onnx file."
        )
    classes = None
    for node in proto.graph.node:
        for attribute in node.attribute:
            if attribute.name in ("classlabels_int64s", "classlabels_ints") and attribute.ints:
                classes = list(attribute.ints)
            elif attribute.name == "classlabels_strings" and attribute.strings:
                classes = [s.decode() for s in attribute.strings]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise RefusedModel(
            f"The ONNX model takes {len(inputs)} inputs; only models with one tabular input can be evaluated."
        )
    input_name = inputs[0].name
    declared = inputs[0].shape
    expected_features = declared[1] if len(declared) == 2 and isinstance(declared[1], int) else None

    def predict(X):
        if expected_features is not None and X.shape[1] != expected_features:
            raise RefusedModel(f"The model expects {expected_features} features, the test set has {X.shape[1]}.")
        outputs = session.run(None, {input_name: X})
        labels = np.asarray(outputs[0])
        proba = None
        if len(outputs) > 1:
            second = outputs[1]
            if isinstance(second, list):  # ZipMap: a list of {class: probability}
                keys = sorted(second[0].keys()) if second else []
                proba = np.array([[row[k] for k in keys] for row in second], dtype=np.float64)
                return labels.ravel(), proba, keys
            proba = np.asarray(second)
            if proba.dtype not in (np.float32, np.float64):
                proba = proba.astype(np.float64)
            if proba.ndim != 2:
                proba = None
        return labels.ravel() if labels.ndim > 1 and labels.shape[1] == 1 else labels, proba, classes

    return predict


def _sklearn_predict(estimator):
    def predict(X):
        n_features = getattr(estimator, "n_features_in_", None)
        if n_features is not None and X.shape[1] != n_features:
            raise RefusedModel(f"The model expects {n_features} features, the test set has {X.shape[1]}.")
        labels = np.asarray(estimator.predict(X))
        proba = None
        classes = None
        if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
            try:
                proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
                classes = [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
            except (AttributeError, NotImplementedError, ValueError):
                proba = None
        return labels, proba, classes

    return predict


def load_skops(path: str, trusted_types: list[str]):
    import skops.io as sio

    untrusted = [name for name in sio.get_untrusted_types(file=path) if name not in trusted_types]
    if untrusted:
        raise RefusedModel(
            "The skops file needs types that are not on the trusted list: " + ", ".join(sorted(untrusted)) + "."
        )
    return _sklearn_predict(sio.load(path, trusted=trusted_types or None))


class AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        full = f"{module}.{name}"
        if full.startswith(PICKLE_ALLOWED_PREFIXES) or module in (
            "numpy",
            "numpy.core.multiarray",
            "numpy._core.multiarray",
        ):
            return super().find_class(module, name)
        raise RefusedModel(f"The pickle refers to {full}, which is not on the allow-list.")


def load_pickle(path: str, kind: str):
    if kind == "joblib":
        from joblib.numpy_pickle import NumpyUnpickler

        class AllowListJoblibUnpickler(NumpyUnpickler):
            def find_class(self, module, name):
                AllowListUnpickler.find_class(self, module, name)  # raises unless allowed
                return NumpyUnpickler.find_class(self, module, name)

        with open(path, "rb") as handle:
            estimator = AllowListJoblibUnpickler(path, handle).load()
    else:
        with open(path, "rb") as handle:
            estimator = AllowListUnpickler(handle).load()
    return _sklearn_predict(estimator)


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    started = time.perf_counter()
    kind = request["format"]
    try:
        if kind == "onnx":
            predict = load_onnx(request["model"])
        elif kind == "skops":
            predict = load_skops(request["model"], request.get("trusted_types") or [])
        elif kind in ("pickle", "joblib") and request.get("allow_pickle"):
            predict = load_pickle(request["model"], kind)
        else:
            raise RefusedModel(f"Models in the {kind} format are not evaluated here.")
        load_seconds = time.perf_counter() - started
        X = np.load(request["features"], allow_pickle=False)
        predict_started = time.perf_counter()
        labels, proba, classes = predict(X)
        predict_seconds = time.perf_counter() - predict_started
        labels = np.asarray(labels)
        if labels.shape != (X.shape[0],):
            # Checked here too, before the permutation step would trip over it.
            fail("invalid_output", f"The model returned predictions of shape {labels.shape} for {X.shape[0]} rows.")
        np.save("pred.npy", labels, allow_pickle=False)
        if proba is not None:
            np.save("proba.npy", proba, allow_pickle=False)
        permutation = request.get("permutation")
        if permutation:
            rng = np.random.default_rng(permutation["seed"])
            rows = X[: permutation["rows"]]
            repeats = permutation["repeats"]
            permuted = np.empty((rows.shape[1], repeats, rows.shape[0]), dtype=labels.dtype)
            for column in range(rows.shape[1]):
                for repeat in range(repeats):
                    shuffled = rows.copy()
                    shuffled[:, column] = rng.permutation(shuffled[:, column])
                    permuted[column, repeat] = predict(shuffled)[0]
            np.save("perm_pred.npy", permuted, allow_pickle=False)
    except RefusedModel as error:
        fail("refused", str(error))
    except MemoryError:
        fail("memory", "The model ran out of memory.")
    print(
        json.dumps(
            {
                "ok": True,
                "rows": int(X.shape[0]),
                "has_proba": proba is not None,
                "classes": classes
                if classes is None
                else [c if isinstance(c, (int, str)) else str(c) for c in classes],
                "load_seconds": load_seconds,
                "predict_seconds": predict_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
