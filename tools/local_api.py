"""A local stand-in for the deployed stage: the packaged handler, in-process, behind a loopback HTTP server.

It reads the synthesized ``local`` stack, so it serves what would be deployed: the function's zip, handler and
environment, the stage's throttle, the usage plan's per-key throttle, and the API key (from the emulator).
Each request becomes an API Gateway REST proxy event (format 1.0). Like the stage, the runner refuses a
missing or wrong ``x-api-key`` (403) and requests over the throttle (429), with the stage's JSON error bodies.
The function's stdout (its structured logs and EMF metrics) and the stage's access-log lines are forwarded in
batches, off the request path, to the emulator's CloudWatch Logs groups, whose subscriptions carry them
through Firehose into the archive bucket.

``python -m tools.local_api serve|start|stop [--port N]``; default port ``LOCAL_API_PORT`` (4600).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3

from tools import manifest
from tools.lambda_runtime import LambdaContext, proxy_event
from tools.processes import HOST, stop_process_group

DEFAULT_PORT = 4600
RUN_DIR = manifest.PROJECT_DIR / ".cache" / "local-api"
ROUTES = {"/health": "/health", "/events": "/events"}


class TokenBucket:
    """API Gateway's throttle model: ``rate`` tokens per second refill a bucket of ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class StageSpec:
    """What the runner needs from the synthesized stack."""

    function_name: str
    handler: str
    bundle: Path
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int
    stage_name: str
    stage_rate: float
    stage_burst: int
    plan_rate: float
    plan_burst: int
    access_log_group: str
    function_log_group: str


def read_stage(stack: manifest.Stack) -> StageSpec:
    resources = stack.tf["resource"]
    (function,) = resources["aws_lambda_function"].values()
    (settings,) = resources["aws_api_gateway_method_settings"].values()
    (plan,) = resources["aws_api_gateway_usage_plan"].values()
    (stage,) = resources["aws_api_gateway_stage"].values()
    groups = {g["name"] for g in resources["aws_cloudwatch_log_group"].values()}
    throttle = settings["settings"]
    plan_throttle = plan["throttle_settings"]
    return StageSpec(
        function_name=function["function_name"],
        handler=function["handler"],
        bundle=stack.directory / function["filename"],
        environment=function["environment"]["variables"],
        memory_mb=function["memory_size"],
        timeout_seconds=function["timeout"],
        stage_name=stage["stage_name"],
        stage_rate=throttle["throttling_rate_limit"],
        stage_burst=throttle["throttling_burst_limit"],
        plan_rate=plan_throttle["rate_limit"],
        plan_burst=plan_throttle["burst_limit"],
        access_log_group=next(g for g in groups if g.endswith("/access")),
        function_log_group=f"/aws/lambda/{function['function_name']}",
    )


class LogForwarder(io.TextIOBase):
    """A stdout stand-in that ships complete lines to one CloudWatch Logs stream from a background thread."""

    def __init__(self, logs: Any, group: str, stream: str, echo: io.TextIOBase | None = None) -> None:
        self.logs, self.group, self.stream, self.echo = logs, group, stream, echo
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.partial = threading.local()
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self.thread = threading.Thread(target=self._ship, name=f"logs:{group}", daemon=True)
        self.thread.start()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffered = getattr(self.partial, "text", "") + text
        *complete, rest = buffered.split("\n")
        self.partial.text = rest
        for line in complete:
            if line.strip():
                self.lines.put(line)
        if self.echo:
            self.echo.write(text)
        return len(text)

    def close_and_flush(self, timeout: float = 10.0) -> None:
        self.lines.put(None)
        self.thread.join(timeout)

    def _ship(self) -> None:
        done = False
        while not done:
            batch = [self.lines.get()]
            deadline = time.monotonic() + 0.2
            while len(batch) < 500 and time.monotonic() < deadline:
                try:
                    batch.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            done = None in batch
            events = [{"timestamp": int(time.time() * 1000), "message": line} for line in batch if line is not None]
            if events:
                self.logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=events)


class LocalApi:
    """The runner: ``start()`` serves on ``url`` in a background thread, ``stop()`` flushes logs and stops."""

    def __init__(
        self, port: int = DEFAULT_PORT, *, out: Path | None = None, endpoint: str | None = None, echo_logs: bool = False
    ) -> None:
        stack = manifest.find("local", out)
        self.spec = read_stage(stack)
        endpoint = endpoint or manifest.emulator_endpoint(out)
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        self.logs = session.client("logs", endpoint_url=endpoint)
        apigateway = session.client("apigateway", endpoint_url=endpoint)
        self.api_keys = {
            key["value"] for key in apigateway.get_api_keys(includeValues=True)["items"] if key.get("enabled")
        }
        instance = uuid.uuid4().hex
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.function_stream = f"{day}/[$LATEST]{instance}"
        self.function_logs = LogForwarder(
            self.logs, self.spec.function_log_group, self.function_stream, echo=sys.__stdout__ if echo_logs else None
        )
        self.access_logs = LogForwarder(self.logs, self.spec.access_log_group, f"local-{instance}")
        self.module = self._load_handler()
        self.stage_bucket = TokenBucket(self.spec.stage_rate, self.spec.stage_burst)
        self.key_buckets: dict[str, TokenBucket] = {}
        self.server = ThreadingHTTPServer((HOST, port), self._request_handler())
        self.url = f"http://{HOST}:{self.server.server_address[1]}/{self.spec.stage_name}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)

    def _load_handler(self) -> ModuleType:
        target = RUN_DIR / self.spec.bundle.stem
        if not target.exists():
            partial = target.with_suffix(".partial")
            with zipfile.ZipFile(self.spec.bundle) as archive:
                archive.extractall(partial)
            os.replace(partial, target)
        # As Lambda would: the function's own variables, plus what the runtime sets. No X-Ray daemon runs here.
        os.environ.update(self.spec.environment)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": self.spec.function_name,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_LAMBDA_LOG_GROUP_NAME": self.spec.function_log_group,
            }
        )
        sys.path.insert(0, str(target))
        module_name, _, self.entry = self.spec.handler.rpartition(".")
        # Powertools binds its log handler to sys.stdout when the module is imported.
        sys.stdout = self.function_logs
        try:
            return importlib.import_module(module_name)
        finally:
            sys.stdout = sys.__stdout__

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        previous, sys.stdout = sys.stdout, self.function_logs  # EMF metrics are printed
        try:
            context = LambdaContext(
                self.spec.function_name,
                memory_limit_in_mb=self.spec.memory_mb,
                timeout_seconds=self.spec.timeout_seconds,
                log_stream_name=self.function_stream,
            )
            return getattr(self.module, self.entry)(event, context)
        finally:
            sys.stdout = previous

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        runner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # access logs go to CloudWatch instead
                return

            def _serve(self) -> None:
                started = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                key = self.headers.get("x-api-key")
                status, payload, response_headers = runner.handle(self.command, self.path, headers, body, key)
                data = payload.encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **response_headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                runner.access_logs.write(
                    json.dumps(
                        {
                            "requestTime": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                            "httpMethod": self.command,
                            "path": self.path,
                            "status": str(status),
                            "responseLength": str(len(data)),
                            "ip": self.client_address[0],
                            "responseLatency": str(int((time.monotonic() - started) * 1000)),
                        }
                    )
                    + "\n"
                )

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve  # noqa: N815

        return Handler

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, key: str | None
    ) -> tuple[int, str, dict[str, str]]:
        if key not in self.api_keys:
            return 403, json.dumps({"error": "request_rejected", "message": "Forbidden"}), {}
        bucket = self.key_buckets.setdefault(key, TokenBucket(self.spec.plan_rate, self.spec.plan_burst))
        if not (self.stage_bucket.take() and bucket.take()):
            return 429, json.dumps({"error": "request_rejected", "message": "Too Many Requests"}), {}
        path = urlsplit(raw_path).path.removeprefix(f"/{self.spec.stage_name}") or "/"
        resource = ROUTES.get(path, "/" if path == "/" else "/{proxy+}")
        event = proxy_event(
            method, raw_path, body, headers=headers, stage=self.spec.stage_name, resource=resource, api_key=key
        )
        try:
            result = self.invoke(event)
        except Exception as error:  # the stage answers 502 when the integration fails
            return 502, json.dumps({"error": "gateway_error", "message": f"Internal server error: {error}"}), {}
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode("utf-8", "replace")
        return int(result.get("statusCode", 502)), payload, dict(result.get("headers") or {})

    def start(self) -> LocalApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.function_logs.close_and_flush()
        self.access_logs.close_and_flush()


def _pid_file(port: int) -> Path:
    return RUN_DIR / f"server-{port}.pid"


def serve(port: int) -> None:
    api = LocalApi(port, echo_logs=False).start()
    print(f"local API on {api.url} (function {api.spec.function_name}); Ctrl-C to stop", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    api.stop()


def start_background(port: int, timeout_seconds: float = 60.0) -> str:
    """Start ``serve`` as a detached process; return the stage URL once it answers."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    stop_background(port)
    log = open(RUN_DIR / f"server-{port}.log", "wb")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.local_api", "serve", "--port", str(port)],
        cwd=manifest.PROJECT_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pid_file(port).write_text(str(process.pid))
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local API exited with {process.returncode}; see {log.name}")
        text = Path(log.name).read_text(errors="replace")
        found = re.search(r"local API on (\S+)", text)
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise RuntimeError(f"local API did not start within {timeout_seconds}s; see {log.name}")


def stop_background(port: int) -> bool:
    return stop_process_group(_pid_file(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("serve", "start", "stop"), nargs="?", default="serve")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_API_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    if args.action == "serve":
        serve(args.port)
    elif args.action == "start":
        print(start_background(args.port))
    else:
        print("stopped" if stop_background(args.port) else "not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
