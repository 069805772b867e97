"""The API's Lambda function: packaged reproducibly, traced, logged to a shipped group, invoked via an alias."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.iam import document, trust
from modules.log_shipping import LogShipping
from modules.validation import check_choice, check_each, check_int_range, check_pattern, check_type, fail
from tools import bundle

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
RUNTIMES = {"python3.12": "3.12", "python3.13": "3.13"}
ALIAS_NAME = "live"
# Set by Lambda itself; a function that sets one is rejected by the Lambda API at deploy time.
RESERVED_ENVIRONMENT = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")


@dataclass(frozen=True)
class FunctionConfig:
    """The function's tunables.

    - ``name``: function name (1-64 of A-Z, a-z, 0-9, '-', '_').
    - ``source``: package under ``functions/`` (default ``api``); ``handler`` its entry point.
    - ``runtime`` (default python3.12) and ``architecture`` (default arm64: cheaper per GB-second).
    - ``memory_size_mb`` (default 256, 128..10240) and ``timeout_seconds`` (default 10, 1..29: API Gateway
      gives up on an integration after 29 s, so a longer timeout only burns concurrency).
    - ``reserved_concurrency`` (default 50, 1..1000): the most concurrent executions this function may take
      from the account, and a guarantee it always has them.
    - ``service_name``, ``metrics_namespace``, ``log_level`` (default INFO) and ``environment`` (extra variables;
      Lambda's reserved names are refused).
    - ``async_retry_attempts`` (default 2) and ``async_max_event_age_seconds`` (default 3600) for any
      asynchronous invocation; failures after that land in the dead-letter queue.
    - ``ignore_changes`` (default none): function arguments Terraform should not compare after creation. Only
      the local emulator needs it: it does not return some settings, so every plan would re-add them.
    """

    name: str
    service_name: str
    metrics_namespace: str
    source: str = "api"
    handler: str = "api.handler.lambda_handler"
    runtime: str = "python3.12"
    architecture: str = "arm64"
    memory_size_mb: int = 256
    timeout_seconds: int = 10
    reserved_concurrency: int = 50
    log_level: str = "INFO"
    version: str = "1.0.0"
    environment: Mapping[str, str] = field(default_factory=dict)
    async_retry_attempts: int = 2
    async_max_event_age_seconds: int = 3600
    ignore_changes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_pattern("function.name", self.name, r"[A-Za-z0-9_-]{1,64}", "1-64 characters of A-Z, a-z, 0-9, '-', '_'")
        check_pattern("function.service_name", self.service_name, r"[A-Za-z0-9_.-]{1,64}",
                      "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'")
        check_pattern("function.metrics_namespace", self.metrics_namespace, r"(?!AWS/)[A-Za-z0-9_./#:-]{1,255}",
                      "1-255 characters of A-Z, a-z, 0-9, '.', '_', '-', '/', '#', ':', not starting with 'AWS/'")
        if not (FUNCTIONS_DIR / self.source).is_dir():
            raise fail("function.source", self.source, f"a package directory under {FUNCTIONS_DIR}")
        check_pattern("function.handler", self.handler, r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*", "'module.path.function'")
        check_choice("function.runtime", self.runtime, RUNTIMES)
        check_choice("function.architecture", self.architecture, bundle.PLATFORMS)
        check_int_range("function.memory_size_mb", self.memory_size_mb, 128, 10240, "MB")
        check_int_range("function.timeout_seconds", self.timeout_seconds, 1, 29, "seconds")
        check_int_range("function.reserved_concurrency", self.reserved_concurrency, 1, 1000, "executions")
        check_choice("function.log_level", self.log_level, LOG_LEVELS)
        check_int_range("function.async_retry_attempts", self.async_retry_attempts, 0, 2)
        check_int_range("function.async_max_event_age_seconds", self.async_max_event_age_seconds, 60, 21600,
                        "seconds")
        check_type("function.environment", self.environment, Mapping)
        check_each("function.ignore_changes", self.ignore_changes,
                   lambda f, v: check_choice(f, v, ("dead_letter_config", "logging_config")))
        for key, value in self.environment.items():
            if key in RESERVED_ENVIRONMENT or key.startswith("AWS_LAMBDA_"):
                raise fail(f"function.environment[{key!r}]", value,
                           "a name Lambda does not reserve (reserved: " + ", ".join(sorted(RESERVED_ENVIRONMENT))
                           + ", AWS_LAMBDA_*)")
            check_pattern(f"function.environment[{key!r}]", key, r"[A-Za-z][A-Za-z0-9_]*",
                          "names of letters, digits and '_', starting with a letter")


class Function(Construct):
    """Exposes ``function``, ``alias`` (what API Gateway invokes), ``role``, ``log_group``,
    ``dead_letter_queue`` and ``bundle``."""

    def __init__(self, scope: Construct, id: str, *, config: FunctionConfig, key: EncryptionKey,
                 shipping: LogShipping) -> None:
        super().__init__(scope, id)
        self.config = config
        self.bundle = bundle.build(FUNCTIONS_DIR / config.source, FUNCTIONS_DIR / "requirements.txt",
                                   python_version=RUNTIMES[config.runtime], architecture=config.architecture)
        asset = TerraformAsset(self, "code", path=str(self.bundle.path), type=AssetType.FILE)
        self.log_group = shipping.log_group(self, "log_group", name=f"/aws/lambda/{config.name}",
                                            source=f"lambda/{config.name}")
        self.dead_letter_queue = SqsQueue(
            self, "dead_letters", name=f"{config.name}-dead-letters", kms_master_key_id=key.key.arn,
            kms_data_key_reuse_period_seconds=300, message_retention_seconds=14 * 24 * 3600)
        account = key.account_id
        self.role = IamRole(self, "role", name=f"{config.name}-exec", assume_role_policy=trust(
            "lambda.amazonaws.com", {"StringEquals": {"aws:SourceAccount": account}}))
        policy = IamRolePolicy(self, "policy", role=self.role.id, name="least-privilege", policy=document([
                {"Sid": "WriteOwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": f"{self.log_group.arn}:log-stream:*"},
                # X-Ray has no resource-level permissions for these two actions.
                {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                 "Resource": "*"},
                {"Sid": "DecryptOwnEnvironment", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key.key.arn,
                 "Condition": {"StringEquals": {"kms:EncryptionContext:LambdaFunctionName": config.name}}},
                {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage",
                 "Resource": self.dead_letter_queue.arn},
                {"Sid": "EncryptDeadLetters", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": key.key.arn,
                 "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}},
            ]))
        self.function = LambdaFunction(
            self, "function",
            function_name=config.name,
            role=self.role.arn,
            runtime=config.runtime,
            handler=config.handler,
            architectures=[config.architecture],
            filename=asset.path,
            source_code_hash=self.bundle.sha256_base64,
            memory_size=config.memory_size_mb,
            timeout=config.timeout_seconds,
            reserved_concurrent_executions=config.reserved_concurrency,
            publish=True,
            kms_key_arn=key.key.arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=self.log_group.name, application_log_level=config.log_level,
                system_log_level="WARN"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn),
            environment=LambdaFunctionEnvironment(variables={
                "POWERTOOLS_SERVICE_NAME": config.service_name,
                "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": config.log_level,
                "SERVICE_VERSION": config.version,
                **config.environment,
            }),
            depends_on=[policy, self.log_group],
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(config.ignore_changes))
            if config.ignore_changes else None,
        )
        self.alias = LambdaAlias(self, "alias", name=ALIAS_NAME, function_name=self.function.function_name,
                                 function_version=self.function.version,
                                 description="What API Gateway invokes; roll back by pointing it at an older version")
        LambdaFunctionEventInvokeConfig(
            self, "async_invocations", function_name=self.function.function_name, qualifier=self.alias.name,
            maximum_retry_attempts=config.async_retry_attempts,
            maximum_event_age_in_seconds=config.async_max_event_age_seconds)
