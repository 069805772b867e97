"""API Gateway's part of a request, in its order: the route, a CORS preflight (answered by the mock integration),
the caller check (a Cognito token with one of the method's scopes, or a SigV4 signature), the usage plan's key, the
stage's and the key's throttle, the request model; then the function, through a REST proxy event (format 1.0).
Each refusal is the stage's own gateway response (status, JSON body, CORS headers)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from tools.authorizers import CognitoAuthorizer, SigV4Verifier, Verdict
from tools.local_api.stage import Route, StageSpec, match_route


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
class Admitted:
    """A request API Gateway lets through to the function, with who the caller is."""

    resource: str
    path_parameters: dict[str, str]
    claims: dict[str, Any] | None
    principal: dict[str, str] | None


Answer = tuple[int, str, dict[str, str]]


class Gateway:
    """The checks of one stage; ``keys`` returns the usage plan's current key values."""

    def __init__(
        self,
        spec: StageSpec,
        *,
        keys: Callable[[], set[str]],
        cognito: CognitoAuthorizer | None,
        sigv4: SigV4Verifier,
    ) -> None:
        self.spec, self.keys, self.cognito, self.sigv4 = spec, keys, cognito, sigv4
        self.stage_bucket = TokenBucket(spec.stage_rate, spec.stage_burst)
        self.key_buckets: dict[str, TokenBucket] = {}

    def error(self, kind: str, status: int, message: str, headers: dict[str, str]) -> Answer:
        responses = self.spec.gateway_responses
        response = responses.get(kind) or responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        if response is None:
            return status, json.dumps({"message": message}), {}
        status, body, extra = response.render(status, message, headers)
        return status, body, {"x-amzn-ErrorType": kind, **extra}

    def route(self, method: str, raw_path: str) -> tuple[str, dict[str, str], Route] | None:
        """The matched resource, its path parameters and the method; None if nothing matches."""
        path = raw_path.partition("?")[0]  # not urlsplit: it refuses a stray "[" in a path
        stage_prefix = f"/{self.spec.stage_name}"
        if path != stage_prefix and not path.startswith(stage_prefix + "/"):
            return None
        matched = match_route(self.spec.routes, path.removeprefix(stage_prefix) or "/")
        methods = self.spec.routes[matched[0]] if matched else {}
        if not matched or not ({method, "ANY"} & set(methods)):
            return None
        return matched[0], matched[1], methods[method] if method in methods else methods["ANY"]

    def preflight(self, route: Route, headers: dict[str, str]) -> Answer:
        """The mock integration of a CORS preflight: its static headers, and ``Origin`` echoed only if allowed."""
        origin = {k.lower(): v for k, v in headers.items()}.get("origin")
        extra = dict(route.mock_headers or {})
        if origin and origin in self.spec.cors_origins:
            extra["Access-Control-Allow-Origin"] = origin
        return 204, "", extra

    def authorize(self, method: str, url: str, route: Route, headers: dict[str, str], body: bytes) -> Verdict:
        if route.authorization == "COGNITO_USER_POOLS":
            if self.cognito is None:
                return Verdict(500, "the stack's user pool was not found on the emulator")
            value = {k.lower(): v for k, v in headers.items()}.get("authorization")
            return self.cognito.check(value, route.scopes)
        if route.authorization == "AWS_IAM":
            return self.sigv4.check(method, url, headers, body)
        return Verdict(200, "")

    def admit(
        self, method: str, raw_path: str, url: str, headers: dict[str, str], body: bytes, *, key: str | None
    ) -> Admitted | Answer:
        """Everything API Gateway does before the integration: an ``Admitted`` request, or its refusal."""
        found = self.route(method, raw_path)
        if found is None:
            return self.error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", headers)
        resource, path_parameters, route = found
        if route.mock_headers is not None:
            return self.preflight(route, headers)
        verdict = self.authorize(method, url, route, headers, body)
        if not verdict.allowed:
            if verdict.status == 401:
                return self.error("UNAUTHORIZED", 401, verdict.message, headers)
            kind = "ACCESS_DENIED" if route.authorization == "COGNITO_USER_POOLS" else "INVALID_SIGNATURE"
            if verdict.message == "Missing Authentication Token":
                kind = "MISSING_AUTHENTICATION_TOKEN"
            return self.error(kind, verdict.status, verdict.message, headers)
        if route.api_key_required:
            if key not in self.keys():
                return self.error("INVALID_API_KEY", 403, "Forbidden", headers)
            bucket = self.key_buckets.setdefault(key, TokenBucket(self.spec.plan_rate, self.spec.plan_burst))
            if not (self.stage_bucket.take() and bucket.take()):
                return self.error("THROTTLED", 429, "Too Many Requests", headers)
        elif not self.stage_bucket.take():
            return self.error("THROTTLED", 429, "Too Many Requests", headers)
        content_type = (headers.get("Content-Type") or headers.get("content-type") or "application/json").split(";")
        json_body = content_type[0].strip().lower() == "application/json"
        if route.model is not None and json_body and not _valid(body, route.model):
            return self.error("BAD_REQUEST_BODY", 400, "Invalid request body", headers)
        claims = verdict.claims if route.authorization == "COGNITO_USER_POOLS" else None
        principal = (
            {"userArn": verdict.claims["userArn"], "accessKey": verdict.claims["accessKey"]}
            if route.authorization == "AWS_IAM"
            else None
        )
        return Admitted(resource, path_parameters, claims, principal)


def _valid(body: bytes, model: dict) -> bool:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        return False
    return jsonschema.Draft4Validator(model).is_valid(document)
