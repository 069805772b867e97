"""A local stand-in for the deployed stage: the function's handler, in-process, behind a loopback HTTP server that
does what API Gateway does in front of it.

It reads the synthesized ``local`` stack, so it serves what would be deployed (stage.py): the function's handler and
environment, the API's resources and methods (built from the OpenAPI contract, so routes are matched as API Gateway
matches them), each method's caller check, request model and CORS preflight, the gateway responses, the stage's
throttle, the usage plan's per-key throttle, and the keys and user pool on the emulator. Like the stage
(gateway.py), the runner refuses a missing or bad token (401) or one without the method's scope (403), an unsigned
request to a signed method (403), a missing or wrong ``x-api-key`` (403), requests over the throttle (429) and
bodies that fail the method's model (422), with the stage's own response templates; everything else becomes an API
Gateway REST proxy event (format 1.0) with the caller's claims or principal.

The handler is imported from ``functions/`` and re-imported when a source file changes (handler_source.py). The
function's stdout and the stage's access-log lines are forwarded to the emulator's CloudWatch Logs groups, whose
subscriptions carry them into the archive (log_forwarder.py).

``python -m tools.local_api serve|start|stop [--port N]``; default port ``LOCAL_API_PORT`` (4600).
"""

from tools.local_api.gateway import TokenBucket
from tools.local_api.handler_source import HandlerSource, check_host_dependencies
from tools.local_api.server import (
    DEFAULT_PORT,
    KEYS_TTL_SECONDS,
    LocalApi,
    main,
    serve,
    start_background,
    stop_background,
)
from tools.local_api.stage import match_route, read_routes, read_stage

__all__ = [
    "DEFAULT_PORT",
    "KEYS_TTL_SECONDS",
    "HandlerSource",
    "LocalApi",
    "TokenBucket",
    "check_host_dependencies",
    "main",
    "match_route",
    "read_routes",
    "read_stage",
    "serve",
    "start_background",
    "stop_background",
]
