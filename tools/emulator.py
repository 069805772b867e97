"""Start, stop and probe the local AWS emulator (moto in server mode) on a loopback port.

``python -m tools.emulator start|stop|status [--port N]``; the pid and log live under ``.cache/emulator``.
Without ``--port`` the port is the one the synthesized ``local`` stack points at (``EMULATOR_PORT`` at synth).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from tools import manifest
from tools.processes import HOST, start_detached, stop_process_group

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
    server = Path(sys.executable).with_name("moto_server")
    # AWS managed policies (the API Gateway logging role attaches one) exist in the emulator only on request; a
    # requested certificate is issued at once (the emulator resolves no DNS: its validation record is not checked).
    environment = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0"}
    pid, _ = start_detached(
        [str(server), "-H", HOST, "-p", str(port)],
        what=f"the emulator on {HOST}:{port}",
        pid_file=pid_file(port),
        log_path=STATE_DIR / f"moto-{port}.log",
        ready=lambda: is_up(port),
        timeout_seconds=timeout_seconds,
        env=environment,
    )
    return pid


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
