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

# The pickle allow-list: exact (module, name) pairs. No prefixes (a package re-exports
# subprocess and os functions under harmless-looking names), no dotted names (a protocol-4
# name is looked up attribute by attribute), nothing resolved through attribute walks.
# The numpy, copyreg and builtins entries are what numpy arrays and plain objects need; the
# scikit-learn ones are its estimators (sklearn.utils.all_estimators) and the internal
# types their fitted state holds. Compare fickling's safe-ML allow-list.
PICKLE_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._mt19937", "MT19937"),
        ("numpy.random._pcg64", "PCG64"),
        ("numpy.random.bit_generator", "SeedSequence"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("copyreg", "_reconstructor"),
        ("copy_reg", "_reconstructor"),
        ("builtins", "object"),
        ("__builtin__", "object"),
        ("builtins", "bytes"),
        ("__builtin__", "bytes"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("_codecs", "encode"),
        ("collections", "OrderedDict"),
        ("sklearn.tree._tree", "Tree"),
        ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
        ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
        ("sklearn.neural_network._stochastic_optimizers", "AdamOptimizer"),
        ("sklearn.neural_network._stochastic_optimizers", "SGDOptimizer"),
        ("sklearn._loss.link", "Interval"),
        ("sklearn._loss.link", "IdentityLink"),
        ("sklearn._loss.link", "LogLink"),
        ("sklearn._loss.link", "LogitLink"),
        ("sklearn._loss.link", "HalfLogitLink"),
        ("sklearn._loss.link", "MultinomialLogit"),
        *(
            (module, name)
            for module, names in {
                "sklearn._loss.loss": (
                    "HalfSquaredError", "AbsoluteError", "PinballLoss", "HuberLoss", "HalfPoissonLoss",
                    "HalfGammaLoss", "HalfTweedieLoss", "HalfTweedieLossIdentity", "HalfBinomialLoss",
                    "ExponentialLoss", "HalfMultinomialLoss",
                ),
                "sklearn._loss._loss": (
                    "CyHalfSquaredError", "CyAbsoluteError", "CyPinballLoss", "CyHuberLoss", "CyHalfPoissonLoss",
                    "CyHalfGammaLoss", "CyHalfTweedieLoss", "CyHalfTweedieLossIdentity", "CyHalfBinomialLoss",
                    "CyExponentialLoss", "CyHalfMultinomialLoss",
                ),
            }.items()
            for name in names
        ),
    }
)  # fmt: skip
# Cython types pickle through a module-level helper of the same module, named after them.
PICKLE_ALLOWED = PICKLE_ALLOWED | {
    (module, f"__pyx_unpickle_{name}") for module, name in PICKLE_ALLOWED if module == "sklearn._loss._loss"
}


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


def _sklearn_estimators() -> frozenset:
    """Every scikit-learn estimator class, as the (module, name) pair a pickle names it by."""
    from sklearn.utils import all_estimators

    return frozenset((cls.__module__, cls.__qualname__) for _, cls in all_estimators())


def check_global(module: object, name: object, estimators: frozenset) -> None:
    """Refuse a global unless the exact pair is on the allow-list."""
    if not isinstance(module, str) or not isinstance(name, str) or "." in name:
        raise RefusedModel(f"The pickle refers to {module}.{name}, which is not on the allow-list.")
    if (module, name) not in PICKLE_ALLOWED and (module, name) not in estimators:
        raise RefusedModel(f"The pickle refers to {module}.{name}, which is not on the allow-list.")


def load_pickle(path: str, kind: str):
    """Load a pickle or joblib file through the allow-list: every global the file names is
    checked before it is resolved, so nothing outside the list is ever imported."""
    estimators = _sklearn_estimators()
    if kind == "joblib":
        from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler
        from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

        class AllowListJoblibUnpickler(NumpyUnpickler):
            def find_class(self, module, name):
                if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
                    return NumpyArrayWrapper
                check_global(module, name, estimators)
                return super().find_class(module, name)

        # joblib's own reader undoes its compression (zlib, gzip, lzma...); a file of joblib 0.9
        # or older (arrays in side files, read by name) comes back as a str and is refused.
        with open(path, "rb") as raw, _validate_fileobject_and_memmap(raw, path, None) as (handle, _):
            if isinstance(handle, str):
                raise RefusedModel("joblib files written by joblib 0.9 or older are not evaluated.")
            estimator = AllowListJoblibUnpickler(path, handle, ensure_native_byte_order=True).load()
    else:

        class AllowListUnpickler(pickle.Unpickler):
            def find_class(self, module, name):
                check_global(module, name, estimators)
                return super().find_class(module, name)

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
