"""The local API's parts that need no emulator: reloading the handler after an edit, the host-package check."""

from __future__ import annotations

import io
import os
import sys

import pytest

from tools import local_api
from tools.local_api import HandlerSource, TokenBucket, check_host_dependencies, server
from tools.processes import free_port

HANDLER = """
import json
from . import answer

def lambda_handler(event, context):
    print(json.dumps({"message": "called"}))
    return {"statusCode": 200, "body": answer.TEXT}
"""


def _write(path, text):
    path.write_text(text)
    stat = path.stat()  # a later mtime even on coarse clocks
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_an_edit_is_live_on_the_next_call(tmp_path):
    package = tmp_path / "reloadable_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(HANDLER)
    (package / "answer.py").write_text('TEXT = "one"\n')
    out = io.StringIO()
    try:
        source = HandlerSource("reloadable_fn.handler.lambda_handler", out, root=tmp_path)
        assert source.entry_point()({}, None)["body"] == "one"
        _write(package / "answer.py", 'TEXT = "two"\n')  # a module the handler imports, not the handler itself
        assert source.entry_point()({}, None)["body"] == "two"
        assert source.loads == 2
        assert source.entry_point()({}, None)["body"] == "two" and source.loads == 2  # no edit, no reload
        _write(package / "answer.py", "TEXT = (\n")
        with pytest.raises(SyntaxError):
            source.entry_point()
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("reloadable_fn")]:
            del sys.modules[name]


def test_the_runner_refuses_host_packages_other_than_the_bundles(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\npytest==0.0.1\nnot-a-real-package-xyz==1.0\n")
    with pytest.raises(
        RuntimeError, match=r"pytest==0\.0\.1 \(host: \d.*not-a-real-package-xyz==1\.0 \(host: not installed\)"
    ):
        check_host_dependencies(requirements)
    from importlib import metadata

    requirements.write_text(f"pytest=={metadata.version('pytest')}\n")
    check_host_dependencies(requirements)


def test_the_stage_throttle_refills_at_its_rate_up_to_its_burst():
    now = [100.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]
    now[0] += 0.5  # one token at 2 per second
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 60  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


# Stands in for the runner: listens on its port and announces itself as `serve` does.
FAKE_RUNNER = """
import socket, sys, time
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print(f"local API on http://127.0.0.1:{sys.argv[1]}/v1 (function f); Ctrl-C to stop", flush=True)
time.sleep(120)
"""


def test_make_up_keeps_a_runner_started_for_the_same_identity_and_restarts_it_for_another(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "RUN_DIR", tmp_path)
    monkeypatch.setattr(server, "serve_command", lambda port: [sys.executable, "-c", FAKE_RUNNER, str(port)])
    port = free_port()
    pid = tmp_path / f"server-{port}.pid"
    try:
        url = local_api.start_background(port, identity="stack-1")
        assert url == f"http://127.0.0.1:{port}/v1"
        first = pid.read_text()
        assert local_api.start_background(port, identity="stack-1") == url
        assert pid.read_text() == first  # kept
        assert local_api.start_background(port, identity="stack-2") == url
        second = pid.read_text()
        assert second != first  # restarted
        assert local_api.start_background(port) == url and pid.read_text() != second  # no identity: always fresh
    finally:
        local_api.stop_background(port)
