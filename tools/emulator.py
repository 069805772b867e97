"""Start, stop and probe the local AWS emulator (moto in server mode) on a loopback port.

``python -m tools.emulator start|stop|status [--port N]``; the pid and log live under ``.cache/emulator``.
Without ``--port`` the port is the one the synthesized ``local`` stack points at (``EMULATOR_PORT`` at synth).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from tools import manifest
from tools.processes import HOST, stop_process_group

STATE_DIR = manifest.PROJECT_DIR / ".cache" / "emulator"


def configured_port() -> int:
    return urlsplit(manifest.emulator_endpoint()).port or 80


def pid_file(port: int) -> Path:
    return STATE_DIR / f"moto-{port}.pid"


def is_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"{url(port)}/moto-api/", timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def start(port: int, timeout_seconds: float = 30.0) -> int:
    """Start the emulator unless one already answers on ``port``; return its pid (0 if not ours)."""
    if is_up(port):
        ours = pid_file(port)
        return int(ours.read_text()) if ours.exists() else 0
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log = open(STATE_DIR / f"moto-{port}.log", "ab")  # noqa: SIM115 - handed to the child process
    server = Path(sys.executable).with_name("moto_server")
    # AWS managed policies (the API Gateway logging role attaches one) exist in the emulator only on request; a
    # requested certificate is issued at once (the emulator resolves no DNS: its validation record is not checked).
    environment = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0"}
    process = subprocess.Popen(
        [str(server), "-H", HOST, "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=environment,
    )
    pid_file(port).write_text(str(process.pid))
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
    return stop_process_group(pid_file(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    port = args.port or configured_port()
    if args.action == "start":
        pid = start(port)
        print(f"emulator listening on {url(port)} (pid {pid or 'not ours'})")
    elif args.action == "stop":
        print(f"emulator on port {port} " + ("stopped" if stop(port) else "was not running"))
    else:
        up = is_up(port)
        print(f"emulator on port {port} is {'up' if up else 'down'}")
        return 0 if up else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
