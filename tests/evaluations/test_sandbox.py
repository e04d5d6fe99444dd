"""The sandbox stops a misbehaving child by the limit it hit, and the caller lives on."""

import os
import socket
import uuid
from pathlib import Path

import pytest

from evaluations_app.engine.sandbox import Limits, SandboxUnavailable, run_in_sandbox, sandbox_workdir

LIMITS = Limits(memory_bytes=512 * 1024**2, cpu_seconds=2, wall_seconds=4, file_bytes=8 * 1024**2, processes=32)


def run(code: str, limits: Limits = LIMITS, args: tuple[str, ...] = ()):
    with sandbox_workdir() as folder:
        workdir = Path(folder)
        script = workdir / "child.py"
        script.write_text(code)
        return run_in_sandbox(script, list(args), workdir=workdir, limits=limits), workdir


def test_a_well_behaved_child_runs_and_writes_in_its_folder():
    result, _ = run("open('out.txt', 'w').write('ok'); print('done')")
    assert result.ok
    assert result.stdout.strip() == "done"


def test_it_gives_the_child_an_empty_environment():
    os.environ["MODEL_REGISTRY_SECRET_FOR_TEST"] = "leak"
    try:
        result, _ = run("import os; print(sorted(k for k in os.environ if k != 'LC_CTYPE'))")
    finally:
        del os.environ["MODEL_REGISTRY_SECRET_FOR_TEST"]
    # bubblewrap sets PWD for the folder it starts the child in, and nothing else.
    assert result.stdout.strip() == "['PWD']"


def test_it_stops_a_child_that_allocates_without_bound():
    result, _ = run("x = bytearray(8 * 1024**3)")
    assert result.limit_hit == "memory"


def test_it_stops_a_child_that_loops_forever_by_cpu_time():
    # A wall clock far beyond the CPU limit: on a loaded machine (the suite runs on two
    # workers) one CPU second can take several seconds of wall time.
    limits = Limits(memory_bytes=512 * 1024**2, cpu_seconds=1, wall_seconds=60, file_bytes=8 * 1024**2, processes=32)
    result, _ = run("while True: pass", limits)
    assert result.limit_hit == "cpu"
    assert result.wall_seconds < limits.wall_seconds


def test_it_kills_a_sleeping_child_at_the_wall_clock_deadline():
    result, _ = run("import time; time.sleep(60)", Limits(wall_seconds=1, cpu_seconds=10))
    assert result.limit_hit == "wall_clock"
    assert result.wall_seconds < 3


def test_it_stops_a_child_that_writes_a_huge_file():
    result, workdir = run("open('big', 'wb').write(b'0' * (64 * 1024**2))")
    assert result.limit_hit == "file_size"


def test_it_bounds_a_fork_bomb_and_leaves_no_process_behind():
    marker = f"fork-bomb-{uuid.uuid4().hex}"  # other tests may run sandboxes meanwhile
    result, _ = run(
        "import os, time\nfor _ in range(1000):\n    if os.fork() == 0:\n        time.sleep(30)\n        os._exit(0)\n",
        args=(marker,),
    )
    assert not result.ok
    assert result.limit_hit in ("processes", "memory")
    leftovers = [line for line in os.popen("ps -eo args").read().splitlines() if marker in line]
    assert leftovers == []


def test_the_child_cannot_reach_a_listener_on_the_hosts_loopback():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        result, _ = run(
            f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
        )
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever arrived
    finally:
        listener.close()
    assert result.network_isolated
    assert "connected" not in result.stdout
    assert result.returncode != 0
    assert "Connection refused" in result.stderr or "Network is unreachable" in result.stderr


def test_the_child_sees_only_the_system_the_interpreter_and_its_folder(settings, tmp_path):
    """No database file, no stored blobs, no project code, no settings: not even their names."""
    secret_blob = Path(settings.MEDIA_ROOT) / "blobs" / "private-model-of-someone-else"
    secret_blob.parent.mkdir(parents=True, exist_ok=True)
    secret_blob.write_bytes(b"weights")
    project = Path(settings.BASE_DIR)
    hidden = [
        str(settings.DATABASES["default"]["NAME"]),
        str(secret_blob),
        str(project / "registry_site" / "settings.py"),
        str(project / "manage.py"),
        str(project / ".env"),
        "/etc/passwd",
        "/home",
    ]
    result, _ = run(f"import os\nprint([p for p in {hidden!r} if os.path.exists(p)])\nprint(os.getuid(), os.getcwd())")
    assert result.ok, result.stderr
    assert result.stdout.strip().splitlines() == ["[]", "65534 /job"]


def test_the_worker_environment_and_proc_hold_nothing_to_steal():
    os.environ["MODEL_REGISTRY_SECRET_FOR_TEST"] = "s3cr3t-token"
    try:
        result, _ = run(
            "import os\n"
            "print(open('/proc/1/environ', 'rb').read())\n"
            "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
            "print(open('/proc/1/cmdline', 'rb').read())\n"
        )
    finally:
        del os.environ["MODEL_REGISTRY_SECRET_FOR_TEST"]
    assert result.ok, result.stderr
    assert "s3cr3t" not in result.stdout
    assert "celery" not in result.stdout and "pytest" not in result.stdout  # no worker process in sight


def test_the_child_cannot_write_outside_its_folder(tmp_path):
    probe = tmp_path / "escape-probe"
    result, workdir = run(
        "import sys\n"
        f"for target in ['/escape', '/usr/escape', '/tmp/escape', {str(probe)!r}]:\n"
        "    try:\n"
        "        open(target, 'w').write('x')\n"
        "        print('wrote', target)\n"
        "    except OSError as error:\n"
        "        print('refused', target, error.errno)\n"
        "open('inside.txt', 'w').write('ok')\n"
    )
    assert result.ok, result.stderr
    assert "wrote" not in result.stdout
    assert not probe.exists()


def test_without_bubblewrap_nothing_runs_and_the_operator_is_told_what_to_install(monkeypatch):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable) as unavailable:
        run("print('ran anyway')")
    assert "apt-get install bubblewrap" in unavailable.value.message
    assert "EVAL_ALLOW_WEAK_SANDBOX" in unavailable.value.message


def test_the_weak_sandbox_runs_only_when_allowed_and_says_what_was_missing(monkeypatch):
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    with sandbox_workdir() as folder:
        script = Path(folder) / "child.py"
        script.write_text("print('ran')")
        result = run_in_sandbox(script, [], workdir=Path(folder), limits=LIMITS, allow_weak=True)
    assert result.ok and result.stdout.strip() == "ran"
    assert result.isolation == "weak" and not result.network_isolated
    assert any("network" in missing for missing in result.missing_protections)
    assert any("EVAL_ALLOW_WEAK_SANDBOX" in note for note in result.notes)


def test_a_probe_that_fails_is_asked_again(monkeypatch):
    """A sandbox that could not be set up once (bubblewrap not yet installed) is not remembered."""
    monkeypatch.setenv("BWRAP", "/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable):
        run("print('x')")
    monkeypatch.delenv("BWRAP")
    result, _ = run("print('x')")
    assert result.ok and result.isolation == "bubblewrap"
