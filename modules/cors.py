"""CORS for browser clients: which origins may call the API, answered three times alike.

- API Gateway answers each path's preflight ``OPTIONS`` itself (a mock integration, no function call), echoing the
  request's ``Origin`` only when it is one of the configured origins;
- the function's responses carry the same headers (Powertools' ``CORSConfig``, from the variables set here);
- API Gateway's own errors (401, 403, 429, 5xx before the function) carry them too, so a browser can read why.
"""

from __future__ import annotations

from dataclasses import dataclass

from modules.validation import Checks

# Headers a browser client sends beyond the CORS-safelisted ones: the token, the usage plan's key, a JSON body,
# and what SigV4 adds.
DEFAULT_HEADERS = ("Authorization", "Content-Type", "X-Api-Key", "X-Amz-Date", "X-Amz-Security-Token")
ORIGIN = r"https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?"


@dataclass(frozen=True)
class CorsConfig:
    """The browser origins the API answers; CORS is off where this is not set (the default)."""

    allowed_origins: tuple[str, ...]
    """Exact origins, ``https://host[:port]`` (``http://`` only for localhost); never ``*``."""
    allowed_headers: tuple[str, ...] = DEFAULT_HEADERS
    """Request headers a browser may send (default: Authorization, Content-Type, X-Api-Key and SigV4's)."""
    allow_credentials: bool = False
    """Let browsers send cookies or TLS client certificates (default off; the API's callers send tokens in a
    header, which needs no credentials mode). With it, exactly one origin: API Gateway's own error responses can
    carry only a fixed origin, and echoing any origin with credentials would be ``*`` with credentials."""
    max_age_seconds: int = 600
    """How long a browser may cache a preflight answer (0..7200 s; default 600)."""

    def __post_init__(self) -> None:
        checks = Checks("api.cors")
        if checks.type("allowed_origins", self.allowed_origins, tuple):
            checks.that(bool(self.allowed_origins), "allowed_origins", self.allowed_origins, "at least one origin")
            checks.each(
                "allowed_origins",
                self.allowed_origins,
                lambda f, v: checks.pattern(
                    f, v, ORIGIN, "an exact origin 'https://host[:port]' ('http://' only for localhost), never '*'"
                ),
            )
        checks.each(
            "allowed_headers",
            self.allowed_headers,
            lambda f, v: checks.pattern(f, v, r"[A-Za-z0-9-]{1,64}", "a header name"),
        )
        if checks.type("allow_credentials", self.allow_credentials, bool) and self.allow_credentials:
            checks.that(
                isinstance(self.allowed_origins, tuple) and len(self.allowed_origins) == 1,
                "allowed_origins",
                self.allowed_origins,
                "exactly one origin with allow_credentials (API Gateway's errors carry a fixed origin)",
            )
        checks.int_range("max_age_seconds", self.max_age_seconds, 0, 7200, "seconds")
        checks.done()

    def function_environment(self) -> dict[str, str]:
        """The variables the handler builds its ``CORSConfig`` from (functions/api/app.py)."""
        return {
            "CORS_ALLOWED_ORIGINS": ",".join(self.allowed_origins),
            "CORS_ALLOWED_HEADERS": ",".join(self.allowed_headers),
            "CORS_ALLOW_CREDENTIALS": "true" if self.allow_credentials else "false",
            "CORS_MAX_AGE_SECONDS": str(self.max_age_seconds),
        }

    def preflight_template(self) -> str:
        """The mock integration's response template: echo ``Origin`` when it is allowed, else no origin header
        (the browser then refuses the call). API Gateway runs this as VTL."""
        allowed = " || ".join(f'$origin == "{origin}"' for origin in self.allowed_origins)
        return (
            '#set($origin = $input.params().header.get("Origin"))\n'
            '#if($origin == "")#set($origin = $input.params().header.get("origin"))#end\n'
            f"#if({allowed})\n"
            "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
            "#end\n"
        )

    def preflight_headers(self, methods: list[str]) -> dict[str, str]:
        """Static headers of every preflight answer (integration response values are quoted literals)."""
        headers = {
            "Access-Control-Allow-Methods": ",".join(sorted({*methods, "OPTIONS"})),
            "Access-Control-Allow-Headers": ",".join(self.allowed_headers),
            "Access-Control-Max-Age": str(self.max_age_seconds),
            "Vary": "Origin",
        }
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def gateway_response_headers(self) -> dict[str, str]:
        """Headers of API Gateway's own error responses, as ``gatewayresponse.header.*`` parameter values: the one
        origin, or the request's when several are allowed. A gateway response cannot choose among origins, and its
        body (why a request was refused) is the same for every caller; the function's own responses and the
        preflight answer only the configured origins."""
        origin = f"'{self.allowed_origins[0]}'" if len(self.allowed_origins) == 1 else "method.request.header.origin"
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "'Origin'"}
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "'true'"
        return headers
