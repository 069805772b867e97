"""The release command's decisions, fed with recorded CodeDeploy, Lambda and CloudWatch responses."""

from __future__ import annotations

import json

import pytest
from recorded import Recorded, alarms, alias, deployment, hook_target

from tools.release import Release
from tools.release_decisions import Done, Plan, Target, appspec, minutes_to_full, plan_release

TARGET = Target(
    application="serverless-app-prod",
    deployment_group="serverless-app-prod-live",
    deployment_config="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    function_name="serverless-app-prod-api",
    alias="live",
    hook="serverless-app-prod-release-hook",
    alarms=(
        "serverless-app-prod-lambda-error-rate",
        "serverless-app-prod-lambda-duration-p99",
        "serverless-app-prod-api-5xx-rate",
    ),
    scalable_target="function:serverless-app-prod-api:live",
)
ALARM_MESSAGE = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected"
VERSIONS = {"Versions": [{"Version": "$LATEST"}, {"Version": "7"}, {"Version": "8"}]}


def _run(codedeploy: dict, lambda_: dict, cloudwatch: dict | None = None, target: Target = TARGET):
    clients = {
        "codedeploy": Recorded(codedeploy),
        "lambda": Recorded(lambda_),
        "cloudwatch": Recorded(cloudwatch or {"describe_alarms": [alarms()]}),
        "application-autoscaling": Recorded({"register_scalable_target": [{}]}),
    }
    lines: list[str] = []
    code = Release(
        target, clients.__getitem__, minutes_to_full(target.deployment_config), out=lines.append, sleep=lambda _: None
    ).run()
    return code, lines, clients


def _release(statuses: list[dict], aliases: list[dict], cloudwatch: list[dict] | None = None, hook="Succeeded"):
    return _run(
        {
            "list_deployments": [{"deployments": []}],
            "create_deployment": [{"deploymentId": "d-RELEASE1"}],
            "get_deployment": statuses,
            "list_deployment_targets": [{"targetIds": ["serverless-app-prod-api:live"]}],
            "get_deployment_target": [hook_target(hook)],
        },
        {"get_alias": aliases, "list_versions_by_function": [VERSIONS]},
        {"describe_alarms": cloudwatch or [alarms()]},
    )


def test_a_canary_shifts_then_succeeds_and_scaling_resumes():
    code, lines, clients = _release(
        [deployment("InProgress"), deployment("InProgress"), deployment("Succeeded")],
        [alias("7"), alias("7", {"8": 0.1}), alias("7", {"8": 0.1}), alias("8")],
    )
    assert code == 0 and lines[-2].startswith("released: 8 serves 100 %")
    assert any("InProgress: 10 % on 8 (from 7), alarms OK, ~" in line for line in lines)
    (created,) = clients["codedeploy"].calls["create_deployment"]
    spec = json.loads(created["revision"]["appSpecContent"]["content"])
    assert spec == appspec(TARGET, Plan("7", "8"))
    assert spec["Resources"][0]["serverless-app-prod-api"]["Properties"] == {
        "Name": "serverless-app-prod-api",
        "Alias": "live",
        "CurrentVersion": "7",
        "TargetVersion": "8",
    }
    assert spec["Hooks"] == [{"BeforeAllowTraffic": "serverless-app-prod-release-hook"}]
    suspended = [
        c["SuspendedState"]["ScheduledScalingSuspended"]
        for c in clients["application-autoscaling"].calls["register_scalable_target"]
    ]
    assert suspended == [True, False]


def test_an_alarm_mid_shift_stops_it_rolls_back_and_exits_non_zero_naming_the_alarm():
    code, lines, clients = _release(
        [
            deployment("InProgress"),
            deployment(
                "Stopped",
                error={
                    "code": "ALARM_ACTIVE",
                    "message": ALARM_MESSAGE,
                },
                rollback={"rollbackDeploymentId": "d-ROLLBACK", "rollbackMessage": "rolled back"},
            ),
        ],
        [alias("7"), alias("7", {"8": 0.1}), alias("7")],
        [alarms(), alarms("serverless-app-prod-api-5xx-rate")],
    )
    assert code == 1
    assert "release of 8 stopped: One or more alarms have been activated" in lines[-2]
    assert "alarm in ALARM: serverless-app-prod-api-5xx-rate" in lines[-2]
    assert "rolled back: the alias serves 7" in lines[-2]
    assert [
        c["SuspendedState"]["DynamicScalingOutSuspended"]
        for c in clients["application-autoscaling"].calls["register_scalable_target"]
    ] == [True, False]


def test_a_failing_hook_fails_the_release_with_no_traffic_shifted():
    code, lines, _ = _release(
        [
            deployment("InProgress"),
            deployment(
                "Failed",
                error={"code": "HOOK_EXECUTION_FAILURE", "message": "lifecycle event BeforeAllowTraffic failed"},
                rollback={"rollbackDeploymentId": "d-ROLLBACK"},
            ),
        ],
        [alias("7")],
        hook="Failed",
    )
    assert code == 1
    assert "the pre-traffic hook failed, no traffic was shifted" in lines[-2]
    assert "rolled back: the alias serves 7" in lines[-2]
    progress = [line for line in lines if "% on 8" in line]
    assert progress and all("InProgress: 0 % on 8" in line for line in progress)


def test_a_deployment_in_progress_is_refused_with_its_id():
    code, lines, clients = _run(
        {"list_deployments": [{"deployments": ["d-OTHER"]}]},
        {"get_alias": [alias("7")], "list_versions_by_function": [VERSIONS]},
    )
    assert code == 2 and "deployment d-OTHER of serverless-app-prod-live is still in progress" in lines[0]
    assert "create_deployment" not in clients["codedeploy"].calls


def test_no_new_version_is_a_no_op_that_says_so():
    code, lines, clients = _run(
        {"list_deployments": [{"deployments": []}]},
        {"get_alias": [alias("8")], "list_versions_by_function": [VERSIONS]},
    )
    assert code == 0 and lines == ["nothing to release: live already serves version 8, the newest"]
    assert "create_deployment" not in clients["codedeploy"].calls


@pytest.mark.parametrize(
    ("name", "minutes"),
    [
        ("CodeDeployDefault.LambdaCanary10Percent5Minutes", 5),
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", 9),
        ("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", 90),
        ("CodeDeployDefault.LambdaAllAtOnce", 0),
    ],
)
def test_how_long_each_configuration_takes(name, minutes):
    assert minutes_to_full(name) == minutes


def test_plan_release_ignores_latest_and_picks_the_newest_number():
    assert plan_release("9", ["$LATEST", "9", "10"], [], TARGET) == Plan("9", "10")
    assert isinstance(plan_release("9", ["$LATEST"], [], TARGET), Done)


def test_an_emergency_release_shifts_all_at_once_and_keeps_the_hook_and_the_alarms():
    target = TARGET.all_at_once()
    assert target.deployment_config == "CodeDeployDefault.LambdaAllAtOnce" and target.hook and target.alarms
    code, _, clients = _run(
        {
            "list_deployments": [{"deployments": []}],
            "create_deployment": [{"deploymentId": "d-NOW"}],
            "get_deployment": [deployment("Succeeded")],
        },
        {"get_alias": [alias("7"), alias("8")], "list_versions_by_function": [VERSIONS]},
        target=target,
    )
    assert code == 0
    (created,) = clients["codedeploy"].calls["create_deployment"]
    assert created["deploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert json.loads(created["revision"]["appSpecContent"]["content"])["Hooks"]
