"""The "Use this model" snippets: download a file, check its SHA-256, load it and predict.

One snippet per way of downloading (curl, the standard library, requests), for each file the
registry knows how to load: ONNX with onnxruntime, skops with `skops.io.load`. Everything a
snippet names comes from what the registry read, not from what anyone typed:

- an ONNX file's input names, element types and shapes, and its outputs, were read from the
  file by its scan at upload (`scan_report["onnx_io"]`), so a page never parses a model;
- a skops file's types beyond skops' defaults are what `skops.io.get_untrusted_types` listed
  for it at the same scan (`scan_report["skops_untrusted"]`), and the snippet trusts exactly
  those, in the open, for the reader to check;
- class labels are the ones the version declares on an output of its signature (`labels`).

Names from a file are attacker-controlled text that readers paste into a shell or Python:
every value goes in through `repr` (Python) or `shlex.quote` (shell), never spliced raw.
When a scan has not described a file, the snippet reads the same facts at run time instead.
"""

import json
import re
import shlex
from dataclasses import dataclass, field

from .formats import Format
from .models import ModelFile, ModelVersion

TOKEN_VARIABLE = "MODEL_REGISTRY_TOKEN"
RUNNABLE_FORMATS = (Format.ONNX, Format.SKOPS)  # in the order the page offers them
MAX_IO = 32
MAX_DIMS = 16
MAX_NAME = 200
MAX_LABELS = 10_000
# numpy dtype names an example input can be built from; anything else is read at run time.
NUMERIC_TYPES = frozenset(
    {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"}
)
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_TYPE_PATH = re.compile(r"^[A-Za-z_][\w.]{0,300}$")


@dataclass(frozen=True)
class Snippet:
    key: str  # curl, python, requests
    title: str
    language: str  # shell or python
    code: str


@dataclass(frozen=True)
class FileUsage:
    """How to use one file of a version: its snippets, and what the reader should know."""

    file: ModelFile
    runs: bool  # the snippets load the model and predict, not only download it
    private: bool  # the snippets send a token
    loader: str  # "onnxruntime", "skops" or ""
    snippets: list[Snippet] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- What a scan recorded, checked again here: the scan's child ran on untrusted bytes. ---


def _clean_spec(value) -> dict | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not isinstance(value.get("type"), str):
        return None
    if len(value["name"]) > MAX_NAME or not _TYPE_NAME.match(value["type"]):
        return None
    spec = {"name": value["name"], "type": value["type"]}
    shape = value.get("shape")
    if shape is not None:
        if not isinstance(shape, list) or len(shape) > MAX_DIMS:
            return None
        if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**31) for d in shape):
            return None
        spec["shape"] = shape
    return spec


def clean_onnx_io(value) -> dict | None:
    """{"inputs": [...], "outputs": [...]} of {name, type, shape?}, or None if malformed."""
    if not isinstance(value, dict):
        return None
    cleaned = {}
    for side in ("inputs", "outputs"):
        specs = value.get(side)
        if not isinstance(specs, list) or len(specs) > MAX_IO:
            return None
        cleaned[side] = [_clean_spec(spec) for spec in specs]
        if any(spec is None for spec in cleaned[side]):
            return None
    return cleaned if cleaned["inputs"] else None


def clean_type_list(value) -> list[str] | None:
    """Dotted type names (skops' untrusted types), or None if malformed."""
    if not isinstance(value, list) or len(value) > 500:
        return None
    if not all(isinstance(item, str) and _TYPE_PATH.match(item) for item in value):
        return None
    return sorted(set(value))


def declared_labels(version: ModelVersion) -> tuple[str | None, list[str]]:
    """(output name, labels) of the first signature output that declares class labels."""
    outputs = (version.signature or {}).get("outputs") or []
    for spec in outputs:
        if isinstance(spec, dict) and isinstance(spec.get("classes"), list) and spec["classes"]:
            return spec.get("name"), [str(label) for label in spec["classes"]]
    return None, []


def _declared_type(version: ModelVersion) -> str | None:
    """The numeric element type of a version's single declared input, if it says one."""
    inputs = (version.signature or {}).get("inputs") or []
    if len(inputs) != 1 or not isinstance(inputs[0], dict):
        return None
    return inputs[0].get("type") if inputs[0].get("type") in NUMERIC_TYPES else None


# --- The pieces of code ---


def _py(value: str | list[str]) -> str:
    """A Python literal for text from a file or a user: JSON's escaping (ASCII only, quotes
    and newlines escaped) is valid Python, so nothing in it can end the string."""
    return json.dumps(value)


def _zeros(spec: dict) -> str:
    shape = tuple(d if isinstance(d, int) else 1 for d in spec.get("shape") or [1])
    if spec["type"] in NUMERIC_TYPES:
        return f"np.zeros({shape!r}, dtype=np.{spec['type']})"
    if spec["type"] in ("object", "str", "bytes_", "str_"):
        return f'np.full({shape!r}, "", dtype=object)'
    return ""


def _predict_onnx(model_file: ModelFile, version: ModelVersion) -> tuple[list[str], list[str]]:
    io = clean_onnx_io((model_file.scan_report or {}).get("onnx_io"))
    lines = [
        "import numpy as np",
        "import onnxruntime as ort",
        "",
        f'session = ort.InferenceSession({_py(model_file.filename)}, providers=["CPUExecutionProvider"])',
    ]
    notes = []
    feeds = [(spec, _zeros(spec)) for spec in (io or {}).get("inputs", [])]
    if io and all(code for _, code in feeds):
        lines.append("# One row of zeros per input, as the file declares it: put your features here.")
        lines.append("feeds = {")
        for spec, code in feeds:
            shape = spec.get("shape")
            lines.append(f"    {_py(spec['name'])}: {code},  # {spec['type']}, shape {shape if shape else '?'}")
        lines.append("}")
        names = [spec["name"] for spec in io["outputs"]]
        types = {spec["name"]: spec["type"] for spec in io["outputs"]}
    else:
        # Not described by a scan (yet): read the first input from the file when it runs.
        lines += [
            "spec = session.get_inputs()[0]  # its name, element type and shape, read from the file",
            "shape = [d if isinstance(d, int) else 1 for d in spec.shape]",
            "feeds = {spec.name: np.zeros(shape, dtype=np.float32)}  # one row of zeros: put your features here",
        ]
        notes.append("The registry has not read this file's inputs yet; the snippet reads them when it runs.")
        names, types = [], {}
    label_output, labels = declared_labels(version)
    index = names.index(label_output) if label_output in names else 0
    output = names[index] if names else None
    lines.append("outputs = session.run(None, feeds)")
    lines.append(
        f"prediction = np.ravel(outputs[{index}]).tolist()[0]"
        + (f"  # the first row's {_py(output)}" if output else "")
    )
    mappable = bool(labels) and (not types or types.get(output, "").startswith(("int", "uint")))
    return lines + _print(labels if mappable else []), notes


def _predict_skops(model_file: ModelFile, version: ModelVersion) -> tuple[list[str], list[str]]:
    untrusted = clean_type_list((model_file.scan_report or {}).get("skops_untrusted"))
    lines = ["import numpy as np", "import skops.io as sio", ""]
    notes = []
    name = model_file.filename
    if untrusted is None:
        lines += [
            f"trusted = sio.get_untrusted_types(file={_py(name)})",
            'print("Trusting:", trusted)  # read this list before you trust it',
        ]
        notes.append("The registry has not listed this file's types yet; the snippet lists them when it runs.")
    elif untrusted:
        lines.append("# The types this file needs beyond skops' defaults, as skops.io.get_untrusted_types lists them:")
        lines.append("# read them before you trust them.")
        lines.append(f"trusted = {_py(untrusted)}")
        notes.append(f"Loading it trusts {len(untrusted)} type(s) beyond skops' defaults; the snippet names them.")
    else:
        lines.append("trusted = []  # skops.io.get_untrusted_types lists none: plain scikit-learn")
    lines.append(f"model = sio.load({_py(name)}, trusted=trusted)")
    # The width the fitted estimator itself knows (a signature is typed by people); the
    # element type the version declares, if it does.
    dtype = _declared_type(version)
    dtype_code = f", dtype=np.{dtype}" if dtype else ""
    lines.append(f"x = np.zeros((1, model.n_features_in_){dtype_code})  # one row of zeros: put your features here")
    lines.append("prediction = np.ravel(model.predict(x)).tolist()[0]")
    _, labels = declared_labels(version)
    return lines + _print(labels), notes


def _print(labels: list[str]) -> list[str]:
    if not labels:
        return ["print(prediction)"]
    return [
        f"LABELS = {_py(labels)}  # class index -> label, as the version declares",
        "print(LABELS[prediction] if isinstance(prediction, int) and 0 <= prediction < len(LABELS) else prediction)",
    ]


# --- The three ways to download ---


def _curl(url: str, model_file: ModelFile, private: bool, run: list[str]) -> str:
    name = shlex.quote(model_file.filename)
    lines = [f"curl -fL -o {name} \\", f"  {shlex.quote(url)}" + (" \\" if private else "")]
    if private:
        lines.append(f'  -H "Authorization: Bearer ${TOKEN_VARIABLE}"')
    lines.append(f"echo {shlex.quote(f'{model_file.sha256}  {model_file.filename}')} | sha256sum -c")
    if run:
        lines += ["python3 - <<'PY'", *run, "PY"]
    return "\n".join(lines)


def _check_lines(model_file: ModelFile) -> list[str]:
    return [
        f"if digest.hexdigest() != {_py(model_file.sha256)}:",
        f"    raise SystemExit({_py(model_file.filename + ' does not match its SHA-256: do not load it.')})",
    ]


def _stdlib(url: str, model_file: ModelFile, private: bool, run: list[str]) -> str:
    headers = f', headers={{"Authorization": "Bearer " + os.environ["{TOKEN_VARIABLE}"]}}' if private else ""
    lines = [
        "import hashlib" + (", os" if private else "") + ", urllib.request",
        "",
        f"request = urllib.request.Request({_py(url)}{headers})",
        f'with urllib.request.urlopen(request) as response, open({_py(model_file.filename)}, "wb") as out:',
        "    digest = hashlib.sha256()",
        "    while chunk := response.read(1 << 20):",
        "        digest.update(chunk)",
        "        out.write(chunk)",
        *_check_lines(model_file),
    ]
    return "\n".join(lines + ([""] + run if run else []))


def _requests(url: str, model_file: ModelFile, private: bool, run: list[str]) -> str:
    lines = ["import hashlib" + (", os" if private else ""), "", "import requests", "", "response = requests.get("]
    lines.append(f"    {_py(url)},")
    if private:
        lines.append(f'    headers={{"Authorization": "Bearer " + os.environ["{TOKEN_VARIABLE}"]}},')
    lines += [
        "    stream=True,",
        "    timeout=60,",
        ")",
        "response.raise_for_status()",
        "digest = hashlib.sha256()",
        f'with open({_py(model_file.filename)}, "wb") as out:',
        "    for chunk in response.iter_content(1 << 20):",
        "        digest.update(chunk)",
        "        out.write(chunk)",
        *_check_lines(model_file),
    ]
    return "\n".join(lines + ([""] + run if run else []))


def _run_lines(model_file: ModelFile, version: ModelVersion) -> tuple[str, list[str], list[str]]:
    if model_file.format == Format.ONNX:
        return "onnxruntime", *_predict_onnx(model_file, version)
    if model_file.format == Format.SKOPS:
        return "skops", *_predict_skops(model_file, version)
    return "", [], []


def file_usage(*, version: ModelVersion, model_file: ModelFile, url: str, private: bool) -> FileUsage:
    """The three snippets for one file, downloaded from `url` (absolute)."""
    loader, run, notes = _run_lines(model_file, version)
    if model_file.can_run_code:
        notes.append("Loading this file can run code (pickle family): the snippets only download it.")
    elif not loader:
        label = dict(Format.CHOICES).get(model_file.format, model_file.format)
        notes.append(f"The registry cannot write loading code for {label} files: the snippets download it.")
    snippets = [
        Snippet("curl", "curl", "shell", _curl(url, model_file, private, run)),
        Snippet("python", "Python (standard library)", "python", _stdlib(url, model_file, private, run)),
        Snippet("requests", "Python (requests)", "python", _requests(url, model_file, private, run)),
    ]
    return FileUsage(file=model_file, runs=bool(loader), private=private, loader=loader, snippets=snippets, notes=notes)


def usage_files(files: list[ModelFile]) -> list[ModelFile]:
    """The files a snippet is offered for: each ONNX and skops file, ONNX first; with none of
    those, the largest file (the weights, not a config next to them)."""
    runnable = [f for kind in RUNNABLE_FORMATS for f in files if f.format == kind]
    if runnable:
        return runnable
    largest = max(files, key=lambda f: f.size, default=None)
    return [largest] if largest else []


def version_usage(*, version: ModelVersion, file_url, private: bool) -> list[FileUsage]:
    """Snippets for each file `usage_files` picks; `file_url(model_file)` is its absolute URL."""
    return [
        file_usage(version=version, model_file=f, url=file_url(f), private=private)
        for f in usage_files(list(version.files.all()))
    ]
