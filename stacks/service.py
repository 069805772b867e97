"""One environment's application stack: composes the modules and keeps its state in the remote backend."""

from __future__ import annotations

import json

from cdktf import Fn, TerraformOutput, TerraformStack
from constructs import Construct

from modules import openapi
from modules.account import AccountContext
from modules.api import Api
from modules.api_domain import ApiDomain
from modules.autoscaling import ProvisionedConcurrencyAutoscaling
from modules.aws_provider import RegionLockedProvider
from modules.encryption_key import EncryptionKey
from modules.function import Function
from modules.identity import Identity
from modules.log_archive import LogArchive
from modules.log_query import LogQuery
from modules.log_shipping import LogShipping
from modules.monitoring import Monitoring
from modules.release import Release
from modules.remote_state import configure_remote_state
from modules.role_boundary import boundary_policy_path
from modules.waf import Waf
from stacks import contract
from stacks.environments import EnvironmentConfig
from stacks.packaging import lambda_code


class ServiceStack(TerraformStack):
    """The REST API, its function, the log archive and the monitoring of one environment."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self.policy_exemptions = config.policy_exemptions
        self.backend = configure_remote_state(self, config=config.state, emulator=config.emulator)
        self.provider = RegionLockedProvider(self, "provider", config=config.provider)
        self.account = account = AccountContext(
            self, "account", role_boundary=boundary_policy_path(f"{config.app_name}-{config.environment}")
        )
        self.key = EncryptionKey(self, "key", config=config.encryption_key, account=account)
        self.log_archive = LogArchive(self, "log_archive", config=config.log_archive, key=self.key, account=account)
        self.log_shipping = LogShipping(
            self, "log_shipping", config=config.log_shipping, archive=self.log_archive, key=self.key, account=account
        )
        self.function = Function(
            self,
            "function",
            config=config.api_function,
            code=lambda_code(config.api_function),
            key=self.key,
            shipping=self.log_shipping,
            account=account,
        )
        self.autoscaling = (
            ProvisionedConcurrencyAutoscaling(self, "autoscaling", config=config.autoscaling, function=self.function)
            if config.autoscaling.enable_provisioned_concurrency
            else None
        )
        document = contract.document()
        self.identity = (
            Identity(self, "identity", config=config.identity, scopes=openapi.oauth_scopes(document), account=account)
            if config.identity
            else None
        )
        self.api = Api(
            self,
            "api",
            config=config.api,
            function=self.function,
            contract=document,
            shipping=self.log_shipping,
            account=account,
            identity=self.identity,
            execute_api_endpoint=config.domain is None,
        )
        self.domain = ApiDomain(self, "domain", config=config.domain, api=self.api) if config.domain else None
        self.waf = (
            Waf(
                self,
                "waf",
                config=config.waf,
                stage_arn=self.api.stage.arn,
                shipping=self.log_shipping,
                account=account,
            )
            if config.waf
            else None
        )
        self.release_hook = self._release_hook(config, account)
        # After every module that ships a log group: each shipped source gets its table.
        self.log_query = LogQuery(
            self,
            "log_query",
            config=config.log_query,
            archive=self.log_archive,
            shipping=self.log_shipping,
            key=self.key,
            account=account,
        )
        # After every function and log group: it watches every delivery stream the modules above registered.
        self.monitoring = Monitoring(
            self,
            "monitoring",
            config=config.monitoring,
            key=self.key,
            function=self.function,
            api=self.api,
            shipping=self.log_shipping,
            account=account,
            provisioned_concurrency=self.autoscaling is not None,
            other_functions=(self.release_hook,) if self.release_hook else (),
            release_gates=config.release.uses_codedeploy,
        )
        self.release = (
            Release(
                self,
                "release",
                config=config.release,
                name=self.prefix,
                function=self.function,
                alarms=self.monitoring.release_alarms,
                account=account,
                hook=self.release_hook,
            )
            if config.release.uses_codedeploy
            else None
        )
        self._outputs()

    @property
    def prefix(self) -> str:
        return f"{self.config.app_name}-{self.config.environment}"

    def _release_hook(self, config: EnvironmentConfig, account: AccountContext) -> Function | None:
        """The pre-traffic smoke test: invokes new versions of the API function, reports to CodeDeploy."""
        if config.release_hook is None:
            return None
        hook = Function(
            self,
            "release_hook",
            config=config.release_hook,
            code=lambda_code(config.release_hook),
            key=self.key,
            shipping=self.log_shipping,
            account=account,
        )
        hook.allow(
            {
                "Sid": "InvokeNewVersions",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": account.arn("lambda", f"function:{self.function.name}:*"),
            }
        )
        hook.allow(
            {
                "Sid": "ReadTheDeployment",
                "Effect": "Allow",
                "Action": "codedeploy:GetDeployment",
                "Resource": account.arn("codedeploy", f"deploymentgroup:{self.prefix}/{self.prefix}-live"),
            }
        )
        # This action has no resource-level permission (Service Authorization Reference, CodeDeploy): a statement
        # scoped to the deployment group never matches, and every release would fail at its hook.
        hook.allow(
            {
                "Sid": "ReportToCodeDeploy",
                "Effect": "Allow",
                "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
                "Resource": "*",
            }
        )
        return hook

    def _outputs(self) -> None:
        outputs = {
            "api_url": (
                self.domain.url if self.domain else self.api.url,
                "Where callers call the API (the custom domain when there is one)",
            ),
            "identity_settings": (
                Fn.jsonencode(
                    {
                        "user_pool_id": self.identity.user_pool_id,
                        "issuer": self.identity.issuer,
                        "token_url": self.identity.token_url or "",
                        "scopes": sorted(self.identity.scopes),
                        "access_token_validity_minutes": self.identity.access_token_validity_minutes,
                        "created": self.identity.user_pool is not None,
                    }
                )
                if self.identity
                else "null",
                "The user pool whose access tokens the API accepts (JSON): `make client` issues app clients into it",
            ),
            "usage_plan_id": (self.api.usage_plan.id, "Usage plan whose keys `make client` issues (x-api-key)"),
            "function_name": (self.function.lambda_function.function_name, "Lambda function name"),
            "function_alias_arn": (self.function.alias.arn, "ARN of the alias API Gateway invokes"),
            "log_bucket_name": (self.log_archive.bucket.bucket, "Versioned, KMS-encrypted bucket of every log line"),
            "glue_database_name": (self.log_query.database.name, "Glue database of the archive's tables"),
            "athena_workgroup_name": (
                self.log_query.workgroup.name,
                "Athena workgroup of `make query` (saved queries)",
            ),
            "saved_queries": (
                json.dumps(
                    {
                        q.name: {"description": q.description, "parameters": list(q.parameters), "sql": q.sql}
                        for q in self.log_query.saved_queries
                    },
                    separators=(",", ":"),
                ),
                "The runbook's queries of `make query` (JSON: name to description, parameters in order, Athena SQL)",
            ),
            "archive_reader_role_arn": (
                self.log_query.reader_role.arn,
                "Role to assume to query the archive (Athena, read only)",
            ),
            "kms_key_arn": (self.key.arn, "The stack's customer-managed KMS key"),
            "dashboard_name": (self.monitoring.dashboard.dashboard_name, "CloudWatch dashboard of this stack"),
            "alarm_count": (str(len(self.monitoring.alarms)), "Number of CloudWatch alarms this stack creates"),
            "alarm_topic_arn": (self.monitoring.topic.arn, "SNS topic every alarm notifies"),
            "log_group_names": (
                Fn.jsonencode([g.name for g in self.log_shipping.log_groups.values()]),
                "Every shipped log group (JSON list)",
            ),
        }
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
