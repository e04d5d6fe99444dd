"""Every usage snippet the demo catalog shows runs as a reader would run it: copied from the
model page, in a clean virtual environment holding only what the snippet needs, against a
live server; and it prints the prediction the model gives in this process.

The environment is made once per session with uv (as `make install` makes .venv), with the
versions requirements.txt pins. The snippets are taken from each model's page as its viewer
sees it: the public models as the anonymous visitor, the private one as its owner, whose
snippets send a token from MODEL_REGISTRY_TOKEN.
"""

import html
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from models_app.blobs import blob_open
from models_app.models import ModelFile, RegisteredModel

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
# What the snippets import, and nothing of the project.
SNIPPET_PACKAGES = ["numpy", "onnxruntime", "skops", "scikit-learn", "requests"]
SNIPPETS = re.compile(
    r'<details class="usage-file" data-usage-file="(?P<path>[^"]+)"(?P<body>.*?)</details>', re.DOTALL
)
SNIPPET = re.compile(
    r'<pre class="snippet" data-snippet="(?P<key>\w+)" data-language="(?P<lang>\w+)"><code>(?P<code>.*?)</code></pre>',
    re.DOTALL,
)


@pytest.fixture(scope="session")
def snippet_python(tmp_path_factory) -> Path:
    """The interpreter of a fresh virtual environment with only SNIPPET_PACKAGES (and what
    they need), at the versions this project pins."""
    uv = Path(sys.executable).with_name("uv")
    uv = str(uv) if uv.exists() else shutil.which("uv")
    assert uv, "uv is needed to make the snippets' environment (make install puts it in .venv/bin)"
    venv = tmp_path_factory.mktemp("snippet-venv") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    pins = ["-c", str(ROOT / "requirements.txt"), "-c", str(ROOT / "requirements-dev.txt")]
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), *SNIPPET_PACKAGES, *pins], check=True, timeout=600
    )
    return python


def page_snippets(client, model: RegisteredModel, host: str) -> list[tuple[str, str, str, str]]:
    """(file path, key, language, code) of every snippet on the model's page, as rendered
    for the host the live server answers on (the snippets' URLs are absolute)."""
    response = client.get(model.get_absolute_url(), HTTP_HOST=host)
    assert response.status_code == 200
    found = []
    for block in SNIPPETS.finditer(response.content.decode()):
        for snippet in SNIPPET.finditer(block["body"]):
            found.append(
                (html.unescape(block["path"]), snippet["key"], snippet["lang"], html.unescape(snippet["code"]))
            )
    return found


def expected_output(model_file: ModelFile) -> str:
    """What the model predicts here, in this process, for one row of zeros, as the version's
    labels name it: the line every snippet for the file must print."""
    import onnxruntime as ort
    import skops.io as sio

    with blob_open(model_file.sha256) as handle:
        data = handle.read()
    if model_file.format == "onnx":
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        spec = session.get_inputs()[0]
        row = np.zeros([d if isinstance(d, int) else 1 for d in spec.shape], dtype=np.float32)
        prediction = np.ravel(session.run(None, {spec.name: row})[0]).tolist()[0]
    else:
        estimator = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
        prediction = np.ravel(estimator.predict(np.zeros((1, estimator.n_features_in_), dtype=np.float32))).tolist()[0]
    labels = next((o["classes"] for o in model_file.version.signature.get("outputs", []) if o.get("classes")), None)
    return str(labels[prediction] if labels else prediction)


def run_snippet(
    python: Path, language: str, code: str, workdir: Path, token: str | None
) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True)
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8"}
    if token:
        env["MODEL_REGISTRY_TOKEN"] = token
    command = ["bash", "-euo", "pipefail", "-c", code] if language == "shell" else [str(python), "-c", code]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.django_db
def test_every_demo_snippet_downloads_checks_loads_and_predicts(demo, live_server, snippet_python, client, tmp_path):
    host = live_server.url.removeprefix("http://")
    jobs = []
    for model in RegisteredModel.objects.select_related("owner").order_by("owner__username", "name"):
        viewer_token = None
        client.logout()
        if model.visibility == "private":
            client.force_login(model.owner)
            viewer_token = demo["bob_token"] if model.owner.username == "bob" else None
        snippets = page_snippets(client, model, host)
        latest = model.versions.public().stable().semver_order().first()
        if latest is None:
            assert snippets == [], f"{model.full_name} has no stable release, so no snippet"
            continue
        files = {f.path: f for f in latest.files.select_related("blob", "version")}
        assert {path for path, *_ in snippets} == {"model.onnx", "model.skops"}, model.full_name
        for path, key, language, code in snippets:
            model_file = files[path]
            assert model_file.sha256 in code, "every variant checks the SHA-256"
            assert (viewer_token is not None) == ("MODEL_REGISTRY_TOKEN" in code), "private models send a token"
            name = f"{model.owner.username}-{model.name}-{path}-{key}"
            jobs.append((name, model_file, language, code, tmp_path / name, viewer_token))
    assert len(jobs) >= 30, "the demo shows ONNX and skops snippets in three variants for each model"
    expected = {name: expected_output(model_file) for name, model_file, *_ in jobs}

    # Two at a time: each starts a Python that imports onnxruntime or scikit-learn.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(
            zip(
                [job[0] for job in jobs],
                pool.map(lambda job: run_snippet(snippet_python, job[2], job[3], job[4], job[5]), jobs),
                strict=True,
            )
        )
    failures = []
    for name, result in results.items():
        printed = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
        if printed != [expected[name]]:
            failures.append(
                f"{name}: exit {result.returncode}, printed {result.stdout[-300:]!r}, {result.stderr[-600:]}"
            )
    assert not failures, "\n".join(failures)

    # The SHA-256 check is real: with another expected hash than the bytes the server sends,
    # every variant exits non-zero before it loads anything. (In this test, not another one:
    # a live_server test empties the database when it ends, and the demo takes minutes to load.)
    for name, model_file, language, code, workdir, _ in jobs:
        if not name.startswith("alice-iris-classifier-model.onnx-"):
            continue
        result = run_snippet(snippet_python, language, code.replace(model_file.sha256, "0" * 64), workdir / "t", None)
        assert result.returncode != 0, name
        assert "does not match" in result.stderr or "FAILED" in result.stdout + result.stderr, name
        assert expected[name] not in result.stdout, name
