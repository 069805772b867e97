"""A route group: the function that serves a set of the API's paths, with everything that belongs to that one
function: its provisioned-concurrency scaling, its release (CodeDeploy on the ``live`` alias, with an optional
pre-traffic smoke test) and its full alarm set, which also gates its release.

The API sends each of the contract's paths to the group whose package declares it (``stacks/contract.py``); a new
group is a package under ``functions/`` and one entry in ``stacks/environments.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.account import AccountContext
from modules.alarms import AlarmSpec, Metric
from modules.autoscaling import AutoscalingConfig, ProvisionedConcurrencyAutoscaling
from modules.encryption_key import EncryptionKey
from modules.function import Function
from modules.function_alarms import APP_ERROR_METRIC, function_alarm_specs
from modules.function_config import ALIAS_NAME, FunctionConfig, LambdaCode
from modules.log_shipping import LogShipping
from modules.monitoring import Monitoring, graph, widget_metric
from modules.release import Release, ReleaseConfig
from modules.validation import Checks

SMOKE_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# The checks travel in the hook's environment, and Lambda allows 4 KB of variables per function in all.
SMOKE_CHECKS_MAX_CHARS = 2048


@dataclass(frozen=True)
class SmokeCheck:
    """One synthetic request the pre-traffic hook sends the new version before any traffic shifts, and the status
    it must answer; the path must be one the group serves (checked at synth against the contract)."""

    method: str
    """HTTP method (GET, POST, ...)."""
    path: str
    """A path the group serves, e.g. ``/health``."""
    expected_status: int = 200
    """The status the version must answer (100..599; default 200)."""
    body: Mapping[str, Any] | None = None
    """JSON body sent with the request (default none)."""

    def __post_init__(self) -> None:
        checks = Checks("smoke_check")
        checks.choice("method", self.method, SMOKE_METHODS)
        checks.pattern("path", self.path, r"/[A-Za-z0-9/_.{}-]*", "a path starting with '/'")
        checks.int_range("expected_status", self.expected_status, 100, 599)
        if self.body is not None and checks.type("body", self.body, Mapping):
            try:
                json.dumps(self.body)
            except (TypeError, ValueError):
                checks.add("body", self.body, "a JSON object")
        checks.done()

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.expected_status, "body": self.body}


def smoke_checks_json(checks: tuple[SmokeCheck, ...]) -> str:
    """The checks as the hook reads them from ``SMOKE_CHECKS``."""
    return json.dumps([check.as_json() for check in checks], separators=(",", ":"))


@dataclass(frozen=True)
class RouteGroupConfig:
    """One route group: its function and how that function scales and is released."""

    function: FunctionConfig
    """The function; the package of its handler (``functions/<package>/``) declares the group's routes in
    ``app.py`` (a Powertools resolver named ``app``)."""
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    """Provisioned concurrency on its alias (default off)."""
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    """How a new version reaches its ``live`` alias (default a CodeDeploy all-at-once release)."""
    release_hook_name: str | None = None
    """Name of the pre-traffic smoke-test function; required with ``release.pre_traffic_hook`` (default None)."""
    emf_metrics: tuple[str, ...] = ()
    """The EMF metrics its handler emits, graphed on the dashboard (default none)."""
    smoke_checks: tuple[SmokeCheck, ...] = ()
    """What the pre-traffic hook asks the new version, in order; at least one with ``release.pre_traffic_hook``
    (default none)."""

    def __post_init__(self) -> None:
        checks = Checks("route_group")
        typed = {
            "function": checks.type("function", self.function, FunctionConfig),
            "autoscaling": checks.type("autoscaling", self.autoscaling, AutoscalingConfig),
            "release": checks.type("release", self.release, ReleaseConfig),
        }
        checks.type("emf_metrics", self.emf_metrics, tuple)
        if checks.each("smoke_checks", self.smoke_checks, lambda f, v: checks.type(f, v, SmokeCheck)):
            size = len(smoke_checks_json(self.smoke_checks))
            checks.that(
                size <= SMOKE_CHECKS_MAX_CHARS,
                "smoke_checks",
                f"<{size} characters of JSON>",
                f"at most {SMOKE_CHECKS_MAX_CHARS} characters of JSON: they travel in the hook's environment (4 KB)",
            )
        if typed["release"]:
            wanted = self.release.pre_traffic_hook is True
            checks.that(
                wanted == (self.release_hook_name is not None),
                "release_hook_name",
                self.release_hook_name,
                "a function name with release.pre_traffic_hook, None without",
            )
            checks.that(
                not wanted or bool(self.smoke_checks),
                "smoke_checks",
                self.smoke_checks,
                "at least one check with release.pre_traffic_hook: a hook that asks nothing would pass any version",
            )
        if self.release_hook_name is not None:
            checks.pattern("release_hook_name", self.release_hook_name, r"[A-Za-z0-9_-]{1,64}", "1-64 of A-Z, 0-9, -_")
        if typed["function"] and typed["autoscaling"] and self.autoscaling.enable_provisioned_concurrency is True:
            checks.that(
                self.autoscaling.max_capacity <= self.function.reserved_concurrency,
                "autoscaling.max_capacity",
                self.autoscaling.max_capacity,
                f"<= function.reserved_concurrency ({self.function.reserved_concurrency}): provisioned "
                "concurrency comes out of the function's reservation",
            )
        checks.done()

    @property
    def release_hook(self) -> FunctionConfig | None:
        """The pre-traffic smoke-test function (functions/release_hook), derived from ``function``."""
        if self.release_hook_name is None:
            return None
        return FunctionConfig(
            name=self.release_hook_name,
            service_name=f"{self.function.service_name}-release-hook",
            metrics_namespace=self.function.metrics_namespace,
            handler="release_hook.handler.lambda_handler",
            memory_size_mb=256,
            timeout_seconds=29,
            reserved_concurrency=2,
            environment={
                "TARGET_FUNCTION_NAME": self.function.name,
                "SMOKE_CHECKS": smoke_checks_json(self.smoke_checks),
            },
            # CodeDeploy invokes the hook by name, asynchronously: a retry would run the smoke test again and
            # report a second status for one lifecycle event.
            async_retry_attempts=0,
            invoked_by_name=True,
        )


class RouteGroup(Construct):
    """The function serving a group of the API's routes, with its scaling, release and alarms.

    Construct ids inside are the stack's historical ones (``function``, ``autoscaling``, ``release_hook``,
    ``release``, ``monitoring``): built with the id ``Default``, which CDKTF leaves out of resource addresses, a
    group keeps the addresses its resources had before route groups, so an existing stack updates in place."""

    function: Function
    """The group's function and its ``live`` alias."""
    autoscaling: ProvisionedConcurrencyAutoscaling | None
    """Provisioned concurrency on the alias, when configured."""
    release_hook: Function | None
    """The pre-traffic smoke test, when configured."""
    release: Release | None
    """CodeDeploy's shift of the alias (None with strategy ``direct``: each apply moves it)."""
    specs: list[AlarmSpec]
    """The group's alarms as data."""
    alarms: dict[str, CloudwatchMetricAlarm]
    """The group's alarms by key."""
    release_alarms: list[CloudwatchMetricAlarm]
    """What stops and rolls back its release: its own gates and the API's."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: RouteGroupConfig,
        code: Callable[[FunctionConfig], LambdaCode],
        key: EncryptionKey,
        shipping: LogShipping,
        account: AccountContext,
        monitoring: Monitoring,
        release_name: str,
        alarm_prefix: str = "",
    ) -> None:
        """``code`` builds a function's package; ``release_name`` names its CodeDeploy application (deployment
        group ``<release_name>-live``); ``alarm_prefix`` starts each of its alarm keys (unique in the stack)."""
        super().__init__(scope, id)
        self._config = config
        self.function = function = Function(
            self, "function", config=config.function, code=code(config.function), key=key, shipping=shipping,
            account=account,
        )  # fmt: skip
        self.autoscaling = (
            ProvisionedConcurrencyAutoscaling(self, "autoscaling", config=config.autoscaling, function=function)
            if config.autoscaling.enable_provisioned_concurrency
            else None
        )
        self.release_hook = (
            self._release_hook(
                config.release_hook, code=code, key=key, shipping=shipping, account=account, release_name=release_name
            )
            if config.release_hook
            else None
        )
        alarms_scope = Construct(self, "monitoring")
        CloudwatchLogMetricFilter(
            alarms_scope,
            "application_errors",
            name=f"{function.name}-errors",
            log_group_name=function.log_group.name,
            pattern='{ $.level = "ERROR" }',
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=APP_ERROR_METRIC, namespace=function.metrics_namespace, value="1", default_value="0"
            ),
        )
        self.specs = function_alarm_specs(
            monitoring.config,
            function,
            key_prefix=alarm_prefix,
            provisioned_concurrency=self.autoscaling is not None,
            released_version=function.lambda_function.version if config.release.uses_codedeploy else None,
            supporting=(self.release_hook,) if self.release_hook else (),
        )
        self.alarms = monitoring.add(alarms_scope, self.specs)
        self.release_alarms = [
            *monitoring.api_release_alarms,
            *(self.alarms[spec.key] for spec in self.specs if spec.gates_release),
        ]
        self.release = (
            Release(
                self,
                "release",
                config=config.release,
                name=release_name,
                function=function,
                alarms=self.release_alarms,
                account=account,
                hook=self.release_hook,
            )
            if config.release.uses_codedeploy
            else None
        )

    @property
    def package(self) -> str:
        """The folder under ``functions/`` whose ``app.py`` declares the group's routes."""
        return self._config.function.package

    @property
    def graphs(self) -> list[dict]:
        """The group's overview graphs on the stack's dashboard."""
        function = self.function
        rows = [
            widget_metric(qid, function.metric(name, of="function"), True)
            for qid, name in (("inv", "Invocations"), ("err", "Errors"), ("thr", "Throttles"))
        ]
        graphs = [graph(f"{function.name}: invocations, errors, throttles", rows)]
        if self._config.emf_metrics:
            service = {"service": function.service_name}  # Powertools' default EMF dimension
            graphs.append(
                graph(
                    f"{function.name}: application metrics (EMF)",
                    [
                        widget_metric(f"m{i}", Metric(function.metrics_namespace, name, service, "Sum"), True)
                        for i, name in enumerate(self._config.emf_metrics)
                    ],
                )
            )
        if self.autoscaling is not None:
            utilization = function.metric("ProvisionedConcurrencyUtilization", "Maximum")
            graphs.append(
                graph(
                    f"{function.name}: provisioned concurrency utilization",
                    [widget_metric("pcu", utilization, True)],
                )
            )
        return graphs

    def _release_hook(
        self,
        hook_config: FunctionConfig,
        *,
        code: Callable[[FunctionConfig], LambdaCode],
        key: EncryptionKey,
        shipping: LogShipping,
        account: AccountContext,
        release_name: str,
    ) -> Function:
        """The pre-traffic smoke test: invokes new versions of the group's function, reports to CodeDeploy."""
        hook = Function(
            self, "release_hook", config=hook_config, code=code(hook_config), key=key, shipping=shipping,
            account=account,
        )  # fmt: skip
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
                "Resource": account.arn("codedeploy", f"deploymentgroup:{release_name}/{release_name}-{ALIAS_NAME}"),
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
