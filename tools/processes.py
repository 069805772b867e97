"""Detached background processes (the emulator, the local API) and free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

HOST = "127.0.0.1"


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
