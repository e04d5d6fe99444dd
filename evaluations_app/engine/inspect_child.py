"""The program the sandbox runs to scan one uploaded file: list what loading it would do.

It runs as `python -I inspect_child.py REQUEST.json` in the sandbox (see sandbox.py), like
child.py, and imports nothing from the project. It never loads a model: pickles are walked
by an unpickler that resolves no global (each becomes an inert stand-in, recorded by name),
archives are walked member by member counting the bytes actually read, and headers are
parsed and checked against the file's size. It prints one JSON line:

    {"ok": true, "format": ..., "globals": [[module, name, where], ...], "findings": [...], "notes": [...]}

The worker turns the globals into a verdict with the allow-list; nothing here is trusted.

Request keys: format (detected from the bytes by the registry), file, max_bytes (the most
an archive may expand to), max_members.
"""

import io
import json
import pickle
import stat
import struct
import sys
import tarfile
import zipfile

NESTING = 3  # archives inside archives, at most this deep
SAFETENSORS_DTYPES = {"BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "F32", "U64", "I64", "F64",
                      "F8_E4M3", "F8_E5M2", "C64"}  # fmt: skip
STANDARD_ONNX_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "ai.onnx.training"}


class Unscannable(Exception):
    """The file cannot be scanned; the message says why."""


class Report:
    def __init__(self, limits: dict):
        self.globals: list[list[str]] = []
        self.findings: list[str] = []
        self.notes: list[str] = []
        self.max_bytes = int(limits["max_bytes"])
        self.max_members = int(limits["max_members"])
        self.read = 0
        self.skops_untrusted: list[str] = []
        self.signature: dict | None = None
        # An ONNX file's graph inputs and outputs ({name, type, shape}), for the usage snippet.
        self.onnx_io: dict | None = None

    def count(self, size: int) -> None:
        """Bytes actually decompressed, whatever an archive declares: a bomb stops here."""
        self.read += size
        if self.read > self.max_bytes:
            raise Unscannable(f"The archive expands to more than {self.max_bytes} bytes; it was not unpacked further.")


# --- pickles: every global named, none resolved ---


class _StandIn:
    """What every global becomes: calling it, building it or filling it does nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass

    def __call__(self, *args, **kwargs):
        return _StandIn()


def _recording_find_class(report: Report, where: str):
    def find_class(module, name):
        report.globals.append([str(module), str(name), where])
        return type(str(name).replace(".", "_")[:100] or "_", (_StandIn,), {})

    return find_class


def _is_joblib(data: bytes) -> bool:
    return b"NumpyArrayWrapper" in data[:65536] or b"joblib" in data[:65536]


def walk_pickle(data: bytes, report: Report, where: str) -> None:
    """List the globals of a pickle (or joblib dump) without resolving any of them.

    joblib writes each array's bytes straight after its wrapper's state; its unpickler
    knows how far to skip, so it is used with the wrapper and numpy's dtype real (they
    only describe and read array bytes) and every other global a stand-in.
    """
    stream = io.BytesIO(data)
    try:
        if _is_joblib(data):
            import numpy as np
            from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

            record = _recording_find_class(report, where)

            class Walker(NumpyUnpickler):
                def find_class(self, module, name):
                    if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
                        return NumpyArrayWrapper
                    if (module, name) == ("numpy", "dtype"):
                        report.globals.append([module, name, where])
                        return np.dtype
                    return record(module, name)

            Walker(where, stream, ensure_native_byte_order=True).load()
        else:
            record = _recording_find_class(report, where)

            class Walker(pickle.Unpickler):
                def find_class(self, module, name):
                    return record(module, name)

                def persistent_load(self, pid):
                    return _StandIn()  # PyTorch's storages

            Walker(stream).load()
    except Unscannable:
        raise
    except Exception as error:  # noqa: BLE001 - any failure to walk means: not scanned
        raise Unscannable(f"The pickle in {where} could not be walked: {type(error).__name__}.") from None
    trailing = len(data) - stream.tell()
    if trailing > 0 and not _is_joblib(data):
        report.findings.append(
            f"{where} has {trailing} bytes after the end of its pickle, which a scanner would not see."
        )


# --- archives: members walked, never extracted ---


def _check_member_name(name: str, where: str) -> None:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise Unscannable(f"{where} holds an absolute path ({name!r}); it was refused.")
    if any(part == ".." for part in normalized.split("/")):
        raise Unscannable(f"{where} holds a path that leaves the archive ({name!r}); it was refused.")


def _member(where: str, name: str) -> str:
    return name if where == "the file" else f"{where}/{name}"


def walk_zip(data: bytes, report: Report, where: str, depth: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise Unscannable(f"{where} is not a readable zip archive ({error}).") from None
    members = archive.infolist()
    if len(members) > report.max_members:
        raise Unscannable(f"{where} holds {len(members)} members, more than {report.max_members}.")
    for info in members:
        _check_member_name(info.filename, where)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Unscannable(f"{where} holds a symbolic link ({info.filename!r}); it was refused.")
        if info.is_dir():
            continue
        chunks = []
        try:
            with archive.open(info) as member:
                while chunk := member.read(1024 * 1024):
                    report.count(len(chunk))
                    chunks.append(chunk)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as error:
            raise Unscannable(f"{where}: member {info.filename!r} cannot be read ({error}).") from None
        inspect_bytes(b"".join(chunks), report, _member(where, info.filename), depth + 1)


def walk_tar(data: bytes, report: Report, where: str, depth: int) -> None:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise Unscannable(f"{where} is not a readable tar archive ({error}).") from None
    with archive:
        count = 0
        for info in archive:
            count += 1
            if count > report.max_members:
                raise Unscannable(f"{where} holds more than {report.max_members} members.")
            _check_member_name(info.name, where)
            if info.issym() or info.islnk():
                raise Unscannable(f"{where} holds a link ({info.name!r} → {info.linkname!r}); it was refused.")
            if not (info.isfile() or info.isdir()):
                raise Unscannable(f"{where} holds a device or special file ({info.name!r}); it was refused.")
            if info.isdir():
                continue
            member = archive.extractfile(info)
            chunks = []
            while chunk := member.read(1024 * 1024):
                report.count(len(chunk))
                chunks.append(chunk)
            inspect_bytes(b"".join(chunks), report, _member(where, info.name), depth + 1)


# --- headers checked against the bytes ---


def check_safetensors(data: bytes, report: Report, where: str) -> None:
    if len(data) < 8:
        raise Unscannable(f"{where} is too short to be a safetensors file.")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8 or length > 100_000_000:
        raise Unscannable(f"{where} declares a {length}-byte header, longer than the file.")
    try:
        header = json.loads(data[8 : 8 + length])
    except ValueError:
        raise Unscannable(f"{where} has a header that is not JSON.") from None
    if not isinstance(header, dict):
        raise Unscannable(f"{where} has a header that is not a JSON object.")
    body = len(data) - 8 - length
    spans = []
    for name, tensor in header.items():
        if name == "__metadata__":
            if not isinstance(tensor, dict) or not all(isinstance(v, str) for v in tensor.values()):
                report.findings.append(f"{where}: its __metadata__ is not a table of strings.")
            continue
        if not isinstance(tensor, dict) or tensor.get("dtype") not in SAFETENSORS_DTYPES:
            report.findings.append(f"{where}: tensor {name!r} has no valid dtype.")
            continue
        offsets = tensor.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            report.findings.append(f"{where}: tensor {name!r} has no valid data_offsets.")
            continue
        start, end = offsets
        if not 0 <= start <= end <= body:
            report.findings.append(
                f"{where}: tensor {name!r} points past the end of the file ({start}–{end} of {body})."
            )
        spans.append((start, end, name))
    spans.sort()
    for (_, end_a, name_a), (start_b, _, name_b) in zip(spans, spans[1:], strict=False):
        if start_b < end_a:
            report.findings.append(f"{where}: tensors {name_a!r} and {name_b!r} overlap.")


def check_onnx(data: bytes, report: Report, where: str) -> None:
    import onnx

    try:
        model = onnx.load_model_from_string(data)  # from bytes: no path, so no external file is read
    except Exception as error:  # noqa: BLE001 - protobuf raises several kinds
        raise Unscannable(f"{where} is not a readable ONNX model ({type(error).__name__}).") from None
    domains = {opset.domain for opset in model.opset_import}
    custom = sorted(domain for domain in domains if domain not in STANDARD_ONNX_DOMAINS)
    if where == "the file":
        report.signature = onnx_signature(model)
    if custom:
        report.findings.append(f"{where} uses custom operator domains ({', '.join(custom)}), which run native code.")
    if model.functions:
        report.notes.append(f"{where} defines {len(model.functions)} local function(s).")
    external = set()

    def tensors(graph):
        yield from graph.initializer
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors
                if attribute.HasField("g"):
                    yield from tensors(attribute.g)
                for subgraph in attribute.graphs:
                    yield from tensors(subgraph)

    for tensor in tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "?")
            external.add(location)
    if external:
        report.findings.append(
            f"{where} keeps tensors in external files ({', '.join(sorted(external))[:200]}); the registry serves "
            "only the bytes it stored, so they are refused."
        )
    if where == "the file":
        report.onnx_io = onnx_io(model)


MAX_IO = 32  # inputs or outputs described; a graph with more is described by its first ones


def _value_info(value) -> dict:
    """{name, type, shape} of a graph input or output: the numpy dtype name of a tensor
    ("float32"), or the kind of a non-tensor ("sequence", "map"); a dimension without a
    fixed size (a batch axis, named or not) is None."""
    import onnx

    kind = value.type.WhichOneof("value")
    info: dict = {"name": value.name[:200], "type": kind or "unknown"}
    if kind == "tensor_type":
        tensor = value.type.tensor_type
        try:
            info["type"] = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
        except (KeyError, ValueError, TypeError):
            info["type"] = onnx.TensorProto.DataType.Name(tensor.elem_type).lower() if tensor.elem_type else "unknown"
        if tensor.HasField("shape"):
            info["shape"] = [
                dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None for dim in tensor.shape.dim
            ][:16]
    elif kind:
        info["type"] = kind.removesuffix("_type")
    return info


def onnx_io(model) -> dict:
    """The inputs a caller feeds (graph inputs that are not initializers) and the outputs."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    return {
        "inputs": [_value_info(value) for value in inputs[:MAX_IO]],
        "outputs": [_value_info(value) for value in model.graph.output[:MAX_IO]],
    }


# --- signatures: read from the graph or the estimator's saved state, nothing run ---

MAX_SIGNATURE_SPECS = 100
MAX_CLASSES = 1000
ONNX_TYPE_NAMES = {"FLOAT": "float32", "DOUBLE": "float64", "FLOAT16": "float16", "BFLOAT16": "bfloat16",
                   "STRING": "string", "BOOL": "bool"}  # fmt: skip


def _onnx_type(type_proto) -> tuple[str, list | None]:
    """(type, shape) of an ONNX value: "float32" and [None, 4] for a tensor; a readable name
    and no shape for sequences and maps (skl2onnx's probabilities)."""
    import onnx

    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        tensor = type_proto.tensor_type
        name = onnx.TensorProto.DataType.Name(tensor.elem_type)
        shape = None
        if tensor.HasField("shape"):
            shape = [dim.dim_value if dim.HasField("dim_value") else None for dim in tensor.shape.dim]
        return ONNX_TYPE_NAMES.get(name, name.lower()), shape
    if kind == "sequence_type":
        inner, _ = _onnx_type(type_proto.sequence_type.elem_type)
        return f"sequence<{inner}>", None
    if kind == "map_type":
        key = onnx.TensorProto.DataType.Name(type_proto.map_type.key_type)
        inner, _ = _onnx_type(type_proto.map_type.value_type)
        return f"map<{ONNX_TYPE_NAMES.get(key, key.lower())}, {inner}>", None
    return kind or "unknown", None


def onnx_signature(model) -> dict:
    """Inputs and outputs of the graph (initializers listed as inputs by old exporters are
    weights, not inputs), and the class labels of a classifier node (skl2onnx's ai.onnx.ml ops)."""
    weights = {tensor.name for tensor in model.graph.initializer}
    sides = {}
    for side, values in (("inputs", model.graph.input), ("outputs", model.graph.output)):
        specs = []
        for value in values:
            if value.name in weights:
                continue
            value_type, shape = _onnx_type(value.type)
            spec = {"name": value.name[:200], "type": value_type[:100]}
            if shape is not None:
                spec["shape"] = shape
            specs.append(spec)
        sides[side] = specs[:MAX_SIGNATURE_SPECS]
    classes = None
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.name in ("classlabels_int64s", "classlabels_ints") and attribute.ints:
                classes = [int(label) for label in attribute.ints]
            elif attribute.name == "classlabels_strings" and attribute.strings:
                classes = [label.decode("utf-8", "replace")[:200] for label in attribute.strings]
        if classes:
            break
    if classes and sides["outputs"] and len(classes) <= MAX_CLASSES:
        sides["outputs"][0]["classes"] = classes
    return sides


def _skops_value(node, members: dict):
    """The plain value a skops state node stands for (an int, a string, a list, a 1-d array
    read from its .npy with allow_pickle=False), or None when it is anything else."""
    if not isinstance(node, dict):
        return None
    loader = node.get("__loader__")
    if loader == "JsonNode" and node.get("is_json"):
        try:
            return json.loads(node.get("content", "null"))
        except (TypeError, ValueError):
            return None
    if loader in ("NdArrayNode", "ListNode") and isinstance(node.get("content"), list):
        return [_skops_value(item, members) for item in node["content"]]
    if loader == "NdArrayNode" and node.get("type") == "numpy" and node.get("file") in members:
        import numpy as np

        try:
            array = np.load(io.BytesIO(members[node["file"]]), allow_pickle=False)
        except Exception:  # noqa: BLE001 - an object array or a broken file: no value
            return None
        if array.ndim != 1 or array.size > MAX_CLASSES:
            return None
        return array.tolist()
    return None


def _skops_state(node) -> dict:
    content = node.get("content") if isinstance(node, dict) else None
    if isinstance(content, dict) and content.get("__loader__") == "DictNode":
        content = content.get("content")
    return content if isinstance(content, dict) else {}


def _skops_steps(state: dict) -> list:
    """A Pipeline's estimators, in order (each step is a (name, estimator) tuple node)."""
    steps = state.get("steps")
    found = []
    for step in (steps or {}).get("content", []) if isinstance(steps, dict) else []:
        pair = step.get("content") if isinstance(step, dict) else None
        if isinstance(pair, list) and len(pair) == 2:
            found.append(pair[1])
    return found


def skops_signature(data: bytes) -> dict | None:
    """The estimator's n_features_in_, feature_names_in_ and classes_, read from the skops
    file's schema.json: parsed as JSON, the class labels from their .npy without pickle. A
    Pipeline takes its inputs from its first step and its classes from its last."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        schema = json.loads(archive.read("schema.json"))
        members = {name: archive.read(name) for name in names if name.endswith(".npy")}
    state = _skops_state(schema)
    steps = _skops_steps(state)
    first, last = (_skops_state(steps[0]), _skops_state(steps[-1])) if steps else (state, state)
    features = _skops_value(first.get("n_features_in_"), members)
    names_in = _skops_value(first.get("feature_names_in_"), members)
    classes = _skops_value(last.get("classes_"), members)
    if not isinstance(features, int) or isinstance(features, bool):
        features = len(names_in) if isinstance(names_in, list) else None
    if features is None and classes is None:
        return None
    inputs = {"name": "X", "type": "float64", "shape": [None, features]}
    if isinstance(names_in, list) and all(isinstance(n, str) for n in names_in):
        inputs["columns"] = [n[:200] for n in names_in][:MAX_CLASSES]
    if "classes_" not in last:  # a regressor
        output = {"name": "prediction", "type": "float64", "shape": [None]}
    else:
        output = {"name": "label", "type": "int64", "shape": [None]}
        if isinstance(classes, list) and classes and all(isinstance(c, (int, str)) for c in classes):
            output["type"] = "string" if isinstance(classes[0], str) else "int64"
            output["classes"] = classes
    return {"inputs": [inputs], "outputs": [output]}


def check_numpy(data: bytes, report: Report, where: str) -> None:
    import numpy as np

    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
    except Exception as error:  # noqa: BLE001
        raise Unscannable(f"{where} has an unreadable .npy header ({error}).") from None
    if dtype.hasobject:
        report.findings.append(f"{where} is an array of Python objects: loading it needs pickle.")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if not dtype.hasobject and expected > len(data):
        report.findings.append(f"{where} declares {expected} bytes of data but holds {len(data)}.")


# --- dispatch by the bytes ---


def sniff(data: bytes) -> str:
    head = data[:16]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x80") and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if head.startswith(b"\x93NUMPY"):
        return "numpy"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    return "other"


def inspect_bytes(data: bytes, report: Report, where: str, depth: int = 0, declared: str | None = None) -> None:
    if depth > NESTING:
        raise Unscannable(f"{where} nests archives more than {NESTING} deep.")
    kind = declared or sniff(data)
    if kind in ("pickle", "joblib"):
        walk_pickle(data, report, where)
    elif kind in ("zip", "pytorch", "skops"):
        walk_zip(data, report, where, depth)
    elif kind == "tar":
        walk_tar(data, report, where, depth)
    elif kind == "safetensors":
        check_safetensors(data, report, where)
    elif kind == "onnx":
        check_onnx(data, report, where)
    elif kind == "numpy":
        check_numpy(data, report, where)
    elif depth > 0 and where.endswith(".pkl") and data[:1] in (b"(", b"c", b"}", b"]"):
        walk_pickle(data, report, where)  # a protocol 0/1 pickle inside an archive


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    report = Report(request)
    try:
        with open(request["file"], "rb") as handle:
            data = handle.read()
        declared = request["format"]
        inspect_bytes(data, report, "the file", declared=declared)
        if declared == "skops":
            import skops.io as sio

            report.skops_untrusted = sorted(sio.get_untrusted_types(data=data))
            try:
                report.signature = skops_signature(data)
            except Exception:  # noqa: BLE001 - an unusual state tree: no signature, the scan goes on
                report.notes.append("The estimator's inputs and classes could not be read from the file.")
    except Unscannable as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        sys.exit(3)
    except MemoryError:
        print(json.dumps({"ok": False, "error": "The file needed more memory to scan than the scan may use."}))
        sys.exit(3)
    print(
        json.dumps(
            {
                "ok": True,
                "globals": report.globals,
                "findings": report.findings,
                "notes": report.notes,
                "skops_untrusted": report.skops_untrusted,
                "signature": report.signature,
                "onnx_io": report.onnx_io,
            }
        )
    )


if __name__ == "__main__":
    main()
