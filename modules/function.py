"""The API's Lambda function: packaged reproducibly, traced, logged to a shipped group, invoked via an alias."""

from __future__ import annotations

import re

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
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

from modules.account import AccountContext
from modules.alarms import Metric
from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.function_config import ALIAS_NAME, FunctionConfig, LambdaCode
from modules.iam import document, trust
from modules.log_shipping import LogShipping


class Function(Construct):
    """A Python Lambda function invoked through its ``live`` alias: traced, logged to a shipped group, with an
    encrypted environment, a dead-letter queue and a least-privilege role."""

    lambda_function: LambdaFunction
    """The function; ``publish`` is on, so every code or config change is a new version."""
    alias: LambdaAlias
    """``live``: what API Gateway invokes; roll back by pointing it at an older version."""
    role: IamRole
    """The execution role."""
    log_group: CloudwatchLogGroup
    """``/aws/lambda/<name>``, encrypted, retained and shipped to the archive."""
    dead_letter_queue: SqsQueue | None
    """Encrypted queue of asynchronous invocations that failed every retry."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: FunctionConfig,
        code: LambdaCode,
        key: EncryptionKey,
        shipping: LogShipping,
        account: AccountContext,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        asset = TerraformAsset(self, "code", path=str(code.zip_path), type=AssetType.FILE)
        self.log_group = shipping.log_group(
            self, "log_group", name=f"/aws/lambda/{config.name}", source=f"lambda/{config.name}"
        )
        self.dead_letter_queue = (
            SqsQueue(
                self,
                "dead_letters",
                name=f"{config.name}-dead-letters",  # dead_letter_queue_name
                kms_master_key_id=key.key.arn,
                kms_data_key_reuse_period_seconds=300,
                message_retention_seconds=14 * 24 * 3600,
            )
            if config.enable_dead_letter_queue
            else None
        )
        self.role = IamRole(
            self,
            "role",
            name=f"{config.name}-exec",
            # Lambda documents no confused-deputy condition for execution roles: only a principal allowed to pass
            # this role (iam:PassRole, in this account) can attach it to a function.
            assume_role_policy=trust("lambda.amazonaws.com"),
            permissions_boundary=account.role_boundary_arn,
        )
        function_arn = account.arn("lambda", f"function:{config.name}")
        # Lambda decrypts the environment at cold start with the execution role, through Lambda, with the
        # unqualified function ARN as encryption context (LambdaFunctionName is only the console's client-side
        # helpers' context, which Lambda itself never sends).
        environment_context = {"kms:EncryptionContext:aws:lambda:FunctionArn": function_arn}
        key.grant_to_role(
            f"{_sid(config.name)}DecryptsItsEnvironment",
            self.role.arn,
            ["kms:Decrypt"],
            via_service="lambda",
            condition={"StringEquals": environment_context},
        )
        # SQS asks KMS with the queue's ARN as encryption context (aws:sqs:arn). Built from the name: the queue
        # refers to the key, so the key's policy cannot refer to the queue.
        queue_context = (
            {"kms:EncryptionContext:aws:sqs:arn": account.arn("sqs", self.dead_letter_queue_name)}
            if self.dead_letter_queue_name
            else {}
        )
        if self.dead_letter_queue:
            key.grant_to_role(
                f"{_sid(config.name)}SendsDeadLetters",
                self.role.arn,
                ["kms:GenerateDataKey", "kms:Decrypt"],
                via_service="sqs",
                condition={"StringEquals": queue_context},
            )
        self._statements: list[dict] = [
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{self.log_group.arn}:log-stream:*",
            },
            # X-Ray has no resource-level permissions for these two actions.
            {
                "Sid": "Tracing",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
            {
                "Sid": "DecryptOwnEnvironment",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key.key.arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"lambda.{REGION}.amazonaws.com", **environment_context}
                },
            },
        ]
        if self.dead_letter_queue:
            self._statements += [
                {
                    "Sid": "DeadLetters",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": self.dead_letter_queue.arn,
                },
                {
                    "Sid": "EncryptDeadLetters",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": key.key.arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com", **queue_context}},
                },
            ]
        self._policy = policy = IamRolePolicy(
            self, "policy", role=self.role.id, name="least-privilege", policy=document(self._statements)
        )
        self.lambda_function = LambdaFunction(
            self,
            "function",
            function_name=config.name,
            role=self.role.arn,
            runtime=config.runtime,
            handler=config.handler,
            architectures=[config.architecture],
            filename=asset.path,
            source_code_hash=code.sha256_base64,
            memory_size=config.memory_size_mb,
            timeout=config.timeout_seconds,
            reserved_concurrent_executions=config.reserved_concurrency,
            publish=True,
            kms_key_arn=key.key.arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(
                log_format="JSON",
                log_group=self.log_group.name,
                application_log_level=config.log_level,
                system_log_level="WARN",
            ),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn)
            if self.dead_letter_queue
            else None,
            environment=LambdaFunctionEnvironment(
                variables={
                    "POWERTOOLS_SERVICE_NAME": config.service_name,
                    "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
                    "POWERTOOLS_LOG_LEVEL": config.log_level,
                    "SERVICE_VERSION": config.version,
                    **config.environment,
                }
            ),
            depends_on=[policy, self.log_group],
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(config.ignore_changes))
            if config.ignore_changes
            else None,
        )
        self.alias = LambdaAlias(
            self,
            "alias",
            name=ALIAS_NAME,
            function_name=self.lambda_function.function_name,
            function_version=self.lambda_function.version,
            description="What API Gateway invokes; roll back by pointing it at an older version",
        )
        for suffix, qualifier in (("", self.alias.name), ("_by_name", None))[: 2 if config.invoked_by_name else 1]:
            LambdaFunctionEventInvokeConfig(
                self,
                f"async_invocations{suffix}",
                function_name=self.lambda_function.function_name,
                qualifier=qualifier,
                maximum_retry_attempts=config.async_retry_attempts,
                maximum_event_age_in_seconds=config.async_max_event_age_seconds,
            )

    def allow(self, statement: dict) -> None:
        """Add a statement to the execution role's policy (for what this function's own code calls)."""
        self._statements.append(statement)
        self._policy.policy = document(self._statements)

    def hand_alias_to_releases(self) -> None:
        """From now on something else (CodeDeploy) moves the alias: Terraform sets its version and weights at
        creation and ignores them afterwards, so a plan after a release shows no change."""
        self.alias.lifecycle = TerraformResourceLifecycle(ignore_changes=["function_version", "routing_config"])
        self.alias.description = "What API Gateway invokes; CodeDeploy shifts it to new versions (make release)"

    def metric(self, name: str, stat: str = "Sum", *, of: str = "alias", version: str | None = None) -> Metric:
        """Lambda's metric ``name`` of this function, with the dimensions Lambda publishes it under: ``of="alias"``
        the ``live`` alias (what callers reach), ``of="function"`` every version together; ``version`` narrows the
        alias's metric to the invocations that ran that version (``ExecutedVersion``, what a release gate watches)."""
        if of not in ("alias", "function"):
            raise ValueError(f"of={of!r}: allowed 'alias' or 'function'")
        dimensions = {"FunctionName": self.name}
        if of == "alias":
            dimensions["Resource"] = f"{self.name}:{ALIAS_NAME}"
        if version is not None:
            dimensions["ExecutedVersion"] = version
        return Metric("AWS/Lambda", name, dimensions, stat)

    @property
    def name(self) -> str:
        """The function name (a plain string, known at synth)."""
        return self._config.name

    @property
    def alias_name(self) -> str:
        return ALIAS_NAME

    @property
    def dead_letter_queue_name(self) -> str | None:
        """The dead-letter queue's name (a plain string: the ``QueueName`` metric dimension), or None."""
        return f"{self._config.name}-dead-letters" if self._config.enable_dead_letter_queue else None

    @property
    def timeout_seconds(self) -> int:
        return self._config.timeout_seconds

    @property
    def reserved_concurrency(self) -> int:
        return self._config.reserved_concurrency

    @property
    def service_name(self) -> str:
        return self._config.service_name

    @property
    def metrics_namespace(self) -> str:
        return self._config.metrics_namespace


def _sid(name: str) -> str:
    """``serverless-app-prod-api`` -> ``ServerlessAppProdApi``: a key-policy Sid may hold only letters and digits."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)
