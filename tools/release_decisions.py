"""What a release decides, as pure functions over what AWS reports: which route group's deployment to start (or
why not), the AppSpec CodeDeploy runs, and what each poll of a running deployment means. ``tools/release.py`` makes
the calls."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tools.manifest import Stack

ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
SUCCEEDED, FAILED, STOPPED = "Succeeded", "Failed", "Stopped"
POLL_SECONDS = 10


@dataclass(frozen=True)
class Target:
    """What a release needs from the synthesized stack."""

    application: str
    deployment_group: str
    deployment_config: str
    function_name: str
    alias: str
    hook: str | None
    alarms: tuple[str, ...]
    scalable_target: str | None  # Application Auto Scaling resource id of the alias's provisioned concurrency

    @classmethod
    def of(cls, stack: Stack, route_group: str | None = None) -> Target:
        """The release of one route group (None: the first), from the stack's ``route_groups`` output and the
        CodeDeploy deployment group it names."""
        resolve = _Literal(stack.tf)
        _, spec = stack.route_group(route_group)
        release = spec["release"]
        (group,) = [
            g
            for g in stack.resources("aws_codedeploy_deployment_group").values()
            if g["deployment_group_name"] == release["deployment_group"]
        ]
        return cls(
            application=release["application"],
            deployment_group=release["deployment_group"],
            deployment_config=resolve(group["deployment_config_name"]),
            function_name=spec["function_name"],
            alias=spec["alias"],
            hook=release["hook"],
            alarms=tuple(resolve(name) for name in group["alarm_configuration"]["alarms"]),
            scalable_target=f"function:{spec['function_name']}:{spec['alias']}" if release["scaled"] else None,
        )

    def all_at_once(self) -> Target:
        """The same release with CodeDeploy's all-at-once configuration (an emergency fix)."""
        return replace(self, deployment_config=ALL_AT_ONCE)


class _Literal:
    """Resolves the references a release reads (resource names given literally elsewhere in the stack)."""

    def __init__(self, tf: dict) -> None:
        self.tf = tf

    def __call__(self, value: str) -> str:
        if not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
            return value
        type_, name, attribute = value[2:-1].split(".")
        resource = self.tf["resource"][type_][name]
        field = {
            "function_name": "function_name",
            "alarm_name": "alarm_name",
            "deployment_config_name": "deployment_config_name",
            "name": "name",
        }.get(attribute, attribute)
        return self(resource[field])


@dataclass(frozen=True)
class Plan:
    """Start a deployment from ``current`` to ``target``."""

    current: str
    target: str


@dataclass(frozen=True)
class Done:
    """Nothing (more) to do; ``exit_code`` 0 when it went well."""

    message: str
    exit_code: int = 0


def newest(versions: list[str]) -> str | None:
    """The highest published version number (``$LATEST`` is not one), or None."""
    published = sorted((v for v in versions if v.isdigit()), key=int)
    return published[-1] if published else None


def plan_release(alias_version: str, versions: list[str], active: list[str], target: Target) -> Plan | Done:
    """Whether to release: refused while another deployment runs, a no-op when there is no newer version."""
    if active:
        return Done(
            f"refused: deployment {active[0]} of {target.deployment_group} is still in progress; wait for "
            f"it, or stop it (aws deploy stop-deployment --deployment-id {active[0]} --auto-rollback-enabled)",
            exit_code=2,
        )
    latest = newest(versions)
    if latest is None:
        return Done(f"refused: {target.function_name} has no published version", exit_code=2)
    if latest == alias_version:
        return Done(f"nothing to release: {target.alias} already serves version {latest}, the newest")
    return Plan(current=alias_version, target=latest)


def appspec(target: Target, plan: Plan) -> dict:
    """The AppSpec CodeDeploy runs (Lambda, blue/green on the alias)."""
    spec: dict = {
        "version": 0.0,
        "Resources": [
            {
                target.function_name: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": target.function_name,
                        "Alias": target.alias,
                        "CurrentVersion": plan.current,
                        "TargetVersion": plan.target,
                    },
                }
            }
        ],
    }
    if target.hook:
        spec["Hooks"] = [{"BeforeAllowTraffic": target.hook}]
    return spec


@dataclass(frozen=True)
class Observation:
    """One poll: the deployment, the alias, the gating alarms."""

    status: str
    weight: float  # share of traffic on the new version, 0..1
    alias_version: str
    alarms_in_alarm: tuple[str, ...]
    error: dict | None
    rollback: dict | None
    hook_status: str | None
    elapsed_seconds: float


def observe(plan: Plan, seen: Observation, minutes_to_full: float) -> Done | str:
    """The next step: a progress line while the deployment runs, or the outcome."""
    if seen.status == SUCCEEDED:
        if seen.alias_version == plan.target:
            return Done(f"released: {plan.target} serves 100 % after {seen.elapsed_seconds:.0f} s")
        return Done(
            f"CodeDeploy reports success but the alias serves {seen.alias_version}, not {plan.target}", exit_code=1
        )
    if seen.status in (FAILED, STOPPED):
        cause = (seen.error or {}).get("message") or (seen.error or {}).get("code") or "no reason given"
        alarm = f"; alarm in ALARM: {', '.join(seen.alarms_in_alarm)}" if seen.alarms_in_alarm else ""
        hook = "; the pre-traffic hook failed, no traffic was shifted" if seen.hook_status == FAILED else ""
        rolled = (
            f"; rolled back: the alias serves {seen.alias_version}"
            if seen.rollback or seen.alias_version == plan.current
            else ""
        )
        return Done(f"release of {plan.target} {seen.status.lower()}: {cause}{alarm}{hook}{rolled}", exit_code=1)
    left = max(0.0, minutes_to_full * 60 - seen.elapsed_seconds)
    alarms = f"ALARM: {', '.join(seen.alarms_in_alarm)}" if seen.alarms_in_alarm else "alarms OK"
    return (
        f"{seen.status}: {seen.weight * 100:.0f} % on {plan.target} (from {plan.current}), {alarms}, ~{left:.0f} s left"
    )


def minutes_to_full(deployment_config: str, custom: dict | None = None) -> float:
    """Minutes a configuration takes to shift all traffic, from its name or its custom routing."""
    if custom:
        routing = custom["traffic_routing_config"]
        timing = routing.get("time_based_canary") or routing.get("time_based_linear") or {}
        if routing["type"] == "TimeBasedCanary":
            return timing["interval"]
        return -(-100 // timing["percentage"] - 1) * timing["interval"]
    name = deployment_config.removeprefix("CodeDeployDefault.Lambda")
    if name.startswith("Canary10Percent"):
        return float(name.removeprefix("Canary10Percent").removesuffix("Minutes"))
    if name.startswith("Linear10PercentEvery"):
        return 9 * float(name.removeprefix("Linear10PercentEvery").rstrip("Minutes").rstrip("Minute"))
    return 0.0
