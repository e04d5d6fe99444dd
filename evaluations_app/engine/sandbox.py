"""Run an untrusted-input Python script in a child process that is contained, or not at all.

The worker never loads a model in its own process. The child runs under bubblewrap
(Debian's `bubblewrap`), which gives it:

- its own user (uid 65534, no capabilities), IPC, PID, UTS and network namespaces: it sees
  only its own processes, and its network has no interface but an empty loopback;
- a filesystem that holds only what is bound into it: /usr, the interpreter and the
  virtual environment read-only, the script read-only at /sandbox, and its private work
  folder (the model file, the features, its outputs) at /job; the root is read-only, so it
  can write nowhere else; no MEDIA_ROOT, no database file, no settings, no project code;
- an empty environment, `python -I`, and `--die-with-parent`, so it never outlives a
  worker killed with SIGKILL;
- resource limits on address space, CPU seconds, file size, open files; a pids cgroup
  (where the cgroup file system is writable) bounding forks; a wall-clock kill.

If bubblewrap is missing or cannot set up its namespaces here, nothing runs: the caller
gets SandboxUnavailable with a sentence for the operator. Only `allow_weak=True` (the
operator's EVAL_ALLOW_WEAK_SANDBOX) runs the child with the resource limits alone, and
the result names every protection that was missing.

What the child writes to stdout and stderr is kept up to a cap. The caller reads the
child's result files from the work folder and validates them; nothing the child
produces is trusted.
"""

import errno
import functools
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")
OUTPUT_CAP = 64 * 1024
POLL_SECONDS = 0.01
SANDBOX_UID = 65534  # nobody, inside the sandbox's own user namespace
JOB_DIR = "/job"  # where the work folder appears inside the sandbox
SCRIPT_DIR = "/sandbox"
# What the weak mode (no bubblewrap) goes without, in words a reviewer cannot miss.
WEAK_MISSING = [
    "its own user: the model ran with the worker's rights",
    "its own filesystem view: the model could read every file the worker can read",
    "its own network: the model could open connections",
    "its own process namespace: the model could see the worker's processes",
]


class SandboxUnavailable(Exception):
    """The sandbox cannot be set up here; `message` tells the operator what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    isolation: str = "bubblewrap"  # or "weak"
    missing_protections: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.limit_hit is None

    @property
    def network_isolated(self) -> bool:
        return self.isolation == "bubblewrap"


def sandbox_workdir() -> tempfile.TemporaryDirectory:
    """A private folder (0700) for one run; the sandbox sees it, and only it, at /job."""
    parent = Path(os.environ.get("SANDBOX_ROOT") or Path(tempfile.gettempdir()) / "model-registry-sandbox")
    parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(parent, 0o700)
    return tempfile.TemporaryDirectory(prefix="run-", dir=parent)


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


def _limit(limits: Limits, cgroup: Path | None):
    """Runs in the started process between fork and exec (bubblewrap, or the weak child):
    only simple system calls. The limits carry over to everything it starts."""

    def setup() -> None:
        if cgroup is not None:
            with open(cgroup / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        # The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return setup


def bubblewrap_path() -> str | None:
    return shutil.which(os.environ.get("BWRAP", "bwrap"))


def _bwrap_command(bwrap: str, script: Path, args: list[str], workdir: Path) -> list[str]:
    """bubblewrap's command line: namespaces, the read-only system, the job folder, the script."""
    command = [
        bwrap,
        "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for name in ("bin", "lib", "lib64", "sbin"):
        top = Path("/") / name
        if top.is_symlink():
            command += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            command += ["--ro-bind", str(top), str(top)]
    # The interpreter's installation and the virtual environment, at the paths they have
    # here, so the venv's python finds its pyvenv.cfg and only the venv's packages.
    for folder in sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}):
        if not folder.startswith("/usr/"):
            command += ["--ro-bind", folder, folder]
    command += [
        "--ro-bind", str(script), f"{SCRIPT_DIR}/{script.name}",
        "--bind", str(workdir), JOB_DIR,
        "--proc", "/proc",
        "--dev-bind", "/dev/null", "/dev/null",
        "--dev-bind", "/dev/zero", "/dev/zero",
        "--dev-bind", "/dev/urandom", "/dev/urandom",
        "--chdir", JOB_DIR, "--unsetenv", "PWD",
        "--remount-ro", "/",
        sys.executable, "-I", f"{SCRIPT_DIR}/{script.name}", *args,
    ]  # fmt: skip
    return command


@functools.lru_cache(maxsize=1)
def _probe_once(bwrap: str, executable: str) -> None:
    """Start the interpreter under bubblewrap once per process; raise SandboxUnavailable if
    it cannot. Only success is cached: a failure is asked again next time."""
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as folder:
        script = Path(folder) / "probe.py"
        script.write_text("print('contained')\n")
        command = _bwrap_command(bwrap, script, [], Path(folder))
        try:
            done = subprocess.run(command, env={}, capture_output=True, timeout=60, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"bubblewrap could not be started ({error}).") from None
    if done.returncode != 0 or done.stdout.strip() != b"contained":
        reason = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1][:300]
        raise SandboxUnavailable(
            f"bubblewrap could not set up the sandbox here ({reason}). Run the worker as root, or enable "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), then check with "
            "manage.py check_sandbox."
        )


def probe(bwrap: str | None = None) -> None:
    """Raise SandboxUnavailable unless the full sandbox can be set up on this machine."""
    bwrap = bwrap or bubblewrap_path()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap is not installed, so models cannot be run in the sandbox: install it "
            "(apt-get install bubblewrap), or set EVAL_ALLOW_WEAK_SANDBOX=true to run them with "
            "resource limits only."
        )
    try:
        _probe_once(bwrap, sys.executable)
    except SandboxUnavailable:
        _probe_once.cache_clear()
        raise


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


def run_in_sandbox(
    script: Path, args: list[str], *, workdir: Path, limits: Limits, allow_weak: bool = False
) -> SandboxResult:
    """Run `python -I script args...` with `workdir` as its folder, under `limits`.

    1. Check that bubblewrap can contain the child here; if not, raise SandboxUnavailable,
       unless `allow_weak` lets it run with the resource limits alone (said in the result).
    2. Start it in a new session and pids cgroup, with the limits set between fork and exec.
    3. Poll until it exits or the wall-clock deadline passes; then kill its whole group
       and everything left in its cgroup.
    4. Read its capped output and classify which limit, if any, stopped it.
    """
    bwrap, weak_reason = bubblewrap_path(), None
    try:
        probe(bwrap)
    except SandboxUnavailable as unavailable:
        if not allow_weak:
            raise
        weak_reason = unavailable.message
    notes: list[str] = []
    cgroup = _pids_cgroup(limits.processes)
    if cgroup is None:
        notes.append("No pids cgroup was available; forking is bounded by the PID namespace and the group kill.")
    if weak_reason is None:
        command, cwd = _bwrap_command(bwrap, script, args, workdir), workdir
    else:
        command, cwd = [sys.executable, "-I", str(script), *args], workdir
    try:
        result = _run(command, cwd, limits, cgroup, contained=weak_reason is None)
    finally:
        if cgroup is not None:
            _cgroup_kill_and_remove(cgroup)
    if weak_reason is not None:
        result.isolation = "weak"
        result.missing_protections = list(WEAK_MISSING)
        notes.append(f"Weak sandbox (EVAL_ALLOW_WEAK_SANDBOX): {weak_reason}")
    result.notes = notes
    return result


def _run(command: list[str], cwd: Path, limits: Limits, cgroup: Path | None, *, contained: bool) -> SandboxResult:
    with tempfile.TemporaryDirectory(prefix="sandbox-io-") as io_dir:
        out_path, err_path = Path(io_dir) / "stdout", Path(io_dir) / "stderr"
        started = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = subprocess.Popen(  # noqa: S603 - fixed interpreter, our own script
                command,
                cwd=cwd,
                env={},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_limit(limits, cgroup),  # noqa: PLW1509
            )
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
        returncode = os.waitstatus_to_exitcode(status)
        if contained and returncode > 128:
            returncode = -(returncode - 128)  # bubblewrap reports a child killed by signal N as 128 + N
        process.returncode = returncode
        _kill_group(process.pid)  # anything it forked that is still around
        wall = time.monotonic() - started
        stdout, stderr = _read_capped(out_path), _read_capped(err_path)
    result = SandboxResult(
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=wall,
        peak_memory_bytes=usage.ru_maxrss * 1024,
    )
    result.limit_hit = _classify(result.returncode, stderr, timed_out)
    return result
