"""Route groups: each a function serving the paths its package declares, with its own scaling, release, alarms
and log shipping; the first keeps the stack's historical addresses; a new group is one config entry and a package."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
from stack_helpers import DEPLOYED, PROJECT_DIR, resources, synthesize

from modules.openapi import ContractError
from modules.release import ReleaseConfig
from modules.route_group import RouteGroupConfig, SmokeCheck
from stacks import contract, environments


def _logical_id(*path: str) -> str:
    """CDKTF's logical id of a construct path under a stack (cdktf's makeUniqueId): the parts, a repeated part
    once, then the path's hash."""
    human = [part for index, part in enumerate(path) if index == 0 or part != path[index - 1]]
    digest = hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()
    return "_".join(human) + "_" + digest[:8].upper()


def test_the_first_group_keeps_the_addresses_the_stack_had_before_route_groups(prod):
    # Built with the construct id "Default", which CDKTF leaves out of addresses: an existing stack updates in place.
    assert _logical_id("monitoring", "alarm_lambda_error_rate") in resources(prod, "aws_cloudwatch_metric_alarm")
    assert _logical_id("release", "group") in resources(prod, "aws_codedeploy_deployment_group")
    assert _logical_id("autoscaling", "target") in resources(prod, "aws_appautoscaling_target")
    assert _logical_id("function", "function") == "function_679B3B5A"
    assert "function_679B3B5A" in resources(prod, "aws_lambda_function")
    # Another group's resources are under its own id.
    admin = resources(prod, "aws_lambda_function")[_logical_id("group_admin", "function", "function")]
    assert admin["function_name"] == "serverless-app-prod-admin"


def test_every_group_has_its_function_alarms_release_and_log_shipping(prod):
    groups = json.loads(prod["output"]["route_groups"]["value"])
    assert set(groups) == set(environments.ROUTE_GROUPS)
    alarms = {a["alarm_name"] for a in resources(prod, "aws_cloudwatch_metric_alarm").values()}
    streams = {s["name"] for s in resources(prod, "aws_kinesis_firehose_delivery_stream").values()}
    deployment_groups = {
        g["deployment_group_name"] for g in resources(prod, "aws_codedeploy_deployment_group").values()
    }
    for name, group in groups.items():
        prefix = "serverless-app-prod-" if group["primary"] else f"serverless-app-prod-{name}-"
        for alarm in ("lambda-error-rate", "lambda-throttles", "lambda-duration-p99", "application-errors"):
            assert f"{prefix}{alarm}" in alarms, (name, alarm)
        assert f"serverless-app-prod-lambda-{name}" in streams
        assert group["release"]["deployment_group"] in deployment_groups
        assert group["paths"], name
    assert groups["admin"]["paths"] == ["/admin/deployment"]
    assert groups["api"]["primary"] and groups["api"]["release"]["hook"] == "serverless-app-prod-release-hook"


def test_a_path_declared_by_two_groups_is_refused():
    with pytest.raises(ContractError, match=r"path '/health' is declared by route groups 'api' and 'again'"):
        contract.route_owners({"api": "api", "again": "api"})
    with pytest.raises(ContractError, match=r"route group package 'nothing': no functions/nothing/app.py"):
        contract.route_owners({"nothing": "nothing"})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"release": ReleaseConfig(pre_traffic_hook=True)}, r"route_group.release_hook_name=None is invalid"),
        (
            {"release": ReleaseConfig(pre_traffic_hook=True), "release_hook_name": "x-hook"},
            r"route_group.smoke_checks=\(\) is invalid: allowed at least one check with release.pre_traffic_hook",
        ),
        ({"smoke_checks": [SmokeCheck("GET", "/x")]}, r"route_group.smoke_checks=\[.*\] is invalid: allowed a value "),
        (
            {"smoke_checks": (SmokeCheck("POST", "/events", 202, body={"pad": "x" * 2100}),)},
            r"route_group.smoke_checks='<2\d{3} characters of JSON>' is invalid: allowed at most 2048 characters",
        ),
        ({"release_hook_name": "x-hook"}, r"route_group.release_hook_name='x-hook' is invalid: allowed a function"),
        ({"emf_metrics": ["a"]}, r"route_group.emf_metrics=\['a'\] is invalid"),
    ],
)
def test_route_group_config_errors(changes, message):
    group = environments.load(DEPLOYED)["dev"].route_groups["admin"]
    with pytest.raises(ValueError, match=message):
        replace(group, **changes)
    assert isinstance(group, RouteGroupConfig)


def test_a_smoke_check_names_its_bad_fields():
    with pytest.raises(ValueError) as raised:
        SmokeCheck("FETCH", "health", 42, body={"when": object()})
    problems = raised.value.problems
    assert [p.split("=")[0] for p in problems] == [
        "smoke_check.method",
        "smoke_check.path",
        "smoke_check.expected_status",
        "smoke_check.body",
    ]
    assert "one of 'DELETE', 'GET'" in problems[0] and "100..599" in problems[2]


def test_a_smoke_check_on_a_path_or_method_the_group_does_not_serve_fails_at_synth(tmp_path, monkeypatch):
    from stacks import environments

    original = environments.build

    def patched(name, environ=None, app=environments.APP_NAME):
        config = original(name, environ, app)
        if name != "prod":
            return config
        api = config.route_groups["api"]
        checks = (SmokeCheck("GET", "/admin/deployment"), SmokeCheck("DELETE", "/health"))
        return replace(config, route_groups={**config.route_groups, "api": replace(api, smoke_checks=checks)})

    monkeypatch.setattr(environments, "build", patched)
    with pytest.raises(ValueError) as raised:
        synthesize(tmp_path / "out", DEPLOYED)
    assert raised.value.problems == [
        "route_groups.api.smoke_checks[0].path='/admin/deployment' is invalid: allowed one of the group's paths: "
        "/events, /health, /internal/events, /whoami",
        "route_groups.api.smoke_checks[1].method='DELETE' is invalid: allowed one the contract declares: GET",
    ]


def test_the_hook_is_configured_with_its_groups_checks(prod):
    (hook,) = [f for f in prod["resource"]["aws_lambda_function"].values() if f["function_name"].endswith("-hook")]
    variables = hook["environment"]["variables"]
    assert variables["TARGET_FUNCTION_NAME"] == "serverless-app-prod-api"
    assert [(c["method"], c["path"], c["status"]) for c in json.loads(variables["SMOKE_CHECKS"])] == [
        ("GET", "/health", 200),
        ("POST", "/events", 202),
    ]


def test_an_unknown_route_group_is_named_with_the_ones_there_are(synth):
    from tools import manifest
    from tools.manifest import StackError

    stack = manifest.find("local", synth.outdir)
    assert stack.route_group(None)[0] == "api"
    with pytest.raises(StackError, match=r"no route group 'reports'; allowed: api, admin"):
        stack.route_group("reports")


REPORTS_APP = '''"""A third route group, added by a test."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)


class Report(BaseModel):
    name: str


@app.get("/reports", security=[{"sigv4": []}], responses={200: {"description": "The report"}})
def report() -> Report:
    return Report(name="daily")
'''
REPORTS_HANDLER = """from .app import app, logger


@logger.inject_lambda_context
def lambda_handler(event, context):
    return app.resolve(event, context)
"""
COPIED = ("main.py", "cdktf.json", "modules", "stacks", "functions", "synth", "tools", "docs")


@pytest.mark.slow
def test_a_third_route_group_is_one_config_entry_and_its_package(tmp_path):
    """In a copy of the project: one entry in ROUTE_GROUPS and functions/reports/; API Gateway, the alarms, the
    release and the local API pick it up."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in COPIED:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    shutil.copytree(PROJECT_DIR / ".cache" / "bundles", copy / ".cache" / "bundles")  # only the new one is built
    settings = copy / "stacks" / "environments.py"
    text = settings.read_text()
    entry = '    "admin": {"function": {"memory_size_mb": 128, "reserved_concurrency": 5}},\n'
    assert text.count(entry) == 1
    settings.write_text(text.replace(entry, entry + '    "reports": {},\n'))
    package = copy / "functions" / "reports"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(REPORTS_APP)
    (package / "handler.py").write_text(REPORTS_HANDLER)

    out = copy / "cdktf.out"
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ACCOUNT_ID_", "TF_STATE_KMS"))}
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=copy,
        env={**variables, **DEPLOYED, "CDKTF_OUTDIR": str(out)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stacks = {
        kind: json.loads((out / "stacks" / f"serverless-app-{kind}" / "cdk.tf.json").read_text())
        for kind in ("local", "dev", "prod")
    }
    for kind, tf in stacks.items():
        function = f"serverless-app-{kind}-reports"
        groups = json.loads(tf["output"]["route_groups"]["value"])
        assert groups["reports"]["paths"] == ["/reports"] and groups["reports"]["function_name"] == function
        # API Gateway: the path, signed, proxying to the new group's alias.
        (method,) = [m for k, m in resources(tf, "aws_api_gateway_method").items() if k.startswith("api_reports_get")]
        assert method["authorization"] == "AWS_IAM"
        (integration,) = [
            i for k, i in resources(tf, "aws_api_gateway_integration").items() if k.startswith("api_reports_get")
        ]
        assert integration["uri"].startswith("${aws_lambda_alias.group_reports_function_alias_")
        alarms = {a["alarm_name"] for a in resources(tf, "aws_cloudwatch_metric_alarm").values()}
        assert f"serverless-app-{kind}-reports-lambda-error-rate" in alarms
        assert f"serverless-app-{kind}-log-delivery-success-serverless-app-{kind}-lambda-reports" in alarms
        assert f"/aws/lambda/{function}" in {g["name"] for g in resources(tf, "aws_cloudwatch_log_group").values()}
    # The release: its own CodeDeploy deployment group where the environment releases through CodeDeploy.
    for kind in ("dev", "prod"):
        names = {
            g["deployment_group_name"] for g in resources(stacks[kind], "aws_codedeploy_deployment_group").values()
        }
        assert f"serverless-app-{kind}-reports-live" in names
    # The local API: routes /reports to the new group's handler, imported from the copy's functions/.
    from tools.lambda_runtime import LambdaContext, proxy_event
    from tools.local_api.handler_source import HandlerSource
    from tools.local_api.stage import read_stage
    from tools.manifest import Stack

    spec = read_stage(Stack("serverless-app-local", out / "stacks" / "serverless-app-local"))
    assert spec.group_of("/reports") == "reports" and spec.group_of("/health") == "api"
    assert spec.group_of("/{proxy+}") == "api"
    reports = spec.functions["reports"]
    source = HandlerSource(reports.handler, sys.stdout, root=copy / "functions", environment=reports.environment)
    try:
        answer = source.entry_point()(proxy_event("GET", "/reports", resource="/reports"), LambdaContext())
    finally:
        sys.path.remove(str(copy / "functions"))
        for name in [n for n in sys.modules if n == "reports" or n.startswith("reports.")]:
            del sys.modules[name]
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"name": "daily"})
    assert reports.bundle.is_file()  # the zip the stack deploys, staged by synth
