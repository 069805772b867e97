"""Safe releases: CodeDeploy shifts the ``live`` alias to a new version gradually and rolls back on alarm.

Terraform publishes a version and creates the alias; from then on CodeDeploy owns which version(s) the alias
serves (``make release`` starts a deployment), so Terraform ignores the alias's version and routing weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_config import (
    CodedeployDeploymentConfig,
    CodedeployDeploymentConfigTrafficRoutingConfig,
    CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary,
    CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedLinear,
)
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupDeploymentStyle,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.account import AccountContext
from modules.function import Function
from modules.iam import document, trust
from modules.validation import Checks

STRATEGIES = ("all_at_once", "canary", "linear", "direct")
# CodeDeploy's predefined Lambda configurations; anything else gets a custom one.
PREDEFINED = {
    ("all_at_once", 100, 0): "CodeDeployDefault.LambdaAllAtOnce",
    **{("canary", 10, m): f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes" for m in (5, 10, 15, 30)},
    **{
        ("linear", 10, m): f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}"
        for m in (1, 2, 3, 10)
    },
}
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


@dataclass(frozen=True)
class ReleaseConfig:
    """How a new version reaches the ``live`` alias."""

    strategy: str = "all_at_once"
    """``all_at_once``, ``canary`` (``percent`` first, the rest after ``interval_minutes``) or ``linear``
    (``percent`` more every ``interval_minutes``), each a CodeDeploy deployment; or ``direct``: no CodeDeploy,
    every apply points the alias at the version it publishes (no gradual shift, no alarm rollback). Default
    all_at_once."""
    percent: int = 100
    """Canary: the first share of traffic; linear: the share added per step (1..99; 100 for all_at_once)."""
    interval_minutes: int = 0
    """Canary: minutes before the rest; linear: minutes between steps (1..120; 0 for all_at_once)."""
    pre_traffic_hook: bool = False
    """Run the smoke-test function (functions/release_hook) against the new version before any traffic shifts
    (default off; on in prod). A failing hook fails the deployment with no traffic shifted."""

    def __post_init__(self) -> None:
        checks = Checks("release")
        if checks.choice("strategy", self.strategy, STRATEGIES):
            if self.strategy in ("all_at_once", "direct"):
                checks.that(self.percent == 100, "percent", self.percent, f"100 with strategy '{self.strategy}'")
                checks.that(
                    self.interval_minutes == 0,
                    "interval_minutes",
                    self.interval_minutes,
                    f"0 with strategy '{self.strategy}'",
                )
            else:
                checks.int_range("percent", self.percent, 1, 99, "%")
                checks.int_range("interval_minutes", self.interval_minutes, 1, 120, "minutes")
        if checks.type("pre_traffic_hook", self.pre_traffic_hook, bool) and self.strategy == "direct":
            checks.that(
                not self.pre_traffic_hook, "pre_traffic_hook", self.pre_traffic_hook, "False with strategy 'direct'"
            )
        checks.done()

    @property
    def uses_codedeploy(self) -> bool:
        return self.strategy != "direct"

    @property
    def predefined_config(self) -> str | None:
        return PREDEFINED.get((self.strategy, self.percent, self.interval_minutes))

    @property
    def minutes_to_full_traffic(self) -> int:
        """How long a release takes once traffic starts shifting, without the pre-traffic hook."""
        if self.strategy == "canary":
            return self.interval_minutes
        if self.strategy == "linear":
            return -(-100 // self.percent - 1) * self.interval_minutes
        return 0


class Release(Construct):
    """CodeDeploy's application, deployment configuration and deployment group for one function's ``live`` alias."""

    application: CodedeployApp
    """The CodeDeploy application (compute platform Lambda)."""
    deployment_group: CodedeployDeploymentGroup
    """Blue/green with traffic control on the alias, stopped and rolled back by the gating alarms."""
    name: str
    """The CodeDeploy application's name (a plain string)."""
    deployment_group_name: str
    """``<name>-live`` (a plain string)."""
    deployment_config_name: str
    """A predefined ``CodeDeployDefault.Lambda*`` configuration, or the custom one made here."""
    role: IamRole
    """CodeDeploy's service role: this alias, these alarms and the hook only."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ReleaseConfig,
        name: str,
        function: Function,
        alarms: list[CloudwatchMetricAlarm],
        account: AccountContext,
        hook: Function | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.name, self.deployment_group_name = name, f"{name}-live"
        if not config.uses_codedeploy:
            raise ValueError("release.strategy='direct' needs no Release construct: build it only for CodeDeploy")
        function.hand_alias_to_releases()
        alarm_names = [alarm.alarm_name for alarm in alarms]  # references: the group waits for the alarms
        self.application = CodedeployApp(self, "application", name=name, compute_platform="Lambda")
        self.deployment_config_name = config.predefined_config or self._custom_config(config, name)
        function_arn = account.arn("lambda", f"function:{function.name}")
        statements = [
            # Lambda authorizes alias reads and updates against the unqualified function ARN, and provisioned
            # concurrency against the alias's (Service Authorization Reference, Lambda).
            {
                "Sid": "ShiftTheAlias",
                "Effect": "Allow",
                "Action": ["lambda:GetAlias", "lambda:UpdateAlias"],
                "Resource": function_arn,
            },
            # CodeDeploy reads provisioned concurrency of the alias and of the versions it shifts between.
            {
                "Sid": "ReadProvisionedConcurrency",
                "Effect": "Allow",
                "Action": "lambda:GetProvisionedConcurrencyConfig",
                "Resource": f"{function_arn}:*",
            },
            {
                "Sid": "ReadTheGatingAlarms",
                "Effect": "Allow",
                "Action": "cloudwatch:DescribeAlarms",
                "Resource": [account.arn("cloudwatch", f"alarm:{alarm}") for alarm in alarm_names],
            },
        ]
        if hook is not None:
            statements.append(
                {
                    "Sid": "RunThePreTrafficHook",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": [
                        account.arn("lambda", f"function:{hook.name}"),
                        account.arn("lambda", f"function:{hook.name}:*"),
                    ],
                }
            )
        # CodeDeploy documents its service role's trust without a condition.
        self.role = IamRole(
            self,
            "role",
            name=f"{name}-codedeploy",
            assume_role_policy=trust("codedeploy.amazonaws.com"),
            permissions_boundary=account.role_boundary_arn,
        )
        policy = IamRolePolicy(
            self, "policy", role=self.role.id, name="release-this-alias", policy=document(statements)
        )
        self.deployment_group = CodedeployDeploymentGroup(
            self,
            "group",
            app_name=self.application.name,
            deployment_group_name=self.deployment_group_name,
            service_role_arn=self.role.arn,
            deployment_config_name=self.deployment_config_name,
            deployment_style=CodedeployDeploymentGroupDeploymentStyle(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"
            ),
            alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(enabled=True, alarms=alarm_names),
            auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=True, events=list(ROLLBACK_EVENTS)
            ),
            depends_on=[policy],
        )

    def _custom_config(self, config: ReleaseConfig, name: str) -> str:
        time_based = {"percentage": config.percent, "interval": config.interval_minutes}
        routing = CodedeployDeploymentConfigTrafficRoutingConfig(
            type="TimeBasedCanary" if config.strategy == "canary" else "TimeBasedLinear",
            time_based_canary=CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary(**time_based)
            if config.strategy == "canary"
            else None,
            time_based_linear=CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedLinear(**time_based)
            if config.strategy == "linear"
            else None,
        )
        custom = CodedeployDeploymentConfig(
            self,
            "config",
            deployment_config_name=f"{name}-{config.strategy}-{config.percent}pct-{config.interval_minutes}min",
            compute_platform="Lambda",
            traffic_routing_config=routing,
        )
        return custom.deployment_config_name
