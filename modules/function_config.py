"""A function's settings (runtime, memory, timeout, concurrency, environment) and its built package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modules.validation import Checks

RUNTIMES = {"python3.12": "3.12", "python3.13": "3.13"}
ARCHITECTURES = ("arm64", "x86_64")
ALIAS_NAME = "live"
# Set by Lambda itself; a function that sets one is rejected by the Lambda API at deploy time.
RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")


@dataclass(frozen=True)
class LambdaCode:
    """A built deployment package: what the stack hands the construct (cf. ``lambda.Code.fromAsset`` in CDK)."""

    zip_path: Path
    """The zip on disk; the construct stages it as a Terraform asset."""
    sha256_base64: str
    """Base64 SHA-256 of the zip: what Lambda reports as ``CodeSha256`` and ``source_code_hash`` expects."""


@dataclass(frozen=True)
class FunctionConfig:
    """The function's tunables; tracing, the encrypted environment, the DLQ and the alias are not."""

    name: str
    """Function name (1-64 of A-Z, a-z, 0-9, '-', '_')."""
    service_name: str
    """``POWERTOOLS_SERVICE_NAME``: the ``service`` key of every log line and metric."""
    metrics_namespace: str
    """``POWERTOOLS_METRICS_NAMESPACE`` of the function's EMF metrics (not ``AWS/...``)."""
    handler: str = "api.handler.lambda_handler"
    """Entry point ``package.module.function``; the stack bundles ``functions/<package>``."""
    runtime: str = "python3.12"
    """``python3.12`` (default) or ``python3.13``."""
    architecture: str = "arm64"
    """``arm64`` (default: cheaper per GB-second) or ``x86_64``; the bundle's wheels are built for it."""
    memory_size_mb: int = 256
    """Memory, and with it CPU (128..10240 MB; default 256)."""
    timeout_seconds: int = 10
    """Invocation timeout (1..29 s; default 10). API Gateway gives up on an integration after 29 s, so a longer
    timeout only burns concurrency."""
    reserved_concurrency: int = 50
    """Concurrent executions reserved for, and capping, this function (1..1000; default 50)."""
    log_level: str = "INFO"
    """Application log level: DEBUG, INFO (default), WARN or ERROR."""
    version: str = "1.0.0"
    """``SERVICE_VERSION`` reported by ``GET /health``."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables (default none); Lambda's reserved names and ``AWS_LAMBDA_*`` are refused."""
    async_retry_attempts: int = 2
    """Retries of a failed asynchronous invocation (0..2; default 2)."""
    async_max_event_age_seconds: int = 3600
    """How long an asynchronous event may wait (60..21600 s; default 3600); then it goes to the DLQ."""
    enable_dead_letter_queue: bool = True
    """Keep asynchronous invocations that failed every retry in an encrypted SQS queue (default on). Only the
    emulator turns it off: it never invokes asynchronously (it cannot run Lambda code), does not return the
    setting, and creating the encrypted queue alone takes 26 s (the provider waits for six equal reads)."""
    invoked_by_name: bool = False
    """Callers invoke the function by name, not through its alias (CodeDeploy runs a release hook that way), so
    the asynchronous settings go on the unqualified function too: a retried hook would report twice (default
    off)."""
    ignore_changes: tuple[str, ...] = ()
    """Function arguments Terraform should not compare after creation (default none). Only the local emulator
    needs it: it does not return ``dead_letter_config`` and ``logging_config``, so every plan would re-add them."""

    def __post_init__(self) -> None:
        checks = Checks("function")
        checks.pattern("name", self.name, r"[A-Za-z0-9_-]{1,64}", "1-64 characters of A-Z, a-z, 0-9, '-', '_'")
        checks.pattern(
            "service_name",
            self.service_name,
            r"[A-Za-z0-9_.-]{1,64}",
            "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
        )
        checks.pattern(
            "metrics_namespace",
            self.metrics_namespace,
            r"(?!AWS/)[A-Za-z0-9_./#:-]{1,255}",
            "1-255 characters of A-Z, a-z, 0-9, '.', '_', '-', '/', '#', ':', not starting with 'AWS/'",
        )
        checks.pattern("handler", self.handler, r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", "'package.module.function'")
        checks.choice("runtime", self.runtime, RUNTIMES)
        checks.choice("architecture", self.architecture, ARCHITECTURES)
        checks.int_range("memory_size_mb", self.memory_size_mb, 128, 10240, "MB")
        checks.int_range("timeout_seconds", self.timeout_seconds, 1, 29, "seconds")
        checks.int_range("reserved_concurrency", self.reserved_concurrency, 1, 1000, "executions")
        checks.choice("log_level", self.log_level, LOG_LEVELS)
        checks.int_range("async_retry_attempts", self.async_retry_attempts, 0, 2)
        checks.int_range("async_max_event_age_seconds", self.async_max_event_age_seconds, 60, 21600, "seconds")
        checks.type("enable_dead_letter_queue", self.enable_dead_letter_queue, bool)
        checks.type("invoked_by_name", self.invoked_by_name, bool)
        checks.each(
            "ignore_changes",
            self.ignore_changes,
            lambda f, v: checks.choice(f, v, ("dead_letter_config", "logging_config")),
        )
        if checks.type("environment", self.environment, Mapping):
            for key, value in self.environment.items():
                if key in RESERVED_ENVIRONMENT or str(key).startswith("AWS_LAMBDA_"):
                    checks.add(
                        f"environment[{key!r}]",
                        value,
                        "a name Lambda does not reserve (reserved: "
                        + ", ".join(sorted(RESERVED_ENVIRONMENT))
                        + ", AWS_LAMBDA_*)",
                    )
                else:
                    checks.pattern(
                        f"environment[{key!r}]",
                        key,
                        r"[A-Za-z][A-Za-z0-9_]*",
                        "names of letters, digits and '_', starting with a letter",
                    )
        checks.done()

    @property
    def package(self) -> str:
        """The top-level package of ``handler``: the folder under ``functions/`` that is bundled."""
        return self.handler.split(".", 1)[0]

    @property
    def python_version(self) -> str:
        return RUNTIMES[self.runtime]
