"""`manage.py check_sandbox`: run a probe model in the evaluation sandbox and print what it
could and could not reach. Exits 1 when the sandbox cannot be set up or anything leaked."""

import json
import socket
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evaluations_app.engine.runner import sandbox_limits
from evaluations_app.engine.sandbox import SandboxUnavailable, run_in_sandbox, sandbox_workdir

# The probe tries each thing a hostile model would, and reports what happened, as JSON.
PROBE = r"""
import json, os, socket, sys
targets = json.loads(sys.argv[1])
found = {}
for label, path in targets["files"].items():
    try:
        with open(path, "rb") as handle:
            handle.read(16)
        found[label] = "read"
    except OSError as error:
        found[label] = f"refused ({error.strerror})"
for label, (host, port) in targets["network"].items():
    try:
        socket.create_connection((host, port), timeout=2).close()
        found[label] = "connected"
    except OSError as error:
        found[label] = f"refused ({error.strerror or error})"
for label, path in targets["writes"].items():
    try:
        with open(path, "w") as handle:
            handle.write("x")
        found[label] = "wrote"
    except OSError as error:
        found[label] = f"refused ({error.strerror})"
env = dict(os.environ)
env.pop("PWD", None)  # bubblewrap's, for the folder it starts the probe in
env.pop("LC_CTYPE", None)  # Python's own locale coercion (PEP 538), set at start-up
found["worker environment"] = "empty" if not env else "visible: " + ", ".join(sorted(env))
try:
    worker_environ = open("/proc/1/environ", "rb").read()
    found["/proc/1/environ"] = "empty" if not worker_environ else f"{len(worker_environ)} bytes"
except OSError as error:
    found["/proc/1/environ"] = f"refused ({error.strerror})"
found["processes visible"] = str(len([p for p in os.listdir("/proc") if p.isdigit()]))
found["user id"] = str(os.getuid())
print(json.dumps(found))
"""


class Command(BaseCommand):
    help = "Run a probe model in the evaluation sandbox and print what it could and could not reach."

    def handle(self, *args, **options) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        escape = Path(tempfile.gettempdir()) / "model-registry-sandbox-escape-probe"
        escape.unlink(missing_ok=True)
        database = settings.DATABASES["default"]
        targets = {
            "files": {
                "the database file": str(database["NAME"]),
                "stored blobs (MEDIA_ROOT)": str(Path(settings.MEDIA_ROOT) / "blobs"),
                "the settings": str(Path(settings.BASE_DIR) / "registry_site" / "settings.py"),
                "the project's .env": str(Path(settings.BASE_DIR) / ".env"),
                "/etc/passwd": "/etc/passwd",
            },
            "network": {
                "a listener on the host's 127.0.0.1": ["127.0.0.1", listener.getsockname()[1]],
                "the database server": [database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432)],
            },
            "writes": {"a file outside its folder": str(escape)},
        }
        try:
            with sandbox_workdir() as folder:
                script = Path(folder) / "probe.py"
                script.write_text(PROBE)
                result = run_in_sandbox(
                    script,
                    [json.dumps(targets)],
                    workdir=Path(folder),
                    limits=sandbox_limits(),
                    allow_weak=settings.EVAL_ALLOW_WEAK_SANDBOX,
                )
        except SandboxUnavailable as unavailable:
            raise CommandError(f"The sandbox is unavailable: {unavailable.message}") from None
        finally:
            try:
                listener.accept()[0].close()
                received = True
            except TimeoutError:
                received = False
            listener.close()
        try:
            found = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise CommandError(f"The probe did not report: {result.stderr.strip()[-300:]}") from None
        found["the listener received a connection"] = "yes" if received else "no"
        if escape.exists():
            found["a file outside its folder"] = "wrote (found on the host)"
            escape.unlink()
        self.stdout.write(
            f"Sandbox: {result.isolation}"
            + (f" (missing: {'; '.join(result.missing_protections)})" if result.missing_protections else "")
        )
        leaked = []
        for label, outcome in found.items():
            bad = (
                outcome.startswith(("read", "connected", "wrote", "visible", "yes"))
                or (label == "/proc/1/environ" and outcome != "empty" and not outcome.startswith("refused"))
                # Its own PID namespace holds bubblewrap's init and the probe; more is the host's.
                or (label == "processes visible" and int(outcome) > 3)
                or (label == "user id" and outcome == "0")
            )
            leaked += [label] if bad else []
            self.stdout.write(f"  {'LEAK' if bad else 'ok  '}  {label}: {outcome}")
        if leaked:
            raise CommandError(f"The sandbox let the probe reach: {', '.join(leaked)}.")
        self.stdout.write(self.style.SUCCESS("The probe reached nothing it should not."))
