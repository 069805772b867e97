"""A local stand-in for the deployed stage: the function's handler, in-process, behind a loopback HTTP server.

It reads the synthesized ``local`` stack, so it serves what would be deployed: the function's handler and
environment, the API's resources and methods (built from the OpenAPI contract, so routes are matched as API
Gateway matches them), its request models, its gateway responses, the stage's throttle, the usage plan's per-key
throttle, and the API key (from the emulator). Like the stage, the runner refuses a missing or wrong
``x-api-key`` (403), requests over the throttle (429) and bodies that fail the method's model (422), with the
stage's own response templates; everything else becomes an API Gateway REST proxy event (format 1.0).

The handler is imported from ``functions/`` (the zip's function package is a copy of it) and re-imported when a
source file changes, so an edit is live on the next request with no deploy. Its third-party packages are the
host's, pinned to the versions of ``functions/requirements.txt`` (checked at start): the zip holds builds for
the Lambda's architecture (pydantic-core is compiled), which the host may not load.

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
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import jsonschema

from tools import manifest
from tools.lambda_runtime import LambdaContext, proxy_event, response_headers
from tools.processes import HOST, stop_process_group

DEFAULT_PORT = 4600
# How long the runner trusts the keys it read from the usage plan (API Gateway itself takes seconds to see a change).
KEYS_TTL_SECONDS = 2.0
RUN_DIR = manifest.PROJECT_DIR / ".cache" / "local-api"
FUNCTIONS_DIR = manifest.PROJECT_DIR / "functions"
_RESOURCE_REF = re.compile(r"\$\{aws_api_gateway_resource\.([^.]+)\.id\}")
_MODEL_REF = re.compile(r"\$\{aws_api_gateway_model\.([^.]+)\.name\}")


class TokenBucket:
    """API Gateway's throttle model: ``rate`` tokens per second refill a bucket of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = float(rate), float(burst), clock
        self.tokens, self.updated = float(burst), clock()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class GatewayResponse:
    status_code: int | None
    template: str

    def render(self, status: int, message: str) -> tuple[int, str]:
        """API Gateway's simple substitution (response templates are not VTL)."""
        body = self.template.replace("$context.error.messageString", json.dumps(message))
        return self.status_code or status, body.replace("$context.error.message", message)


def read_routes(resources: dict[str, Any]) -> dict[str, dict[str, dict | None]]:
    """``{"/events": {"POST": <draft-04 model or None>, "ANY": None}, ...}`` from the API's synthesized resources."""
    nodes = resources.get("aws_api_gateway_resource", {})
    models = {name: json.loads(m["schema"]) for name, m in resources.get("aws_api_gateway_model", {}).items()}

    def path_of(reference: str) -> str:
        found = _RESOURCE_REF.fullmatch(reference)
        if not found:  # the REST API's root resource
            return "/"
        node = nodes[found.group(1)]
        return path_of(node["parent_id"]).rstrip("/") + "/" + node["path_part"]

    routes: dict[str, dict[str, dict | None]] = {}
    for method in resources.get("aws_api_gateway_method", {}).values():
        model = _MODEL_REF.fullmatch((method.get("request_models") or {}).get("application/json", ""))
        routes.setdefault(path_of(method["resource_id"]), {})[method["http_method"]] = (
            models[model.group(1)] if model else None
        )
    return routes


def match_route(templates: Any, path: str) -> tuple[str, dict[str, str]] | None:
    """The resource API Gateway picks for ``path``, and its path parameters: literal segments beat
    ``{param}``, which beats ``{greedy+}``, from the left."""
    segments = [s for s in path.split("/") if s]
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for template in templates:
        parts = [p for p in template.split("/") if p]
        params: dict[str, str] = {}
        rank: list[int] = []
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if i >= len(segments):
                    break
                params[part[1:-2]] = "/".join(segments[i:])
                rank.append(0)
                break
            if i >= len(segments) or (not part.startswith("{") and part != segments[i]):
                break
            if part.startswith("{"):
                params[part[1:-1]] = segments[i]
            rank.append(1 if part.startswith("{") else 2)
        else:
            if len(parts) != len(segments):
                continue
        if len(rank) != len(parts):
            continue
        if best is None or tuple(rank) > best[0]:
            best = (tuple(rank), template, params)
    return (best[1], best[2]) if best else None


def check_host_dependencies(requirements: Path) -> None:
    """The runner imports the host's packages; they must be the versions the zip bundles."""
    wrong = []
    for line in requirements.read_text().splitlines():
        if "==" not in line or line.lstrip().startswith("#"):
            continue
        name, version = (part.strip() for part in line.split("=="))
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            wrong.append(f"{name}=={version} (host: {installed})")
    if wrong:
        raise RuntimeError(
            f"the local API imports the host's packages, which differ from {requirements.name}: "
            + ", ".join(wrong)
            + "; pin them in Pipfile's [packages] too and run `make setup`"
        )


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
    usage_plan_name: str
    access_log_group: str
    function_log_group: str
    routes: dict[str, dict[str, dict | None]] = field(default_factory=dict)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)


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
        usage_plan_name=plan["name"],
        access_log_group=next(g for g in groups if g.endswith("/access")),
        function_log_group=f"/aws/lambda/{function['function_name']}",
        routes=read_routes(resources),
        gateway_responses={
            r["response_type"]: GatewayResponse(
                int(r["status_code"]) if r.get("status_code") else None, r["response_templates"]["application/json"]
            )
            for r in resources.get("aws_api_gateway_gateway_response", {}).values()
        },
    )


class HandlerSource:
    """The function's package under ``functions/``, imported as Lambda would, and re-imported after an edit."""

    def __init__(self, handler: str, stdout: io.TextIOBase, root: Path = FUNCTIONS_DIR) -> None:
        module_name, _, self.entry = handler.rpartition(".")
        self.package = module_name.split(".")[0]
        self.module_name, self.stdout = module_name, stdout
        self.directory = root / self.package
        self.lock = threading.Lock()
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        self.loads = 0
        self.stamp = self._stamp()
        self.module = self._import()

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in self.directory.rglob("*.py")))

    def _import(self) -> ModuleType:
        for name in [n for n in sys.modules if n == self.package or n.startswith(f"{self.package}.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        # Powertools binds its log handler to sys.stdout when the module is imported.
        previous, sys.stdout = sys.stdout, self.stdout
        try:
            module = importlib.import_module(self.module_name)
        finally:
            sys.stdout = previous
        # ...unless a logger of the same service name existed in this process already (Powertools keeps one
        # logging.Logger per service and adds its handler once): point that handler at the function's stream too.
        service = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
        for handler in service.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.stream = self.stdout  # not setStream: it flushes the old stream, which may be closed
        self.loads += 1
        return module

    def entry_point(self) -> Any:
        """The handler function, re-imported first if a source file changed since the last request."""
        with self.lock:
            stamp = self._stamp()
            if stamp != self.stamp:
                self.module, self.stamp = self._import(), stamp
                print(f"reloaded {self.module_name} after an edit", file=sys.__stderr__, flush=True)
            return getattr(self.module, self.entry)


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
            while batch[-1] is not None and len(batch) < 500 and time.monotonic() < deadline:
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
        self._apigateway = session.client("apigateway", endpoint_url=endpoint)
        self._keys_read_at = -KEYS_TTL_SECONDS
        self._keys_lock = threading.Lock()
        self.api_keys: set[str] = set()
        self.refresh_keys()
        instance = uuid.uuid4().hex
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.function_stream = f"{day}/[$LATEST]{instance}"
        self.function_logs = LogForwarder(
            self.logs, self.spec.function_log_group, self.function_stream, echo=sys.__stdout__ if echo_logs else None
        )
        self.access_logs = LogForwarder(self.logs, self.spec.access_log_group, f"local-{instance}")
        self.source = self._load_handler()
        self.stage_bucket = TokenBucket(self.spec.stage_rate, self.spec.stage_burst)
        self.key_buckets: dict[str, TokenBucket] = {}
        self.server = ThreadingHTTPServer((HOST, port), self._request_handler())
        self.url = f"http://{HOST}:{self.server.server_address[1]}/{self.spec.stage_name}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)

    def refresh_keys(self, *, force: bool = True) -> set[str]:
        """Read the usage plan's keys again (at most every ``KEYS_TTL_SECONDS`` unless forced): a key `make client`
        issues works within seconds, and a revoked one stops working, without a restart."""
        with self._keys_lock:
            now = time.monotonic()
            if force or now - self._keys_read_at >= KEYS_TTL_SECONDS:
                self.api_keys = usage_plan_keys(self._apigateway, self.spec.usage_plan_name)
                self._keys_read_at = now
            return self.api_keys

    def _load_handler(self) -> HandlerSource:
        check_host_dependencies(FUNCTIONS_DIR / "requirements.txt")
        # As Lambda would: the function's own variables, plus what the runtime sets. No X-Ray daemon runs here.
        os.environ.update(self.spec.environment)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": self.spec.function_name,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_LAMBDA_LOG_GROUP_NAME": self.spec.function_log_group,
            }
        )
        return HandlerSource(self.spec.handler, self.function_logs)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        entry_point = self.source.entry_point()
        previous, sys.stdout = sys.stdout, self.function_logs  # EMF metrics are printed
        try:
            context = LambdaContext(
                self.spec.function_name,
                memory_limit_in_mb=self.spec.memory_mb,
                timeout_seconds=self.spec.timeout_seconds,
                log_stream_name=self.function_stream,
            )
            return entry_point(event, context)
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
                status, payload, extra_headers = runner.handle(self.command, self.path, headers, body, key)
                data = payload.encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **extra_headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has the headers of a GET and no body
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

            def __getattr__(self, name: str) -> Any:
                # Every method (QUERY, TRACE, ...) reaches the router, which answers for the ones the API lacks.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        return Handler

    def _route(self, method: str, raw_path: str) -> tuple[str, dict[str, str], dict | None] | None:
        """The matched resource, its path parameters and the method's request model; None if nothing matches."""
        path = raw_path.partition("?")[0]  # not urlsplit: it refuses a stray "[" in a path
        stage_prefix = f"/{self.spec.stage_name}"
        if path != stage_prefix and not path.startswith(stage_prefix + "/"):
            return None
        matched = match_route(self.spec.routes, path.removeprefix(stage_prefix) or "/")
        methods = self.spec.routes[matched[0]] if matched else {}
        if not matched or not ({method, "ANY"} & set(methods)):
            return None
        return matched[0], matched[1], methods[method] if method in methods else methods["ANY"]

    def gateway_error(self, kind: str, status: int, message: str) -> tuple[int, str, dict[str, str]]:
        response = self.spec.gateway_responses.get(kind) or self.spec.gateway_responses.get(
            "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        )
        if response is None:
            return status, json.dumps({"message": message}), {}
        status, body = response.render(status, message)
        return status, body, {"x-amzn-ErrorType": kind}

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, key: str | None
    ) -> tuple[int, str, dict[str, str]]:
        """API Gateway's order: route, API key, throttle, request validation, then the integration."""
        route = self._route(method, raw_path)
        if route is None:
            return self.gateway_error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        resource, path_parameters, model = route
        if key not in self.refresh_keys(force=False):
            return self.gateway_error("INVALID_API_KEY", 403, "Forbidden")
        bucket = self.key_buckets.setdefault(key, TokenBucket(self.spec.plan_rate, self.spec.plan_burst))
        if not (self.stage_bucket.take() and bucket.take()):
            return self.gateway_error("THROTTLED", 429, "Too Many Requests")
        content_type = (headers.get("Content-Type") or headers.get("content-type") or "application/json").split(";")
        if model is not None and content_type[0].strip().lower() == "application/json" and not _valid(body, model):
            return self.gateway_error("BAD_REQUEST_BODY", 400, "Invalid request body")
        event = proxy_event(
            method,
            raw_path,
            body,
            headers=headers,
            stage=self.spec.stage_name,
            resource=resource,
            api_key=key,
            path_parameters=path_parameters or None,
        )
        try:
            result = self.invoke(event)
        except Exception as error:  # the stage answers 502 when the integration fails
            logger_line = json.dumps({"level": "ERROR", "message": f"integration failed: {error!r}"})
            self.function_logs.write(logger_line + "\n")
            return self.gateway_error("DEFAULT_5XX", 502, "Internal server error")
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode("utf-8", "replace")
        return int(result.get("statusCode", 502)), payload, dict(response_headers(result))

    def start(self) -> LocalApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.function_logs.close_and_flush()
        self.access_logs.close_and_flush()


def usage_plan_keys(apigateway: Any, plan_name: str) -> set[str]:
    """The values of the enabled keys in the stage's usage plan (what `make client` issued into it)."""
    values = set()
    for plan in apigateway.get_usage_plans()["items"]:
        if plan["name"] != plan_name:
            continue
        for key in apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]:
            try:
                detail = apigateway.get_api_key(apiKey=key["id"], includeValue=True)
            except apigateway.exceptions.NotFoundException:
                continue
            if detail.get("enabled"):
                values.add(detail["value"])
    return values


def _valid(body: bytes, model: dict) -> bool:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        return False
    return jsonschema.Draft4Validator(model).is_valid(document)


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


def start_background(port: int, *, identity: str = "", timeout_seconds: float = 60.0) -> str:
    """Start ``serve`` as a detached process; return the stage URL once it answers.

    A runner already started with the same non-empty ``identity`` (what it read at start: the stack, the emulator,
    the API) that still answers is kept: it reloads the handler by itself, and a restart costs seconds.
    """
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    log_path, identity_path = RUN_DIR / f"server-{port}.log", RUN_DIR / f"server-{port}.identity"
    if identity and identity_path.exists() and identity_path.read_text() == identity:
        url = _announced_url(log_path)
        if url and _answers(port):
            return url
    stop_background(port)
    identity_path.unlink(missing_ok=True)
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        serve_command(port),
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
        url = _announced_url(log_path)
        if url:
            identity_path.write_text(identity)
            return url
        time.sleep(0.2)
    raise RuntimeError(f"local API did not start within {timeout_seconds}s; see {log.name}")


def serve_command(port: int) -> list[str]:
    """The detached runner's command line."""
    return [sys.executable, "-m", "tools.local_api", "serve", "--port", str(port)]


def _announced_url(log_path: Path) -> str | None:
    found = re.search(r"local API on (\S+)", log_path.read_text(errors="replace")) if log_path.exists() else None
    return found.group(1) if found else None


def _answers(port: int) -> bool:
    """Our runner's process is alive and something accepts connections on its port."""
    pid_file = _pid_file(port)
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pid_file.read_text()), 0)
        with socket.create_connection((HOST, port), timeout=1):
            return True
    return False


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
