"""The function: runtime, packaging, logging, tracing, encryption, least privilege, alias, scaling."""

import base64
import hashlib
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from stack_helpers import of_construct, one, one_of, ref, resources, statements

from modules.autoscaling import AutoscalingConfig
from modules.function_config import FunctionConfig
from synth import bundle

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"


def test_function_runtime_architecture_and_limits(prod, dev):
    function = one_of(prod, "aws_lambda_function")
    assert function["runtime"] == "python3.12"
    assert function["architectures"] == ["arm64"]
    assert function["handler"] == "api.handler.lambda_handler"
    assert function["publish"] is True
    assert function["reserved_concurrent_executions"] == 200
    assert function["memory_size"] == 512 and function["timeout"] == 10
    assert one_of(dev, "aws_lambda_function")["reserved_concurrent_executions"] == 20


def test_function_logs_json_to_its_own_shipped_group_and_traces(prod):
    function = one_of(prod, "aws_lambda_function")
    assert function["tracing_config"] == {"mode": "Active"}
    group_name = next(
        k
        for k, g in resources(prod, "aws_cloudwatch_log_group").items()
        if g["name"] == "/aws/lambda/serverless-app-prod-api"
    )
    assert function["logging_config"]["log_format"] == "JSON"
    assert function["logging_config"]["log_group"] == ref("aws_cloudwatch_log_group", group_name, "name")
    assert f"aws_cloudwatch_log_group.{group_name}" in function["depends_on"]


def test_environment_is_encrypted_and_uses_no_reserved_names(prod):
    function = one_of(prod, "aws_lambda_function")
    assert function["kms_key_arn"].startswith("${aws_kms_key.")
    variables = function["environment"]["variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "serverless-app"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "serverless-app/prod"
    assert not {"AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER"} & set(variables)


def test_execution_role_is_least_privilege(prod):
    policy = statements(
        next(p for p in resources(prod, "aws_iam_role_policy").values() if p["name"] == "least-privilege")
    )
    assert set(policy) == {"WriteOwnLogGroup", "Tracing", "DecryptOwnEnvironment", "DeadLetters", "EncryptDeadLetters"}
    assert policy["WriteOwnLogGroup"]["Resource"].endswith(":log-stream:*")
    assert not any(
        action.startswith("s3:")
        for s in policy.values()
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert policy["DecryptOwnEnvironment"]["Action"] == "kms:Decrypt"


def test_api_gateway_invokes_the_live_alias_of_a_published_version(prod):
    alias = one_of(prod, "aws_lambda_alias")
    function_name = next(iter(of_construct(prod, "aws_lambda_function")))
    assert alias["name"] == "live"
    assert alias["function_version"] == ref("aws_lambda_function", function_name, "version")
    alias_name = next(iter(of_construct(prod, "aws_lambda_alias")))
    # Every integration invokes a route group's alias (which group's: tests/test_api.py); the first group's
    # answers the fallbacks.
    aliases = {ref("aws_lambda_alias", k, "invoke_arn") for k in resources(prod, "aws_lambda_alias")}
    integrations = resources(prod, "aws_api_gateway_integration")
    assert all(i["uri"] in aliases for i in integrations.values())
    assert integrations[next(k for k in integrations if k.startswith("api_proxy_any"))]["uri"] == ref(
        "aws_lambda_alias", alias_name, "invoke_arn"
    )


def test_async_failures_go_to_an_encrypted_dead_letter_queue(prod):
    function = one_of(prod, "aws_lambda_function")
    queue_name = next(iter(of_construct(prod, "aws_sqs_queue")))
    assert function["dead_letter_config"]["target_arn"] == ref("aws_sqs_queue", queue_name, "arn")
    assert one_of(prod, "aws_sqs_queue")["kms_master_key_id"].startswith("${aws_kms_key.")
    invoke = one_of(prod, "aws_lambda_function_event_invoke_config")
    assert invoke["maximum_retry_attempts"] == 2 and invoke["qualifier"].endswith(".name}")


def test_source_code_hash_is_the_sha256_of_the_zip_it_ships(synth, prod):
    function = one_of(prod, "aws_lambda_function")
    archive = synth.outdir / "stacks" / "serverless-app-prod" / function["filename"]
    digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
    assert function["source_code_hash"] == digest


@pytest.mark.slow  # two pip installs for the Lambda platform
def test_bundle_is_reproducible_and_built_for_the_lambda_platform(tmp_path):
    def build(cache: str) -> bundle.Bundle:
        return bundle.build(
            FUNCTIONS / "api",
            FUNCTIONS / "requirements.txt",
            python_version="3.12",
            architecture="arm64",
            cache_dir=tmp_path / cache,
        )

    # Two independent builds (each its own pip install), side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(build, ["a", "b"])
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_base64 == second.sha256_base64
    with zipfile.ZipFile(first.path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {bundle.FIXED_TIME}
    assert "api/handler.py" in names and "aws_lambda_powertools/__init__.py" in names
    native = [n for n in names if n.endswith(".so")]
    assert native and all("aarch64" in n for n in native), native
    assert not [n for n in names if "__pycache__" in n or n.startswith("bin/")]


@pytest.mark.slow
def test_bundle_rebuilds_only_when_content_changes(tmp_path):
    source = tmp_path / "fn"
    source.mkdir()
    (source / "app.py").write_text("x = 1\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    one_ = bundle.build(source, requirements, python_version="3.12", architecture="x86_64", cache_dir=tmp_path / "c")
    again = bundle.build(source, requirements, python_version="3.12", architecture="x86_64", cache_dir=tmp_path / "c")
    assert one_ == again
    (source / "app.py").write_text("x = 2\n")
    changed = bundle.build(source, requirements, python_version="3.12", architecture="x86_64", cache_dir=tmp_path / "c")
    assert changed.sha256_base64 != one_.sha256_base64


def _installed_by_pip(staging):
    """What a pip install leaves in the staging folder, in short (the real one is the reproducibility test's)."""
    (staging / "dependency").mkdir(parents=True)
    (staging / "dependency" / "__init__.py").write_text("")


def test_builds_of_one_bundle_at_once_install_it_once(tmp_path, monkeypatch):
    # As the test workers of a fresh clone do: every synth asks for the same bundles at the same moment.
    source = tmp_path / "fn"
    source.mkdir()
    (source / "app.py").write_text("x = 1\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    installs = []

    def slow_install(requirements, staging, *platform):
        installs.append(platform)
        time.sleep(0.3)  # long enough for the other builds to ask meanwhile
        _installed_by_pip(staging)

    monkeypatch.setattr(bundle, "_install", slow_install)
    build = lambda _: bundle.build(  # noqa: E731
        source, requirements, python_version="3.12", architecture="x86_64", cache_dir=tmp_path / "c"
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(build, range(3)))
    assert len(installs) == 1 and built[0] == built[1] == built[2]


def test_the_functions_of_the_app_share_one_install_of_their_requirements(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    installs = []

    def install(requirements, staging, *platform):
        installs.append(platform)
        _installed_by_pip(staging)

    monkeypatch.setattr(bundle, "_install", install)
    built = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(f"name = {name!r}\n")
        built.append(
            bundle.build(
                tmp_path / name, requirements, python_version="3.12", architecture="x86_64", cache_dir=tmp_path / "c"
            )
        )
    assert len(installs) == 1 and built[0].sha256_base64 != built[1].sha256_base64
    for each in built:
        with zipfile.ZipFile(each.path) as archive:
            assert "dependency/__init__.py" in archive.namelist()
    # Another Python version is another install.
    cache = tmp_path / "c"
    bundle.build(tmp_path / "first", requirements, python_version="3.13", architecture="x86_64", cache_dir=cache)
    assert len(installs) == 2


def test_prod_autoscales_provisioned_concurrency_on_the_alias(prod, dev, local):
    target = one(prod, "aws_appautoscaling_target")
    assert target["scalable_dimension"] == "lambda:function:ProvisionedConcurrency"
    assert target["resource_id"].startswith("function:${aws_lambda_function.")
    assert target["resource_id"].endswith(".name}")
    assert (target["min_capacity"], target["max_capacity"]) == (2, 50)
    policy = one(prod, "aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"]
    metric = policy["predefined_metric_specification"]["predefined_metric_type"]
    assert metric == "LambdaProvisionedConcurrencyUtilization"
    assert policy["target_value"] == 0.7
    assert len(resources(prod, "aws_appautoscaling_scheduled_action")) == 2
    assert not resources(dev, "aws_appautoscaling_target") and not resources(local, "aws_appautoscaling_target")
    # Declared, so a suspension a killed `make release` left behind shows as drift and the next apply resumes.
    assert target["suspended_state"] == {
        "dynamic_scaling_in_suspended": False,
        "dynamic_scaling_out_suspended": False,
        "scheduled_scaling_suspended": False,
    }


def test_the_release_hook_is_never_retried_however_codedeploy_invokes_it(prod):
    configs = of_construct(prod, "aws_lambda_function_event_invoke_config", "release_hook")
    # CodeDeploy invokes the hook by name (its unqualified function): that invocation's settings count too.
    assert sorted(bool(c.get("qualifier")) for c in configs.values()) == [False, True]
    assert {c["maximum_retry_attempts"] for c in configs.values()} == {0}


def test_every_service_role_carries_its_environments_boundary(prod, local):
    for tf, environment in ((prod, "prod"), (local, "local")):
        roles = resources(tf, "aws_iam_role")
        (boundary,) = {r["permissions_boundary"] for r in roles.values()}
        assert boundary.startswith("arn:${data.aws_partition.") and ":iam::${data.aws_caller_identity." in boundary
        assert boundary.endswith(f":policy/deploy/serverless-app-{environment}-service-boundary")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"memory_size_mb": 64}, "function.memory_size_mb=64 is invalid: allowed 128..10240 MB"),
        ({"timeout_seconds": 30}, "function.timeout_seconds=30 is invalid: allowed 1..29 seconds"),
        ({"timeout_seconds": 0}, "function.timeout_seconds=0 is invalid"),
        ({"reserved_concurrency": 0}, "function.reserved_concurrency=0 is invalid"),
        (
            {"runtime": "python3.8"},
            "function.runtime='python3.8' is invalid: allowed one of 'python3.12', 'python3.13'",
        ),
        ({"architecture": "sparc"}, "function.architecture='sparc' is invalid"),
        ({"name": "has space"}, "function.name='has space' is invalid"),
        ({"name": "x" * 65}, "function.name='x{65}' is invalid"),
        ({"environment": {"AWS_REGION": "us-east-1"}}, r"function.environment\['AWS_REGION'\]='us-east-1' is invalid"),
        ({"environment": {"AWS_LAMBDA_FOO": "1"}}, r"function.environment\['AWS_LAMBDA_FOO'\]"),
        ({"environment": {"1BAD": "1"}}, r"function.environment\['1BAD'\]"),
        ({"metrics_namespace": "AWS/Lambda"}, "function.metrics_namespace='AWS/Lambda' is invalid"),
        (
            {"handler": "lambda_handler"},
            "function.handler='lambda_handler' is invalid: allowed 'package.module.function'",
        ),
        ({"memory_size_mb": True}, "function.memory_size_mb=True is invalid"),
    ],
)
def test_function_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        FunctionConfig(**{"name": "fn", "service_name": "svc", "metrics_namespace": "ns", **values})


def test_a_handler_package_missing_under_functions_is_refused_before_bundling():
    from stacks.packaging import lambda_code

    config = FunctionConfig(name="fn", service_name="svc", metrics_namespace="ns", handler="missing.handler.main")
    with pytest.raises(
        ValueError,
        match=r"function.handler='missing.handler.main' is invalid: allowed a handler whose "
        r"package is a folder under .*functions",
    ):
        lambda_code(config)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"min_capacity": 0}, "autoscaling.min_capacity=0 is invalid"),
        ({"min_capacity": 5, "max_capacity": 2}, "autoscaling.max_capacity=2 is invalid: allowed >= min_capacity"),
        ({"target_utilization": 0.95}, "autoscaling.target_utilization=0.95 is invalid: allowed 0.1..0.9"),
    ],
)
def test_autoscaling_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        AutoscalingConfig(**{"enable_provisioned_concurrency": True, **values})


def test_only_the_emulator_stack_ignores_function_settings(prod, dev, local):
    assert "lifecycle" not in one_of(prod, "aws_lambda_function")
    assert "lifecycle" not in one_of(dev, "aws_lambda_function")
    for function in resources(local, "aws_lambda_function").values():  # every route group's
        assert function["lifecycle"]["ignore_changes"] == ["logging_config"]
        assert "dead_letter_config" not in function  # the emulator never invokes async
