"""Run an untrusted-input Python script in a child process with hard limits.

The worker never loads a model in its own process. The child gets:

- `python -I` (no user site, no PYTHON* variables, no script folder on sys.path) and an
  empty environment;
- resource limits on address space, CPU seconds, file size, open files and processes;
- its own session (process group), killed as a whole on the wall-clock deadline and
  again after it exits, so nothing it forked outlives it; and the parent-death signal,
  so it does not outlive a worker killed with SIGKILL;
- a network namespace of its own with no interfaces (when the OS allows it: as root or
  with user namespaces), so any connection fails;
- a pids cgroup of its own (where the cgroup file system is writable) whose pids.max
  bounds forking: RLIMIT_NPROC counts per user and does not bind root;
- when started as root and the interpreter is reachable by `nobody`, that unprivileged
  user, so it can write only in its private temporary folder.

What the child writes to stdout and stderr is kept up to a cap. The caller reads the
child's result files from the work folder and validates them; nothing the child
produces is trusted.
"""

import ctypes
import errno
import os
import pwd
import re
import resource
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")
OUTPUT_CAP = 64 * 1024
POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 300
    wall_seconds: float = 300.0
    file_bytes: int = 1024**3
    open_files: int = 256
    processes: int = 64

    def describe(self) -> dict[str, float | int]:
        return {
            "memory_bytes": self.memory_bytes,
            "cpu_seconds": self.cpu_seconds,
            "wall_seconds": self.wall_seconds,
            "file_bytes": self.file_bytes,
            "open_files": self.open_files,
            "processes": self.processes,
        }


@dataclass
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    peak_memory_bytes: int
    limit_hit: str | None = None
    network_isolated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.limit_hit is None


def sandbox_workdir() -> tempfile.TemporaryDirectory:
    """A private folder for one run, under a parent the unprivileged child can traverse.

    The parent is searchable but not listable (0711), so runs cannot find each other.
    """
    parent = Path(os.environ.get("SANDBOX_ROOT") or Path(tempfile.gettempdir()) / "model-registry-sandbox")
    parent.mkdir(mode=0o711, exist_ok=True)
    os.chmod(parent, 0o711)
    return tempfile.TemporaryDirectory(prefix="run-", dir=parent)


def _unshare_network() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when the worker that started it dies (a worker
    killed with SIGKILL cannot kill its child's group itself). Set after the user switch,
    which clears it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the worker died before the request took effect
        os._exit(1)


def _nobody() -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


_BOOTSTRAP = (
    "import runpy, site, sys; site.addsitedir(sys.argv[1]); "
    "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _world_reachable(path: Path) -> bool:
    """True when every folder above the real file is world-searchable and it is world-readable."""
    real = Path(os.path.realpath(path))
    for folder in real.parents:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(real).st_mode & stat.S_IROTH)


def _command(script: Path, args: list[str], unprivileged: bool) -> list[str] | None:
    """The child's command line; for an unprivileged child, an interpreter it can run.

    When our interpreter lives where `nobody` cannot reach it (pyenv under /root), the
    system's interpreter of the same version runs the script with our site-packages
    added, or None is returned when there is no such interpreter.
    """
    if not unprivileged or _world_reachable(Path(sys.executable)):
        return [sys.executable, "-I", str(script), *args]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    purelib = Path(sysconfig.get_paths()["purelib"])
    for candidate in (Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}")):
        if candidate.exists() and _world_reachable(candidate) and _world_reachable(purelib):
            return [str(candidate), "-I", "-c", _BOOTSTRAP, str(purelib), str(script), *args]
    return None


def _pids_cgroup(limit: int) -> Path | None:
    """A fresh pids cgroup bounded to `limit` processes, or None where cgroups are not writable."""
    folder = PIDS_CGROUP_ROOT / f"model-registry-sandbox-{uuid.uuid4().hex}"
    try:
        folder.mkdir()
        (folder / "pids.max").write_text(str(limit))
    except OSError:
        return None
    return folder


def _cgroup_kill_and_remove(folder: Path) -> None:
    for _ in range(50):
        try:
            pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    try:
        folder.rmdir()
    except OSError:
        pass


def _child_setup(limits: Limits, status_fd: int, drop_to: tuple[int, int] | None, cgroup: Path | None):
    """Runs in the child between fork and exec: only simple system calls."""
    parent_pid = os.getpid()

    def setup() -> None:
        if cgroup is not None:
            with open(cgroup / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))
        isolated = _unshare_network()
        os.write(status_fd, b"1" if isolated else b"0")
        os.close(status_fd)
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        # The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if drop_to is not None:
            uid, gid = drop_to
            os.setgroups([])
            os.setgid(gid)
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            os.setuid(uid)
        _die_with_parent(parent_pid)

    return setup


def _read_capped(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read(OUTPUT_CAP + 1)
    text = data[:OUTPUT_CAP].decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if len(data) > OUTPUT_CAP else "")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def _classify(returncode: int, stderr: str, timed_out: bool) -> str | None:
    if timed_out:
        return "wall_clock"
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not stderr.strip():
        return "cpu"
    if returncode == -signal.SIGXCPU:
        return "cpu"
    lowered = stderr.lower()
    # Python ignores SIGXFSZ, so a write past RLIMIT_FSIZE fails: with EFBIG, or as a
    # short write numpy reports as "N requested and M written".
    if "file too large" in lowered or f"[errno {errno.EFBIG}]" in lowered or _SHORT_WRITE.search(lowered):
        return "file_size"
    if (
        "memoryerror" in lowered
        or "bad_alloc" in lowered
        or "failed to allocate" in lowered
        or "cannot allocate memory" in lowered
    ):
        return "memory"
    if "too many open files" in lowered:
        return "open_files"
    if "resource temporarily unavailable" in lowered and "fork" in lowered:
        return "processes"
    return None


def run_in_sandbox(script: Path, args: list[str], *, workdir: Path, limits: Limits) -> SandboxResult:
    """Run `python -I script args...` in `workdir` under `limits` and wait for it.

    1. Make the work folder the child's own (owned by `nobody` when we are root).
    2. Start the child in a new session and pids cgroup, with the limits set between
       fork and exec; if `nobody` cannot run the interpreter, start it without the
       user switch and say so.
    3. Poll until it exits or the wall-clock deadline passes; then kill its whole group
       and everything left in its cgroup.
    4. Read its capped output and classify which limit, if any, stopped it.
    """
    notes: list[str] = []
    drop_to = _nobody() if os.geteuid() == 0 else None
    cgroup = _pids_cgroup(limits.processes)
    if cgroup is None:
        notes.append("No pids cgroup was available; forking is bounded only by RLIMIT_NPROC and the group kill.")
    command = _command(script, args, unprivileged=drop_to is not None)
    if command is None:
        notes.append("No interpreter reachable by the nobody user was found, so the model ran as the worker's user.")
        drop_to, command = None, _command(script, args, unprivileged=False)
    if drop_to is not None:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, *drop_to)
    try:
        result = _run(command, workdir, limits, drop_to, cgroup)
    finally:
        if cgroup is not None:
            _cgroup_kill_and_remove(cgroup)
    if not result.network_isolated:
        notes.append("The OS did not allow a private network namespace; the model ran with network access.")
    result.notes = notes
    return result


def _run(
    command: list[str], workdir: Path, limits: Limits, drop_to: tuple[int, int] | None, cgroup: Path | None
) -> SandboxResult:
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryDirectory(prefix="sandbox-io-") as io_dir:
        out_path, err_path = Path(io_dir) / "stdout", Path(io_dir) / "stderr"
        started = time.monotonic()
        try:
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                process = subprocess.Popen(  # noqa: S603 - fixed interpreter, our own script
                    command,
                    cwd=workdir,
                    env={},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    pass_fds=(write_fd,),
                    preexec_fn=_child_setup(limits, write_fd, drop_to, cgroup),  # noqa: PLW1509
                )
        finally:
            os.close(write_fd)
        isolated = os.read(read_fd, 1) == b"1"
        os.close(read_fd)
        deadline = started + limits.wall_seconds
        timed_out = False
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    _kill_group(process.pid)
                    pid, status, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(POLL_SECONDS)
        except BaseException:
            # The task's soft time limit (or a shutdown) interrupted the wait: take the child down too.
            _kill_group(process.pid)
            os.wait4(process.pid, 0)
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(process.pid)  # anything it forked that is still around
        wall = time.monotonic() - started
        stdout, stderr = _read_capped(out_path), _read_capped(err_path)
    result = SandboxResult(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=wall,
        peak_memory_bytes=usage.ru_maxrss * 1024,
        network_isolated=isolated,
    )
    result.limit_hit = _classify(result.returncode, stderr, timed_out)
    return result
