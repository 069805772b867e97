"""One environment's application stack: composes the modules and keeps its state in the remote backend."""

from __future__ import annotations

import json

from cdktf import Fn, TerraformOutput, TerraformStack
from constructs import Construct

from modules import openapi
from modules.account import AccountContext
from modules.api import Api
from modules.api_domain import ApiDomain
from modules.aws_provider import RegionLockedProvider
from modules.encryption_key import EncryptionKey
from modules.function import Function
from modules.identity import Identity
from modules.log_archive import LogArchive
from modules.log_query import LogQuery
from modules.log_shipping import LogShipping
from modules.monitoring import Monitoring
from modules.remote_state import configure_remote_state
from modules.role_boundary import boundary_policy_path
from modules.route_group import RouteGroup
from modules.validation import message, report
from modules.waf import Waf
from stacks import contract
from stacks.environments import EnvironmentConfig
from stacks.packaging import lambda_code


class ServiceStack(TerraformStack):
    """The REST API, its route groups' functions, the log archive and the monitoring of one environment."""

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
        # Before the route groups: each adds its alarms, which notify this topic, and its release is gated by the
        # API's alarms too.
        self.monitoring = Monitoring(
            self, "monitoring", config=config.monitoring, key=self.key, account=account, api=config.api
        )
        self.route_groups = {
            name: RouteGroup(
                self,
                # The first group keeps the stack's historical addresses and names (see RouteGroup).
                "Default" if index == 0 else f"group_{name}",
                config=group,
                code=lambda_code,
                key=self.key,
                shipping=self.log_shipping,
                account=account,
                monitoring=self.monitoring,
                release_name=self.prefix if index == 0 else f"{self.prefix}-{name}",
                alarm_prefix="" if index == 0 else f"{name}-",
            )
            for index, (name, group) in enumerate(config.served_route_groups.items())
        }
        self.primary = next(iter(self.route_groups.values()))
        packages = {name: group.package for name, group in self.route_groups.items()}
        document = contract.document(packages=tuple(packages.values()))
        self.routes = contract.route_owners(packages)  # the route group serving each of the contract's paths
        _check_smoke_checks(config, self.routes, document)
        self.identity = (
            Identity(self, "identity", config=config.identity, scopes=openapi.oauth_scopes(document), account=account)
            if config.identity
            else None
        )
        self.api = Api(
            self,
            "api",
            config=config.api,
            functions={name: group.function for name, group in self.route_groups.items()},
            routes=self.routes,
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
        self.monitoring.watch(
            shipping=self.log_shipping, overview=[g for group in self.route_groups.values() for g in group.graphs]
        )
        self._outputs()

    @property
    def prefix(self) -> str:
        return f"{self.config.app_name}-{self.config.environment}"

    @property
    def function(self) -> Function:
        """The first route group's function (what answers every undeclared path)."""
        return self.primary.function

    def _route_group_outputs(self) -> dict:
        return {
            name: {
                "primary": group is self.primary,
                "function_name": group.function.name,
                "handler": config.function.handler,
                "alias": group.function.alias_name,
                "log_group": f"/aws/lambda/{group.function.name}",
                "paths": sorted(path for path, owner in self.routes.items() if owner == name),
                "release": {
                    "strategy": config.release.strategy,
                    "application": group.release.name if group.release else None,
                    "deployment_group": group.release.deployment_group_name if group.release else None,
                    "hook": group.release_hook.name if group.release_hook else None,
                    "scaled": group.autoscaling is not None,
                },
            }
            for (name, group), config in zip(self.route_groups.items(), self.config.route_groups.values(), strict=True)
        }

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
            "function_name": (self.function.lambda_function.function_name, "The first route group's function name"),
            "function_alias_arn": (self.function.alias.arn, "ARN of the first route group's alias"),
            "route_groups": (
                json.dumps(self._route_group_outputs(), separators=(",", ":"), sort_keys=True),
                "Each route group (JSON): its function, handler, alias, log group, release, the paths it serves; "
                "what `make serve`, `make release` and `make logs` read",
            ),
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


def _check_smoke_checks(config: EnvironmentConfig, routes: dict[str, str], document: dict) -> None:
    """Each group's smoke checks ask an operation that group serves: a check of another group's path would test the
    wrong function and fail every release (or, with the first group's fallback, pass on a 404)."""
    problems = []
    for name, group in config.served_route_groups.items():
        own = sorted(path for path, owner in routes.items() if owner == name)
        for index, check in enumerate(group.smoke_checks):
            field = f"route_groups.{name}.smoke_checks[{index}]"
            methods = document["paths"].get(check.path, {})
            if routes.get(check.path) != name:
                problems.append(message(f"{field}.path", check.path, "one of the group's paths: " + ", ".join(own)))
            elif check.method.lower() not in methods:
                allowed = ", ".join(sorted(m.upper() for m in methods if m != "parameters"))
                problems.append(message(f"{field}.method", check.method, f"one the contract declares: {allowed}"))
    report(problems)
