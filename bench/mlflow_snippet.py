"""Benchmark: the MLflow snippet of issue 10 against this registry and against `mlflow server`.

The real `mlflow` client (the project's mlflow-skinny, in .venv) runs the snippet users
already have, unmodified, in a fresh process per run:

    mlflow.set_experiment("iris")
    with mlflow.start_run():
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_metric("accuracy", 0.95)
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris-clf-<n>")

once against the registry (MLFLOW_TRACKING_URI=http://127.0.0.1:<port>/mlflow, a registry API
token as MLFLOW_TRACKING_TOKEN) and once against MLflow's own server of the same version,
interleaved (the order reversed every other round), on the same machine in one invocation.
Each run reports the snippet's own time (measured inside the process, after the imports and
the model fit) and the whole process's; then, best effort and reported apart, a fresh process
loads `models:/iris-clf-<n>/1` with `mlflow.pyfunc.load_model` and checks its predictions
against the original model's.

    .venv/bin/python bench/mlflow_snippet.py [--rounds 5] [--out var/bench/mlflow_snippet.json]
    .venv/bin/python bench/mlflow_snippet.py --registry-url http://host:8000 --token mr_...

MLflow's server cannot be installed in the project's venv (the full `mlflow` package pins
gunicorn<27 and pyarrow<26), so it gets a venv of its own under var/bench/, made once with
uv. The registry is a fresh one unless --registry-url names a running one: a SQLite database,
media, static files and a filesystem broker in a temporary folder, served by gunicorn; no
Celery worker runs unless --with-worker (the snippet's requests do not wait for one). Both
servers are stopped on exit, on an error or on Ctrl-C.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT_PYTHON = ROOT / ".venv" / "bin" / "python"
UV = ROOT / ".venv" / "bin" / "uv"
SERVER_VENV = ROOT / "var" / "bench" / "mlflow-server-venv"
TARGETS = ("registry", "mlflow", "local")

# Neither side may try to reach the outside world: no telemetry, no retries for minutes on
# a 5xx (a failing endpoint should fail a run, not stall it).
QUIET_MLFLOW = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}

FIT = r"""
import json, sys, time
started_process = time.perf_counter()
import mlflow, mlflow.sklearn, mlflow.pyfunc
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
imports_and_fit = time.perf_counter() - started_process
"""

# The snippet as users have it; the marks between its lines only read the clock, so a run
# also says how long each call took and, when one fails, which.
SNIPPET = (
    FIT
    + r"""
name = sys.argv[1]
phases, phase = {}, "set_experiment"
started = mark = time.perf_counter()
def done(next_phase):
    global phase, mark
    now = time.perf_counter()
    phases[phase], phase, mark = now - mark, next_phase, now
try:
    mlflow.set_experiment("iris")
    done("start_run")
    with mlflow.start_run():
        done("log_param")
        mlflow.log_param("learning_rate", 0.01)
        done("log_metric")
        mlflow.log_metric("accuracy", 0.95)
        done("log_model")
        mlflow.sklearn.log_model(model, name="model", registered_model_name=name)
        done("end_run")
    done(None)
except BaseException:
    print(json.dumps({"failed_at": phase, "phases": phases}))
    raise
snippet = time.perf_counter() - started
print(json.dumps({"snippet_seconds": snippet, "imports_and_fit_seconds": imports_and_fit, "phases": phases}))
"""
)

# The client's own share, with no server: `log_model` first saves the model locally like this
# (serialization, and the requirements inferred in a subprocess), then uploads the files.
LOCAL = (
    FIT
    + r"""
import tempfile
started = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    mlflow.sklearn.save_model(model, folder + "/model")
    saved = time.perf_counter() - started
print(json.dumps({"snippet_seconds": saved, "imports_and_fit_seconds": imports_and_fit, "phases": {"save_model": saved}}))
"""
)

LOAD = (
    FIT
    + r"""
started = time.perf_counter()
loaded = mlflow.pyfunc.load_model(f"models:/{sys.argv[1]}/1")
load = time.perf_counter() - started
same = bool((loaded.predict(X) == model.predict(X)).all())
print(json.dumps({"load_seconds": load, "predictions_equal": same}))
"""
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class Servers:
    """The processes this script started, each in its own session, stopped together."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, label: str, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        handle = open(log, "wb")
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        self.processes.append((label, process, log))
        return process

    def stop(self) -> None:
        for _, process, _ in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for _, process, _ in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever is left of the group (gunicorn and uvicorn workers, a celery child)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.processes.clear()


def wait_until_answers(url: str, process: subprocess.Popen | None, log: Path | None, headers=None, timeout=120) -> int:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"the server for {url} exited with {process.returncode}:\n{tail(log.read_text(errors='replace'))}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:
            last = str(error)
        time.sleep(0.25)
    sys.exit(f"{url} did not answer within {timeout} s ({last})" + (f":\n{tail(log.read_text())}" if log else ""))


def client_mlflow_version() -> str:
    out = subprocess.run(
        [str(CLIENT_PYTHON), "-c", "import importlib.metadata as m; print(m.version('mlflow-skinny'))"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.exit(f"the project's venv has no mlflow client; run `make install` first:\n{tail(out.stderr)}")
    return out.stdout.strip()


def server_venv(version: str) -> Path:
    """MLflow's full package, the client's version, in a venv of its own (made once, then reused)."""
    mlflow = SERVER_VENV / "bin" / "mlflow"
    python = SERVER_VENV / "bin" / "python"
    if mlflow.exists():
        out = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
            capture_output=True,
            text=True,
        )
        if out.returncode == 0 and out.stdout.strip() == version:
            return mlflow
    print(f"installing mlflow=={version} into {SERVER_VENV.relative_to(ROOT)} (once)...", flush=True)
    shutil.rmtree(SERVER_VENV, ignore_errors=True)
    SERVER_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(UV), "venv", "--quiet", "--python", str(CLIENT_PYTHON), str(SERVER_VENV)], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(python), f"mlflow=={version}"],
        check=True,
    )
    return mlflow


def start_mlflow(servers: Servers, folder: Path, version: str, workers: int) -> tuple[str, subprocess.Popen, Path]:
    mlflow = server_venv(version)
    port = free_port()
    (folder / "artifacts").mkdir()
    command = [
        str(mlflow),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--serve-artifacts",
        "--workers",
        str(workers),
    ]
    log = folder / "mlflow-server.log"
    env = {**os.environ, **QUIET_MLFLOW}
    print("starting mlflow server (a fresh database: it migrates first)...", flush=True)
    process = servers.start("mlflow", command, env, log)
    return f"http://127.0.0.1:{port}", process, log


def wait_for_mlflow(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    status = wait_until_answers(f"{url}/health", process, log, timeout=timeout)
    if status != 200:
        sys.exit(f"mlflow server answered {status} on /health:\n{tail(log.read_text())}")


REGISTRY_SETUP = r"""
from accounts_app.services import token_create, user_create
user = user_create(username="bench", email="bench@example.com", password="bench-password-1x")
token, raw = token_create(user=user, name="mlflow benchmark")
print(raw)
"""


def registry_env(folder: Path, port: int) -> dict:
    env = {
        **os.environ,
        **QUIET_MLFLOW,
        "DJANGO_SETTINGS_MODULE": "registry_site.settings",
        "ENV_FILE": str(folder / "no.env"),  # not the checkout's .env: production-like settings
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "VAR_DIR": str(folder / "var"),  # the filesystem broker's folders too
        "DATABASE_URL": f"sqlite:///{folder / 'registry.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "STATIC_ROOT": str(folder / "static"),
        "CELERY_BROKER_URL": "filesystem://localhost//",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def manage(env: dict, *arguments: str) -> str:
    out = subprocess.run(
        [str(CLIENT_PYTHON), "manage.py", *arguments], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"manage.py {arguments[0]} failed:\n{tail(out.stderr)}")
    return out.stdout


def start_registry(servers: Servers, folder: Path, workers: int, with_worker: bool, timeout: float) -> tuple[str, str]:
    port = free_port()
    env = registry_env(folder, port)
    print("setting up a fresh registry (migrate, collectstatic, a user and a token)...", flush=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")  # the site's pages (and its 404s) need the manifest
    token = manage(env, "shell", "-c", REGISTRY_SETUP).strip().splitlines()[-1]
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    log = folder / "registry-gunicorn.log"
    command = [str(gunicorn), "registry_site.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
    process = servers.start("registry", command, env, log)
    if with_worker:
        celery = ROOT / ".venv" / "bin" / "celery"
        servers.start(
            "worker",
            [
                str(celery),
                "-A",
                "registry_site",
                "worker",
                "-Q",
                "celery,evaluations",
                "--concurrency=1",
                "-l",
                "WARNING",
            ],
            env,
            folder / "registry-worker.log",
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_answers(f"{url}/api/v1/models/", process, log, timeout=timeout)
    return url, token


def check_token(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    status = wait_until_answers(f"{url}/api/v1/models/", None, None, headers=headers, timeout=30)
    if status != 200:
        sys.exit(f"GET {url}/api/v1/models/ with the token answered {status}, not 200")
    print(f"registry at {url}: GET /api/v1/models/ with the token answered 200", flush=True)


def run_child(code: str, name: str, env: dict, timeout: float) -> dict:
    """One fresh client process; its JSON line, the whole process's wall time, or the failure."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(CLIENT_PYTHON), "-c", code, name],
        env=env,
        cwd=tempfile.gettempdir(),  # no ./mlruns or the checkout's modules in the way
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\n(killed after {timeout:.0f} s)"
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    result = {"process_seconds": time.perf_counter() - started, "returncode": process.returncode}
    reported = {}
    for line in reversed(stdout.strip().splitlines()):
        try:
            reported = json.loads(line)
            break
        except ValueError:
            continue
    result.update(reported if isinstance(reported, dict) else {})
    if process.returncode != 0 or "failed_at" in result or not reported:
        result.update(failure(stderr or stdout, process.returncode))
    return result


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)")


def failure(output: str, returncode: int) -> dict:
    """The exception a client process died of, in one line, and the lines around it."""
    lines = output.rstrip().splitlines()
    where = next((i for i in range(len(lines) - 1, -1, -1) if EXCEPTION_LINE.match(lines[i])), None)
    if where is None:
        return {"error": lines[-1][:300] if lines else f"exit {returncode}", "error_context": tail(output, 15)}
    context = lines[max(0, where - 4) : where + 12]
    return {"error": lines[where][:300], "error_context": "\n".join(context), "stderr_tail": output[-4000:]}


def client_env(tracking_uri: str, token: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.update(QUIET_MLFLOW)
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    if token:
        env["MLFLOW_TRACKING_TOKEN"] = token
    return env


def interrupt(signum, frame) -> None:
    """SIGTERM stops the servers the way Ctrl-C does."""
    raise KeyboardInterrupt


def summary(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def cell(stats: dict | None) -> str:
    if stats is None:
        return "—"
    return f"{stats['median']:.2f} ({stats['min']:.2f}–{stats['max']:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds, each side once, in turn reversed (default 5)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument(
        "--targets",
        default="registry,mlflow",
        help="comma-separated, run in this order each round: registry, mlflow, and local (the client's share: "
        "mlflow.sklearn.save_model with no server); default registry,mlflow",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "mlflow_snippet.json")
    parser.add_argument("--registry-url", help="use this running registry instead of starting one")
    parser.add_argument("--token", help="a registry API token, with --registry-url")
    parser.add_argument("--registry-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--mlflow-workers", type=int, default=1, help="mlflow server workers (default 1)")
    parser.add_argument("--with-worker", action="store_true", help="also run a Celery worker for the registry")
    parser.add_argument("--no-load", action="store_true", help="skip timing mlflow.pyfunc.load_model")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one client process may take")
    parser.add_argument(
        "--startup-timeout", type=float, default=300, help="seconds a server may take to answer (default 300)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    args = parser.parse_args()
    targets = [target.strip() for target in args.targets.split(",") if target.strip()]
    if not targets or set(targets) - set(TARGETS):
        parser.error(f"--targets takes a comma-separated list of {', '.join(TARGETS)}")
    if bool(args.registry_url) != bool(args.token):
        parser.error("--registry-url and --token go together")
    # A running registry keeps earlier models: names of this run's own.
    prefix = f"iris-clf-{int(time.time())}" if args.registry_url else "iris-clf"

    signal.signal(signal.SIGTERM, interrupt)
    version = client_mlflow_version()
    folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    servers = Servers()
    runs: list[dict] = []
    notes: list[str] = []
    try:
        uris: dict[str, tuple[str, str | None]] = {}
        if "mlflow" in targets:  # it migrates its database while the registry is set up
            mlflow_started = start_mlflow(servers, folder, version, args.mlflow_workers)
        if "registry" in targets:
            if args.registry_url:
                url, token = args.registry_url.rstrip("/"), args.token
            else:
                url, token = start_registry(
                    servers, folder, args.registry_workers, args.with_worker, args.startup_timeout
                )
            check_token(url, token)
            uris["registry"] = (f"{url}/mlflow", token)
        if "mlflow" in targets:
            wait_for_mlflow(*mlflow_started, timeout=args.startup_timeout)
            print(f"mlflow server {version} at {mlflow_started[0]}: /health answered 200", flush=True)
            uris["mlflow"] = (mlflow_started[0], None)
        uris["local"] = ("", None)  # mlflow.sklearn.save_model only: no server
        if args.with_worker and not args.registry_url:
            notes.append("a Celery worker ran beside the registry")
        total = args.warmup + args.rounds
        for index in range(total):
            warmup = index < args.warmup
            # Every other round runs the sides in reverse (registry, mlflow, mlflow, registry, ...),
            # so a load on the machine that rises or falls over the run favours neither.
            for target in targets if index % 2 == 0 else targets[::-1]:
                name = f"{prefix}-{index + 1}"
                env = client_env(*uris[target])
                run = {"target": target, "round": index + 1, "warmup": warmup, "name": name}
                run["snippet"] = run_child(LOCAL if target == "local" else SNIPPET, name, env, args.timeout)
                if target != "local" and not args.no_load and "error" not in run["snippet"]:
                    run["load"] = run_child(LOAD, name, env, args.timeout)
                runs.append(run)
                report_run(run, index + 1, total)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        servers.stop()
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    results = {}
    for target in targets:
        timed = [run for run in runs if run["target"] == target and not run["warmup"]]
        ok = [run for run in timed if "error" not in run["snippet"]]
        loads = [run["load"] for run in ok if "load" in run and "error" not in run["load"]]
        results[target] = {
            "tracking_uri": uris[target][0] or None,
            "runs": len(timed),
            "failed": len(timed) - len(ok),
            "snippet_seconds": summary([run["snippet"]["snippet_seconds"] for run in ok]),
            "process_seconds": summary([run["snippet"]["process_seconds"] for run in ok]),
            "load_seconds": summary([load["load_seconds"] for load in loads]),
            "load_failed": sum(1 for run in ok if "load" in run and "error" in run["load"]),
            "load_predictions_equal": all(load.get("predictions_equal") for load in loads) if loads else None,
        }
    print_table(results, args.rounds)
    for target in targets:
        show_last_failure(target, runs)
    report = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mlflow_version": version,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "rounds": args.rounds,
        "warmup": args.warmup,
        "registry": "given" if args.registry_url else f"fresh, SQLite, gunicorn -w {args.registry_workers}",
        "mlflow_server": f"fresh, SQLite, --workers {args.mlflow_workers}",
        "notes": notes,
        "results": results,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    if any(result["failed"] for result in results.values()):
        sys.exit(1)


def describe(result: dict) -> str:
    where = f" at {result['failed_at']}" if "failed_at" in result else ""
    return f"FAILED{where} after {result['process_seconds']:.2f} s: {result['error']}"


def report_run(run: dict, index: int, total: int) -> None:
    label = f"[{index}/{total}{' warm-up' if run['warmup'] else ''}] {run['target']:<8}"
    snippet = run["snippet"]
    if "error" in snippet:
        print(f"{label} snippet {describe(snippet)}", flush=True)
        return
    line = f"{label} snippet {snippet['snippet_seconds']:.2f} s, process {snippet['process_seconds']:.2f} s"
    load = run.get("load")
    if load is not None:
        if "error" in load:
            line += f"; load_model (best effort) {describe(load)}"
        else:
            same = "same predictions" if load["predictions_equal"] else "PREDICTIONS DIFFER"
            line += f"; load_model {load['load_seconds']:.2f} s ({same})"
    print(line, flush=True)


def show_last_failure(target: str, runs: list[dict]) -> None:
    """The client's own last lines for the most recent failure of a target, on stderr."""
    for run in reversed(runs):
        for step in ("load", "snippet"):
            result = run.get(step)
            if run["target"] == target and result and "error" in result:
                print(
                    f"\n{target}, round {run['round']}: {step} {describe(result)}\n"
                    f"the client's last lines:\n{result['error_context']}",
                    file=sys.stderr,
                )
                return


def print_table(results: dict, rounds: int) -> None:
    print(f"\nseconds over {rounds} timed rounds: median (min–max)")
    header = f"{'target':<9} | {'snippet':<22} | {'whole process':<22} | {'load_model':<22} | failed"
    print(header)
    print("-" * len(header))
    for target, result in results.items():
        failed = f"{result['failed']}/{result['runs']}"
        if result["load_failed"]:
            failed += f" (load {result['load_failed']})"
        print(
            f"{target:<9} | {cell(result['snippet_seconds']):<22} | {cell(result['process_seconds']):<22} | "
            f"{cell(result['load_seconds']):<22} | {failed}"
        )


if __name__ == "__main__":
    main()
