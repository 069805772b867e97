"""``make release ENV=… [GROUP=…]``: apply the stack so new versions are published, then let CodeDeploy shift each
route group's ``live`` alias to its new version (or only GROUP's), showing progress, and exit non-zero with the alarm
that stopped it when it rolls back.

The decisions are pure functions over what AWS reports (``tools/release_decisions.py``), so they are tested with
recorded CodeDeploy, Lambda and CloudWatch responses; ``Release`` does the boto3 calls. A stack with release
strategy ``direct`` (the emulator's: it cannot delete CodeDeploy resources) has no CodeDeploy: its apply moves the
alias, and the command reports what the alias serves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable

from tools import manifest, stackctl
from tools.aws import clients_for
from tools.manifest import Stack, StackError
from tools.release_decisions import (
    ACTIVE,
    ALL_AT_ONCE,
    FAILED,
    POLL_SECONDS,
    STOPPED,
    Done,
    Observation,
    Plan,
    Target,
    appspec,
    minutes_to_full,
    newest,
    observe,
    plan_release,
)


def function_versions(lambda_, function_name: str) -> list[str]:
    """Every version of a function, ``$LATEST`` included, as Lambda lists them."""
    pages = lambda_.get_paginator("list_versions_by_function").paginate(FunctionName=function_name)
    return [v["Version"] for page in pages for v in page["Versions"]]


class Release:
    """Runs one release with boto3 clients (the emulator's or a real account's)."""

    def __init__(
        self,
        target: Target,
        clients: Callable[[str], object],
        minutes_to_full: float,
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target, self.clients, self.minutes_to_full = target, clients, minutes_to_full
        self.out, self.sleep = out, sleep
        self.codedeploy = clients("codedeploy")
        self.lambda_ = clients("lambda")

    def alias_state(self) -> tuple[str, float]:
        alias = self.lambda_.get_alias(FunctionName=self.target.function_name, Name=self.target.alias)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return alias["FunctionVersion"], sum(weights.values())

    def versions(self) -> list[str]:
        return function_versions(self.lambda_, self.target.function_name)

    def active_deployments(self) -> list[str]:
        return self.codedeploy.list_deployments(
            applicationName=self.target.application,
            deploymentGroupName=self.target.deployment_group,
            includeOnlyStatuses=ACTIVE,
        ).get("deployments", [])

    def start(self, plan: Plan) -> str:
        content = json.dumps(appspec(self.target, plan))
        return self.codedeploy.create_deployment(
            applicationName=self.target.application,
            deploymentGroupName=self.target.deployment_group,
            deploymentConfigName=self.target.deployment_config,
            description=f"{self.target.alias}: {plan.current} -> {plan.target}",
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
            },
        )["deploymentId"]

    def poll(self, deployment_id: str, started: float) -> Observation:
        info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        version, weight = self.alias_state()
        alarms = ()
        if self.target.alarms:
            described = self.clients("cloudwatch").describe_alarms(AlarmNames=list(self.target.alarms))
            alarms = tuple(a["AlarmName"] for a in described["MetricAlarms"] if a["StateValue"] == "ALARM")
        hook = None
        if self.target.hook and info.get("status") in (FAILED, STOPPED):
            events = self.codedeploy.list_deployment_targets(deploymentId=deployment_id).get("targetIds", [])
            for target_id in events:
                lifecycle = self.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)
                for event in lifecycle["deploymentTarget"].get("lambdaTarget", {}).get("lifecycleEvents", []):
                    if event["lifecycleEventName"] == "BeforeAllowTraffic":
                        hook = event["status"]
        return Observation(
            status=info["status"],
            weight=weight,
            alias_version=version,
            alarms_in_alarm=alarms,
            error=info.get("errorInformation"),
            rollback=info.get("rollbackInfo"),
            hook_status=hook,
            elapsed_seconds=time.monotonic() - started,
        )

    def run(self) -> int:
        alias_version, _ = self.alias_state()
        decision = plan_release(alias_version, self.versions(), self.active_deployments(), self.target)
        if isinstance(decision, Done):
            self.out(decision.message)
            return decision.exit_code
        with self._scaling_suspended():
            deployment_id = self.start(decision)
            self.out(
                f"deployment {deployment_id}: {self.target.alias} {decision.current} -> {decision.target} "
                f"({self.target.deployment_config})"
            )
            started = time.monotonic()
            while True:
                step = observe(decision, self.poll(deployment_id, started), self.minutes_to_full)
                if isinstance(step, Done):
                    self.out(step.message)
                    return step.exit_code
                self.out(f"[{time.strftime('%H:%M:%S')}] {step}")
                self.sleep(POLL_SECONDS)

    class _Nothing:
        def __enter__(self) -> None:
            return None

        def __exit__(self, *_: object) -> None:
            return None

    def _scaling_suspended(self):
        """Lambda refuses to change provisioned concurrency on an alias with weights (PutProvisionedConcurrency-
        Config: "Alias with weights can not be used with Provisioned Concurrency"), so scaling pauses while the
        alias is shifted and resumes afterwards, whatever the outcome."""
        if not self.target.scalable_target:
            return self._Nothing()
        return _SuspendedScaling(self.clients("application-autoscaling"), self.target.scalable_target, self.out)


class _SuspendedScaling:
    def __init__(self, client, resource_id: str, out: Callable[[str], None]) -> None:
        self.client, self.resource_id, self.out = client, resource_id, out

    def _set(self, suspended: bool) -> None:
        self.client.register_scalable_target(
            ServiceNamespace="lambda",
            ResourceId=self.resource_id,
            ScalableDimension="lambda:function:ProvisionedConcurrency",
            SuspendedState={
                "DynamicScalingInSuspended": suspended,
                "DynamicScalingOutSuspended": suspended,
                "ScheduledScalingSuspended": suspended,
            },
        )

    def __enter__(self) -> None:
        self._set(True)
        self.out(f"provisioned-concurrency scaling of {self.resource_id} paused for the shift")

    def __exit__(self, *_: object) -> None:
        self._set(False)
        self.out(f"provisioned-concurrency scaling of {self.resource_id} resumed")


def release(
    kind: str,
    *,
    route_group: str | None = None,
    apply_first: bool = True,
    all_at_once: bool = False,
    out: Callable[[str], None] = print,
    capture: bool = False,
) -> int:
    """Apply ``kind`` (publishing a new version of each function whose code or config changed), then release
    ``route_group``, or every route group in turn (the first first), stopping at the first that fails."""
    stack = manifest.find(kind)
    names = [stack.route_group(route_group)[0]] if route_group else list(stack.route_groups())
    if apply_first:
        stackctl.check_before_touching(stack)
        stackctl.apply(kind, capture=capture)
    for name in names:
        spec = stack.route_groups()[name]
        if len(names) > 1:
            out(f"route group {name} ({spec['function_name']}):")
        if spec["release"]["strategy"] == "direct":
            code = _direct(stack, spec, out)
        else:
            code = _codedeploy(stack, name, all_at_once=all_at_once, out=out)
        if code:
            return code
    return 0


def _codedeploy(stack: Stack, route_group: str, *, all_at_once: bool, out: Callable[[str], None]) -> int:
    target = Target.of(stack, route_group)
    if all_at_once:  # an emergency fix: everything at once; the hook still runs and the alarms still roll back
        target = target.all_at_once()
        out(f"all at once: {ALL_AT_ONCE} instead of the group's configuration")
    custom = next(
        (
            c
            for c in stack.resources("aws_codedeploy_deployment_config").values()
            if c["deployment_config_name"] == target.deployment_config
        ),
        None,
    )
    return Release(target, clients_for(stack), minutes_to_full(target.deployment_config, custom), out).run()


def _direct(stack: Stack, spec: dict, out: Callable[[str], None]) -> int:
    """Strategy ``direct``: the apply moved the alias; say which version it serves and whether it is the newest."""
    name, alias = spec["function_name"], spec["alias"]
    lambda_ = clients_for(stack)("lambda")
    serving = lambda_.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
    latest = newest(function_versions(lambda_, name))
    if serving == latest:
        out(f"released: {alias} serves version {serving}, the newest (strategy direct: the apply moved it)")
        return 0
    out(f"{alias} serves version {serving}, not the newest ({latest or 'none'})")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--group", help="release this route group only (default: every group, the first first)")
    parser.add_argument("--no-apply", action="store_true", help="release what is already published")
    parser.add_argument(
        "--all-at-once", action="store_true", help="emergency: shift all traffic at once (hook and alarms still apply)"
    )
    args = parser.parse_args(argv)
    try:
        return release(args.kind, route_group=args.group, apply_first=not args.no_apply, all_at_once=args.all_at_once)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
