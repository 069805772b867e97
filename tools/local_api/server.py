"""The runner: a loopback HTTP server that puts API Gateway's checks (gateway.py) in front of the function's handler,
in-process (handler_source.py), and ships the function's output and the access log to the emulator's CloudWatch
Logs (log_forwarder.py); plus starting and stopping it as a detached process (``make serve``, ``make up``)."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from tools import manifest
from tools.authorizers import CognitoAuthorizer, SigV4Verifier
from tools.lambda_runtime import LambdaContext, proxy_event, response_headers
from tools.local_api.gateway import Admitted, Gateway
from tools.local_api.handler_source import FUNCTIONS_DIR, HandlerSource, check_host_dependencies
from tools.local_api.log_forwarder import LogForwarder
from tools.local_api.stage import FunctionSpec, read_stage
from tools.processes import HOST, start_detached, stop_process_group

DEFAULT_PORT = 4600
RUN_DIR = manifest.PROJECT_DIR / ".cache" / "local-api"
# How long the runner trusts the keys it read from the usage plan (API Gateway itself takes seconds to see a change).
KEYS_TTL_SECONDS = 2.0
# The emulator accepts any credentials; these are the ones the project's tools sign with (tools/aws.py).
EMULATOR_ACCESS_KEYS = {"test": "test"}


def usage_plan_keys(apigateway: Any, plan_name: str) -> dict[str, str]:
    """The enabled keys in the stage's usage plan (what `make client` issued into it): each value's key id."""
    values = {}
    for plan in apigateway.get_usage_plans()["items"]:
        if plan["name"] != plan_name:
            continue
        for key in apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]:
            try:
                detail = apigateway.get_api_key(apiKey=key["id"], includeValue=True)
            except apigateway.exceptions.NotFoundException:
                continue
            if detail.get("enabled"):
                values[detail["value"]] = detail["id"]
    return values


def user_pool_authorizer(cognito: Any, endpoint: str, pool_name: str | None) -> CognitoAuthorizer | None:
    """A token check of the stack's user pool on the emulator, whose JWKS the emulator serves at
    ``/<pool id>/.well-known/jwks.json`` (the token's ``iss`` names AWS's host, as Cognito's does)."""
    if not pool_name:
        return None
    pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == pool_name]
    if not pools:
        return None
    pool_id = pools[0]["Id"]
    return CognitoAuthorizer(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}",
        jwks_url=f"{endpoint}/{pool_id}/.well-known/jwks.json",
    )


class LocalApi:
    """The runner: ``start()`` serves on ``url`` in a background thread, ``stop()`` flushes logs and stops."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        out: Path | None = None,
        endpoint: str | None = None,
        echo_logs: bool = False,
        keys_ttl_seconds: float = KEYS_TTL_SECONDS,
    ) -> None:
        stack = manifest.find("local", out)
        self.spec = read_stage(stack)
        endpoint = endpoint or manifest.emulator_endpoint(out)
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        self.logs = session.client("logs", endpoint_url=endpoint)
        self._apigateway = session.client("apigateway", endpoint_url=endpoint)
        self._keys_ttl_seconds = keys_ttl_seconds
        self._keys_read_at = -keys_ttl_seconds
        self._keys_lock = threading.Lock()
        self.api_keys: dict[str, str] = {}
        self.refresh_keys()
        caller = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Arn"]
        self.gateway = Gateway(
            self.spec,
            keys=lambda: self.refresh_keys(force=False),
            cognito=user_pool_authorizer(
                session.client("cognito-idp", endpoint_url=endpoint), endpoint, self.spec.user_pool_name
            ),
            sigv4=SigV4Verifier({key: (secret, caller) for key, secret in EMULATOR_ACCESS_KEYS.items()}),
        )
        instance = uuid.uuid4().hex
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.function_stream = f"{day}/[$LATEST]{instance}"
        check_host_dependencies(FUNCTIONS_DIR / "requirements.txt")
        self.groups = {
            name: _RouteGroup(
                function,
                LogForwarder(
                    self.logs, function.log_group, self.function_stream, echo=sys.__stdout__ if echo_logs else None
                ),
            )
            for name, function in self.spec.functions.items()
        }
        # What the runtime sets for every function; the first group's variables stay set (as before groups).
        os.environ.update({**self.spec.primary.environment, "POWERTOOLS_TRACE_DISABLED": "true"})
        self.access_logs = LogForwarder(self.logs, self.spec.access_log_group, f"local-{instance}")
        self.server = ThreadingHTTPServer((HOST, port), self._request_handler())
        self.url = f"http://{HOST}:{self.server.server_address[1]}/{self.spec.stage_name}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)

    @property
    def stage_bucket(self):
        return self.gateway.stage_bucket

    @stage_bucket.setter
    def stage_bucket(self, bucket) -> None:
        self.gateway.stage_bucket = bucket

    @property
    def key_buckets(self):
        return self.gateway.key_buckets

    def refresh_keys(self, *, force: bool = True) -> dict[str, str]:
        """Read the usage plan's keys again (at most every ``keys_ttl_seconds``, default ``KEYS_TTL_SECONDS``, unless
        forced): a key `make client` issues works within seconds, and a revoked one stops working, without a restart."""
        with self._keys_lock:
            now = time.monotonic()
            if force or now - self._keys_read_at >= self._keys_ttl_seconds:
                self.api_keys = usage_plan_keys(self._apigateway, self.spec.usage_plan_name)
                self._keys_read_at = now
            return self.api_keys

    def key_id(self, key: str | None) -> str:
        """The id of an issued key (what API Gateway's access log names), or "-"."""
        return self.api_keys.get(key, "-") if key else "-"

    @property
    def function_logs(self) -> LogForwarder:
        """The first route group's function log (where the undeclared paths' 404s are logged)."""
        return next(iter(self.groups.values())).logs

    def invoke(self, event: dict[str, Any], group: str | None = None) -> dict[str, Any]:
        """Run route group ``group``'s handler (default the first) on ``event``, as Lambda would."""
        runtime = self.groups[group or next(iter(self.groups))]
        entry_point = runtime.source.entry_point()
        previous, sys.stdout = sys.stdout, runtime.logs  # EMF metrics are printed
        try:
            context = LambdaContext(
                runtime.function.function_name,
                memory_limit_in_mb=runtime.function.memory_mb,
                timeout_seconds=runtime.function.timeout_seconds,
                log_stream_name=self.function_stream,
            )
            return entry_point(event, context)
        finally:
            sys.stdout = previous

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: dict[str, str],
        body: bytes,
        key: str | None,
        *,
        host: str = HOST,
        request_id: str | None = None,
    ) -> tuple[int, str, dict[str, str], Admitted | None]:
        """API Gateway's checks (gateway.py), then the integration."""
        admitted = self.gateway.admit(method, raw_path, f"http://{host}{raw_path}", headers, body, key=key)
        if not isinstance(admitted, Admitted):
            return (*admitted, None)
        event = proxy_event(
            method,
            raw_path,
            body,
            headers=headers,
            stage=self.spec.stage_name,
            resource=admitted.resource,
            api_key=key,
            api_key_id=self.key_id(key) if key else None,
            request_id=request_id,
            path_parameters=admitted.path_parameters or None,
            claims=admitted.claims,
            principal=admitted.principal,
        )
        group = self.spec.group_of(admitted.resource)
        try:
            result = self.invoke(event, group)
        except Exception as error:  # the stage answers 502 when the integration fails
            logger_line = json.dumps({"level": "ERROR", "message": f"integration failed: {error!r}"})
            self.groups[group].logs.write(logger_line + "\n")
            return (*self.gateway.error("DEFAULT_5XX", 502, "Internal server error", headers), admitted)
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode("utf-8", "replace")
        return int(result.get("statusCode", 502)), payload, dict(response_headers(result)), admitted

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        runner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # access logs go to CloudWatch instead
                return

            def _serve(self) -> None:
                started, received = time.monotonic(), datetime.now(UTC)
                request_id = str(uuid.uuid4())
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                key = self.headers.get("x-api-key")
                host = self.headers.get("Host") or HOST
                status, payload, extra_headers, admitted = runner.handle(
                    self.command, self.path, headers, body, key, host=host, request_id=request_id
                )
                data = payload.encode()
                self.send_response(status)
                # API Gateway names every answer's request id, the key of its lines in the archive.
                answer = {"Content-Type": "application/json", **extra_headers, "x-amzn-RequestId": request_id}
                for name, value in answer.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has the headers of a GET and no body
                    self.wfile.write(data)
                latency = str(int((time.monotonic() - started) * 1000))
                claims = (admitted.claims if admitted else None) or {}
                principal = (admitted.principal if admitted else None) or {}
                context = {
                    "$context.requestId": request_id,
                    "$context.extendedRequestId": request_id,
                    "$context.identity.sourceIp": self.client_address[0],
                    "$context.identity.userAgent": headers.get("User-Agent", "-"),
                    "$context.identity.apiKeyId": runner.key_id(key),
                    "$context.requestTime": received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                    "$context.requestTimeEpoch": str(int(received.timestamp() * 1000)),
                    "$context.httpMethod": self.command,
                    "$context.resourcePath": admitted.resource if admitted else "-",
                    "$context.path": self.path.partition("?")[0],
                    "$context.status": str(status),
                    "$context.protocol": self.request_version,
                    "$context.responseLength": str(len(data)),
                    "$context.responseLatency": latency,
                    "$context.integrationLatency": latency if admitted else "-",
                    "$context.integration.status": str(status) if admitted else "-",
                    "$context.error.message": "-" if admitted else _error_message(payload),
                    "$context.authorizer.claims.sub": claims.get("sub", "-"),
                    "$context.authorizer.claims.client_id": claims.get("client_id", "-"),
                    "$context.authorizer.claims.scope": claims.get("scope", "-"),
                    "$context.identity.userArn": principal.get("userArn", "-"),
                }
                # Every key of the stage's format, as API Gateway writes it: "-" for what it has no value of.
                line = {name: context.get(variable, "-") for name, variable in runner.spec.access_log_format.items()}
                runner.access_logs.write(json.dumps(line, separators=(",", ":")) + "\n")

            def __getattr__(self, name: str) -> Any:
                # Every method (QUERY, TRACE, ...) reaches the router, which answers for the ones the API lacks.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        return Handler

    def start(self) -> LocalApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for runtime in self.groups.values():
            runtime.logs.close_and_flush()
        self.access_logs.close_and_flush()


class _RouteGroup:
    """One route group in this process: its function's spec, its log stream, its handler (imported here)."""

    def __init__(self, function: FunctionSpec, logs: LogForwarder) -> None:
        self.function, self.logs = function, logs
        # As Lambda would: the function's own variables, plus what the runtime sets. No X-Ray daemon runs here.
        variables = {
            **function.environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        self.source = HandlerSource(function.handler, logs, environment=variables)


def _error_message(payload: str) -> str:
    """API Gateway's own refusal message ($context.error.message), from the gateway response's body."""
    try:
        message = json.loads(payload).get("message")
    except (ValueError, AttributeError):
        return "-"
    return str(message) if message else "-"


def _pid_file(port: int) -> Path:
    return RUN_DIR / f"server-{port}.pid"


def serve(port: int) -> None:
    api = LocalApi(port, echo_logs=False).start()
    functions = ", ".join(f"{name}: {f.function_name}" for name, f in api.spec.functions.items())
    print(f"local API on {api.url} (route groups {functions}); Ctrl-C to stop", flush=True)
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
    _, url = start_detached(
        serve_command(port),
        what="the local API",
        pid_file=_pid_file(port),
        log_path=log_path,
        ready=lambda: _announced_url(log_path),
        timeout_seconds=timeout_seconds,
        cwd=manifest.PROJECT_DIR,
        fresh_log=True,
    )
    identity_path.write_text(identity)
    return url


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
    parser = argparse.ArgumentParser(description="A local stand-in for the deployed stage")
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
