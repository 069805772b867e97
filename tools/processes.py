"""Detached background processes (the emulator, the local API) and free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

HOST = "127.0.0.1"

T = TypeVar("T")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_process_group(pid_file: Path, grace_seconds: float = 5.0) -> bool:
    """Terminate the detached process group whose leader's pid is in ``pid_file`` (then remove the file)."""
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our own child, or it lingers as a zombie
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def start_detached(
    command: Sequence[str],
    *,
    what: str,
    pid_file: Path,
    log_path: Path,
    ready: Callable[[], T | None],
    timeout_seconds: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    fresh_log: bool = False,
) -> tuple[int, T]:
    """Start ``command`` in a session of its own, so it outlives this process (``stop_process_group(pid_file)``
    ends it), with its output in ``log_path``; wait until ``ready()`` answers something truthy and return the pid
    and that answer. A process that exits or does not get ready in time is stopped and reported with its log."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb" if fresh_log else "ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log_path}")
        answer = ready()
        if answer:
            return process.pid, answer
        time.sleep(0.1)
    stop_process_group(pid_file)
    raise RuntimeError(f"{what} was not ready within {timeout_seconds}s; see {log_path}")
