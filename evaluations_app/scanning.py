"""Scan every uploaded file and record a verdict: clean, flagged (with findings) or error.

1. The file's format, detected from its bytes at upload, decides the scan. Data formats
   (text, JSON, Parquet) run nothing when loaded: clean. Formats no scanner here reads
   (GGUF, HDF5, unknown bytes): could not be scanned.
2. Everything else is inspected in the sandbox by engine/inspect_child.py: pickles walked
   without resolving a global, archives (zip, PyTorch, skops, tar) member by member
   counting the bytes actually read, ONNX external data and custom operator domains,
   safetensors and .npy headers against the file size.
3. For the pickle family, every global the file imports is checked against the exact
   allow-list the evaluation's unpickler uses (what the Hugging Face Hub shows as
   imports), and picklescan, modelscan and fickling add their findings. A scanner that
   fails or reads nothing adds a note, never a "clean": our own walk must have finished.
4. The verdict is written with a conditional update, so a file whose bytes changed since
   (a new upload under the same row cannot happen; a removed file can) is left alone.
5. The signature the child read (an ONNX graph's inputs and outputs; a skops estimator's
   n_features_in_, feature names and classes_, parsed from its schema, never loaded) is kept
   in the file's report and becomes the version's when it is a draft without one.
"""

import functools
import json
import logging
import shutil
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from models_app.blobs import blob_open
from models_app.formats import DATA_FORMATS, Format
from models_app.models import ModelFile, ScanStatus
from models_app.services import signature_problems, version_adopt_signature
from models_app.usage import clean_onnx_io, clean_type_list

from .engine.child import PICKLE_ALLOWED, _sklearn_estimators
from .engine.sandbox import Limits, SandboxUnavailable, run_in_sandbox, sandbox_workdir
from .signals import file_scanned

log = logging.getLogger(__name__)
INSPECT_CHILD = Path(__file__).with_name("engine") / "inspect_child.py"
INSPECTED_FORMATS = {
    Format.PICKLE, Format.JOBLIB, Format.PYTORCH, Format.SKOPS, Format.ZIP, Format.ONNX, Format.SAFETENSORS,
    Format.NUMPY,
}  # fmt: skip
PICKLE_FAMILY = {Format.PICKLE, Format.JOBLIB, Format.PYTORCH}
# What a PyTorch checkpoint's pickle names to rebuild its tensors (torch.load's weights_only list).
TORCH_ALLOWED = frozenset(
    {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"), ("torch", "Size"),
     ("torch", "FloatStorage"), ("torch", "DoubleStorage"), ("torch", "HalfStorage"), ("torch", "BFloat16Storage"),
     ("torch", "LongStorage"), ("torch", "IntStorage"), ("torch", "ShortStorage"), ("torch", "CharStorage"),
     ("torch", "ByteStorage"), ("torch", "BoolStorage"), ("torch", "float32"), ("torch", "float16"),
     ("torch", "bfloat16"), ("torch", "int64"), ("torch", "device"), ("collections", "OrderedDict")}
)  # fmt: skip
JOBLIB_ALLOWED = frozenset({("joblib.numpy_pickle", "NumpyArrayWrapper")})
# Names a reviewer should read as "runs commands", not just "not on the list".
DANGEROUS_MODULES = {"os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "socket", "shutil",
                     "runpy", "pty", "commands", "webbrowser", "ctypes", "importlib", "pickle", "marshal"}  # fmt: skip
CHILD_FAILURE = "The scanner could not finish"


@functools.lru_cache(maxsize=1)
def allowed_globals() -> frozenset:
    return PICKLE_ALLOWED | _sklearn_estimators() | TORCH_ALLOWED | JOBLIB_ALLOWED


def scan_limits() -> Limits:
    return Limits(
        memory_bytes=settings.EVAL_MEMORY_BYTES,
        cpu_seconds=min(settings.EVAL_CPU_SECONDS, 120),
        wall_seconds=min(settings.EVAL_WALL_SECONDS, 180),
        file_bytes=64 * 1024**2,
        processes=16,
    )


def _versions() -> dict[str, str]:
    found = {}
    for name in ("picklescan", "modelscan", "fickling", "onnx", "skops"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _import_findings(globals_found: list[list[str]]) -> list[str]:
    allowed, findings, seen = allowed_globals(), [], set()
    for module, name, where in globals_found:
        if (module, name) in allowed or (module, name) in seen:
            continue
        seen.add((module, name))
        danger = " (it can run commands)" if module.split(".")[0] in DANGEROUS_MODULES else ""
        subject = "The file" if where == "the file" else f"Member {where}"
        findings.append(f"{subject} imports {module}.{name}{danger}, which is not on the allow-list.")
    return findings


def _picklescan(path: Path) -> tuple[list[str], list[str]]:
    from picklescan.scanner import SafetyLevel, scan_file_path  # imported when used: it loads its own tables

    result = scan_file_path(str(path))
    findings = [
        f"picklescan: {item.module}.{item.name} is dangerous."
        for item in result.globals
        if item.safety == SafetyLevel.Dangerous
    ]
    notes = ["picklescan could not read the whole file."] if result.scan_err else []
    return findings, notes


def _modelscan(path: Path) -> tuple[list[str], list[str]]:
    from modelscan.modelscan import ModelScan  # imported when used: it imports every scanner plug-in

    report = ModelScan().scan(path)
    findings = [f"modelscan: {issue.get('description', 'an issue')}." for issue in report.get("issues", [])]
    notes = []
    if report.get("errors") or not report.get("summary", {}).get("scanned", {}).get("total_scanned"):
        notes.append("modelscan could not read the file (it reads no joblib array data).")
    return findings, notes


def _fickling(path: Path) -> tuple[list[str], list[str]]:
    from fickling.analysis import Severity, check_safety  # imported when used, like the others
    from fickling.fickle import Pickled

    try:
        analysis = check_safety(Pickled.load(path.read_bytes()))
    except Exception as error:  # noqa: BLE001 - fickling raises for opcodes it does not know
        return [], [f"fickling could not analyse the file ({type(error).__name__})."]
    if analysis.severity > Severity.LIKELY_SAFE:
        first = str(analysis).strip().splitlines()[:1] or [analysis.severity.name]
        return [f"fickling: {first[0][:200]}"], []
    return [], []


def inspect(sha256: str, file_format: str) -> dict:
    """Run the sandboxed inspection and the third-party scanners on a local copy of the blob."""
    with sandbox_workdir() as folder:
        workdir = Path(folder)
        local = workdir / "upload.bin"
        with blob_open(sha256) as source, open(local, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        request = {"format": file_format, "file": local.name, "max_bytes": settings.SCAN_MAX_EXPANDED_BYTES,
                   "max_members": settings.SCAN_MAX_MEMBERS}  # fmt: skip
        (workdir / "request.json").write_text(json.dumps(request))
        result = run_in_sandbox(
            INSPECT_CHILD, ["request.json"], workdir=workdir, limits=scan_limits(),
            allow_weak=settings.EVAL_ALLOW_WEAK_SANDBOX,
        )  # fmt: skip
        lines = [line for line in result.stdout.strip().splitlines() if line.startswith("{")]
        try:
            report = json.loads(lines[-1]) if lines else {}
        except ValueError:
            report = {}
        if result.limit_hit:
            report = {"ok": False, "error": f"{CHILD_FAILURE}: it hit its {result.limit_hit} limit."}
        elif not isinstance(report, dict) or "ok" not in report:
            report = {"ok": False, "error": f"{CHILD_FAILURE} (it exited with {result.returncode})."}
        extra_findings, notes = [], []
        if file_format in (Format.PICKLE, Format.JOBLIB):
            scanners = [_picklescan, _modelscan] + ([_fickling] if file_format == Format.PICKLE else [])
            for scanner in scanners:
                try:
                    found, said = scanner(local)
                except Exception as error:  # noqa: BLE001 - a scanner's crash is a note, never a pass
                    found, said = [], [f"{scanner.__name__.strip('_')} failed ({type(error).__name__})."]
                extra_findings += found
                notes += said
    report["extra_findings"], report["scanner_notes"] = extra_findings, notes
    report["isolation"] = result.isolation
    return report


def verdict(file_format: str, report: dict | None) -> tuple[str, list[str], dict]:
    """(status, findings, stored report) from an inspection report (None: not inspected)."""
    if file_format in DATA_FORMATS:
        return ScanStatus.CLEAN, [], {"reason": "A data format: nothing runs when it is loaded."}
    if report is None:
        label = dict(Format.CHOICES).get(file_format, file_format)
        return ScanStatus.ERROR, [f"No scanner here reads {label} files."], {}
    stored = {"scanners": _versions(), "notes": report.get("notes", []) + report.get("scanner_notes", []),
              "isolation": report.get("isolation")}  # fmt: skip
    if not report.get("ok"):
        return ScanStatus.ERROR, [str(report.get("error") or CHILD_FAILURE)[:500]], stored
    findings = list(report.get("findings", []))
    findings += _import_findings(report.get("globals", []))
    # skops names the types its defaults do not trust; the ones the pickle allow-list admits
    # (scikit-learn's own, such as sklearn.tree._tree.Tree) are the same vetted set.
    untrusted = [
        t
        for t in report.get("skops_untrusted", [])
        if t not in settings.SKOPS_TRUSTED_TYPES and tuple(t.rsplit(".", 1)) not in allowed_globals()
    ]
    if untrusted:
        findings.append(f"The skops file needs types it does not trust by default: {', '.join(untrusted)[:300]}.")
    findings += report.get("extra_findings", [])
    stored["imports"] = sorted({f"{module}.{name}" for module, name, _ in report.get("globals", [])})[:500]
    # What the usage snippet needs, read here so no page parses a model: an ONNX file's
    # inputs and outputs, a skops file's types beyond skops' defaults (all of them: the
    # snippet's `trusted=` list must name every one). Checked again: the child read untrusted bytes.
    onnx_io = clean_onnx_io(report.get("onnx_io"))
    if file_format == Format.ONNX and onnx_io:
        stored["onnx_io"] = onnx_io
    untrusted_all = clean_type_list(report.get("skops_untrusted", []))
    if file_format == Format.SKOPS and untrusted_all is not None:
        stored["skops_untrusted"] = untrusted_all
    return (ScanStatus.FLAGGED if findings else ScanStatus.CLEAN), findings[:50], stored


def file_scan(*, file_id: int, only_pending: bool = False) -> str | None:
    """Scan one file and record its verdict; returns the status, or None if the file is gone
    (or, with `only_pending`, has a verdict already)."""
    model_file = ModelFile.objects.select_related("blob").filter(pk=file_id).first()
    if model_file is None or (only_pending and model_file.scan_status != ScanStatus.PENDING):
        return None
    file_format = model_file.blob.format
    report = None
    if file_format in INSPECTED_FORMATS:
        try:
            report = inspect(model_file.blob_id, file_format)
        except SandboxUnavailable as unavailable:
            report = {"ok": False, "error": f"{CHILD_FAILURE}: {unavailable.message}"}
    status, findings, stored = verdict(file_format, report)
    signature = report.get("signature") if isinstance(report, dict) and report.get("ok") else None
    if isinstance(signature, dict) and not signature_problems(signature):
        stored["signature"] = signature  # what the file declares, shown beside the version's
    else:
        signature = None
    updated = ModelFile.objects.filter(pk=file_id, blob_id=model_file.blob_id).update(
        scan_status=status, scan_findings=findings, scan_report=stored, scanned_at=timezone.now()
    )
    if updated and signature:
        version_adopt_signature(model_file_id=file_id, signature=signature)
    if updated:
        file_scanned.send(sender=ModelFile, file_id=file_id, version_id=model_file.version_id, status=status)
    log.info("scanned file %s (%s): %s", file_id, file_format, status)
    return status


def files_pending(*, older_than_seconds: int = 0):
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return ModelFile.objects.filter(scan_status=ScanStatus.PENDING, created_at__lt=cutoff)
