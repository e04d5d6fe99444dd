"""Model files and tables built for the evaluation tests: good ones and hostile ones.

Every ONNX model here takes one float input `X` of shape [N, 4] (the iris features), so
the runner gets as far as running it; what it then does is the attack.
"""

import io
import os
import pickle

import numpy as np
import pandas as pd
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def csv_bytes(X, y, names=FEATURES, target: str = "target") -> bytes:
    frame = pd.DataFrame(np.asarray(X), columns=names)
    frame[target] = y
    return frame.to_csv(index=False).encode()


def parquet_bytes(X, y, names=FEATURES, target: str = "target") -> bytes:
    frame = pd.DataFrame(np.asarray(X), columns=names)
    frame[target] = y
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def iris_split():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    data = load_iris()
    return train_test_split(data.data, data.target, test_size=0.3, random_state=0)


def sklearn_onnx(estimator, X) -> bytes:
    from skl2onnx import to_onnx

    options = {"zipmap": False} if hasattr(estimator, "predict_proba") else None
    return to_onnx(
        estimator, np.asarray(X[:1], dtype=np.float32), options=options, target_opset={"": 17, "ai.onnx.ml": 3}
    ).SerializeToString()


def _const(name: str, array) -> "helper.NodeProto":
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(array), name=name))


def _model(nodes, outputs, initializers=()) -> bytes:
    graph = helper.make_graph(
        nodes,
        "crafted",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        outputs,
        initializer=list(initializers),
    )
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    return model.SerializeToString()


def _labels_nodes(source: str = "X") -> list:
    """labels = argmax over the first three features: a valid iris prediction per row."""
    return [
        _const("starts", np.array([0], dtype=np.int64)),
        _const("ends", np.array([3], dtype=np.int64)),
        _const("axes", np.array([1], dtype=np.int64)),
        helper.make_node("Slice", [source, "starts", "ends", "axes"], ["first3"]),
        helper.make_node("ArgMax", ["first3"], ["labels"], axis=1, keepdims=0),
    ]


def _labels_output():
    return helper.make_tensor_value_info("labels", TensorProto.INT64, ["N"])


def argmax_model() -> bytes:
    """A tiny valid classifier: cheap, deterministic, predictions a test can recompute."""
    return _model(_labels_nodes(), [_labels_output()])


def argmax_predictions(X) -> np.ndarray:
    return np.asarray(X, dtype=np.float32)[:, :3].argmax(axis=1)


def _loop_nodes(trip_count: int, carried_in: str, carried_out: str) -> list:
    """carried_out = carried_in + trip_count, one Add per iteration (ORT does not fold a Loop)."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            _const("one", np.array(1.0, dtype=np.float32)),
            helper.make_node("Add", ["v_in", "one"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, []),
        ],
    )
    return [
        _const("trip", np.array(trip_count, dtype=np.int64)),
        _const("cond", np.array(True)),
        helper.make_node("Loop", ["trip", "cond", carried_in], [carried_out], body=body),
    ]


def looping_model(trip_count: int = 10**15) -> bytes:
    """Spins `trip_count` iterations per predict, then predicts like `argmax_model`.

    With the default trip count it would run for years; a few hundred thousand
    iterations take a fraction of a second.
    """
    nodes = [
        _const("zero", np.array(0.0, dtype=np.float32)),
        *_loop_nodes(trip_count, "zero", "spun"),
        _const("nothing", np.array(0.0, dtype=np.float32)),
        helper.make_node("Mul", ["spun", "nothing"], ["zeroed"]),
        helper.make_node("Add", ["X", "zeroed"], ["X2"]),
        *_labels_nodes("X2"),
    ]
    return _model(nodes, [_labels_output()])


def allocating_model(elements: int = 200_000) -> bytes:
    """Fills an elements × elements float tensor (160 GB by default) and sums it."""
    nodes = [
        _const("shape", np.array([elements, elements], dtype=np.int64)),
        helper.make_node(
            "ConstantOfShape", ["shape"], ["huge"], value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))
        ),
        helper.make_node("ReduceSum", ["huge"], ["total"], keepdims=0),
        _const("nothing", np.array(0.0, dtype=np.float32)),
        helper.make_node("Mul", ["total", "nothing"], ["zeroed"]),
        helper.make_node("Add", ["X", "zeroed"], ["X2"]),
        *_labels_nodes("X2"),
    ]
    return _model(nodes, [_labels_output()])


def expanding_model(width: int) -> bytes:
    """Returns, as its predictions, an N × width float tensor (Expand of the first feature)."""
    nodes = [
        _const("starts", np.array([0], dtype=np.int64)),
        _const("ends", np.array([1], dtype=np.int64)),
        _const("axes", np.array([1], dtype=np.int64)),
        helper.make_node("Slice", ["X", "starts", "ends", "axes"], ["first"]),
        _const("wide", np.array([1, width], dtype=np.int64)),
        helper.make_node("Expand", ["first", "wide"], ["labels"]),
    ]
    return _model(nodes, [helper.make_tensor_value_info("labels", TensorProto.FLOAT, ["N", width])])


def wide_probabilities_model(width: int) -> bytes:
    """Valid labels, and a second output of N × width "probabilities" (a huge tensor)."""
    nodes = [
        *_labels_nodes(),
        _const("first_end", np.array([1], dtype=np.int64)),
        helper.make_node("Slice", ["X", "starts", "first_end", "axes"], ["first"]),
        _const("wide", np.array([1, width], dtype=np.int64)),
        helper.make_node("Expand", ["first", "wide"], ["probabilities"]),
    ]
    return _model(
        nodes, [_labels_output(), helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", width])]
    )


def nan_probabilities_model() -> bytes:
    """Valid labels, and a second output of probabilities that are all NaN."""
    nodes = [
        *_labels_nodes(),
        _const("nan", np.array(np.nan, dtype=np.float32)),
        helper.make_node("Mul", ["first3", "nan"], ["probabilities"]),
    ]
    return _model(
        nodes, [_labels_output(), helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])]
    )


def wrong_length_model() -> bytes:
    """One label per feature column instead of one per row (argmax over axis 0)."""
    nodes = [helper.make_node("ArgMax", ["X"], ["labels"], axis=0, keepdims=0)]
    return _model(nodes, [helper.make_tensor_value_info("labels", TensorProto.INT64, [4])])


def external_data_model(location: str, *, in_attribute: bool = False) -> bytes:
    """A model whose weight tensor points at an external file (`location`), in an
    initializer or hidden in a Constant node's attribute."""
    tensor = TensorProto()
    tensor.name = "W"
    tensor.data_type = TensorProto.FLOAT
    tensor.dims.extend([4])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    nodes = [helper.make_node("Add", ["X", "W"], ["X2"]), *_labels_nodes("X2")]
    if in_attribute:
        nodes.insert(0, helper.make_node("Constant", [], ["W"], value=tensor))
        return _model(nodes, [_labels_output()])
    return _model(nodes, [_labels_output()], initializers=[tensor])


class SystemCall:
    """Unpickling this runs a shell command: the classic malicious pickle."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def malicious_pickle(command: str) -> bytes:
    return pickle.dumps(SystemCall(command), protocol=4)
