"""Start, stop and probe the local AWS emulator (moto in server mode) on a loopback port.

``python -m tools.emulator start|stop|status [--port N]``; the pid and log live under ``.cache/emulator``.
The port defaults to ``EMULATOR_PORT`` (4599).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_DIR / ".cache" / "emulator"
DEFAULT_EMULATOR_PORT = 4599
HOST = "127.0.0.1"


def _pid_file(port: int) -> Path:
    return STATE_DIR / f"moto-{port}.pid"


def is_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/moto-api/", timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start(port: int, timeout_seconds: float = 30.0) -> int:
    """Start the emulator unless one already answers on ``port``; return its pid (0 if not ours)."""
    if is_up(port):
        pid_file = _pid_file(port)
        return int(pid_file.read_text()) if pid_file.exists() else 0
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log = open(STATE_DIR / f"moto-{port}.log", "ab")  # noqa: SIM115 - handed to the child process
    server = Path(sys.executable).with_name("moto_server")
    # AWS managed policies (the API Gateway logging role attaches one) exist in the emulator only on request.
    environment = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    process = subprocess.Popen([str(server), "-H", HOST, "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True, env=environment)
    _pid_file(port).write_text(str(process.pid))
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode}; see {log.name}")
        if is_up(port):
            return process.pid
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"emulator did not answer on {HOST}:{port} within {timeout_seconds}s; see {log.name}")


def stop(port: int) -> bool:
    """Stop the emulator this project started on ``port``; True if one was running."""
    return stop_process_group(_pid_file(port))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", DEFAULT_EMULATOR_PORT)))
    args = parser.parse_args(argv)
    if args.action == "start":
        pid = start(args.port)
        print(f"emulator listening on http://{HOST}:{args.port} (pid {pid or 'not ours'})")
    elif args.action == "stop":
        print(f"emulator on port {args.port} " + ("stopped" if stop(args.port) else "was not running"))
    else:
        up = is_up(args.port)
        print(f"emulator on port {args.port} is {'up' if up else 'down'}")
        return 0 if up else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
