"""The sandbox stops a misbehaving child by the limit it hit, and the caller lives on."""

import os
import socket
from pathlib import Path

import pytest

from evaluations_app.engine.sandbox import Limits, run_in_sandbox, sandbox_workdir

LIMITS = Limits(memory_bytes=512 * 1024**2, cpu_seconds=2, wall_seconds=4, file_bytes=8 * 1024**2, processes=32)


def run(code: str, limits: Limits = LIMITS):
    with sandbox_workdir() as folder:
        workdir = Path(folder)
        script = workdir / "child.py"
        script.write_text(code)
        return run_in_sandbox(script, [], workdir=workdir, limits=limits), workdir


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
    assert result.stdout.strip() == "[]"


def test_it_stops_a_child_that_allocates_without_bound():
    result, _ = run("x = bytearray(8 * 1024**3)")
    assert result.limit_hit == "memory"


def test_it_stops_a_child_that_loops_forever_by_cpu_time():
    result, _ = run("while True: pass")
    assert result.limit_hit == "cpu"
    assert result.wall_seconds < LIMITS.wall_seconds + 1


def test_it_kills_a_sleeping_child_at_the_wall_clock_deadline():
    result, _ = run("import time; time.sleep(60)", Limits(wall_seconds=1, cpu_seconds=10))
    assert result.limit_hit == "wall_clock"
    assert result.wall_seconds < 3


def test_it_stops_a_child_that_writes_a_huge_file():
    result, workdir = run("open('big', 'wb').write(b'0' * (64 * 1024**2))")
    assert result.limit_hit == "file_size"


def test_it_bounds_a_fork_bomb_and_leaves_no_process_behind():
    result, _ = run(
        "import os, time\nfor _ in range(1000):\n    if os.fork() == 0:\n        time.sleep(30)\n        os._exit(0)\n"
    )
    assert not result.ok
    assert result.limit_hit in ("processes", "memory")
    leftovers = [
        line for line in os.popen("ps -eo args").read().splitlines() if "child.py" in line and "sandbox" in line
    ]
    assert leftovers == []


def test_the_child_cannot_reach_the_network():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        result, _ = run(
            f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
        )
    finally:
        listener.close()
    if not result.network_isolated:
        pytest.skip("this OS does not allow a private network namespace here")
    assert "connected" not in result.stdout
    assert result.returncode != 0


@pytest.mark.skipif(os.geteuid() != 0, reason="the user switch happens only when the worker runs as root")
def test_a_root_worker_runs_the_child_as_nobody_who_cannot_write_outside_its_folder(tmp_path):
    target = Path("/work") if Path("/work").exists() else Path("/var/tmp")
    probe = target / "sandbox-escape-probe"
    result, _ = run(f"import os; print(os.getuid()); open({str(probe)!r}, 'w').write('x')")
    assert not probe.exists()
    assert result.stdout.strip().splitlines()[0] != "0"
