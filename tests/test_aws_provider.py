"""The provider: us-east-1 only, default tags, account guard, the emulator's profile; the region lock."""

import os
import subprocess
import sys

import cdktf
import pytest
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from stack_helpers import PROJECT_DIR

from modules.aws_provider import REGION, ProviderConfig, RegionLockedProvider, check_region_environment
from modules.validation import ConfigError
from stacks import policy

TAGS = {
    "Project": "serverless-app",
    "Environment": "prod",
    "ManagedBy": "cdktf",
    "Owner": "platform-team",
    "CostCenter": "cc-0000",
}


def test_every_stack_has_one_us_east_1_provider_with_default_tags(synth):
    for name, tf in synth.stacks.items():
        (provider,) = tf["provider"]["aws"]
        assert provider["region"] == REGION, name
        tags = provider["default_tags"][0]["tags"]
        assert set(tags) == set(TAGS), name
        assert tags["Environment"] in {"local", "dev", "prod"}


def test_prod_tags_name_the_environment(prod):
    assert prod["provider"]["aws"][0]["default_tags"][0]["tags"] == TAGS


def test_only_local_points_at_the_emulator_every_service_through_one_profile(synth):
    from tools import manifest

    local = manifest.find("local", synth.outdir)
    provider = local.tf["provider"]["aws"][0]
    # No ``endpoints`` block: a service missing from it would reach real AWS, and the provider spends ~2 CPU-seconds
    # validating one in every Terraform walk. The profile's single endpoint_url covers every service.
    assert "endpoints" not in provider
    assert provider["profile"] == "emulator" and provider["access_key"] == "test"
    (config,) = provider["shared_config_files"]
    assert provider["shared_credentials_files"] == [config]  # nothing of the user's own AWS files is read
    assert config.startswith("assets/") and (local.directory / config).is_file()
    assert (local.directory / config).read_text() == "[profile emulator]\nendpoint_url = http://127.0.0.1:4599\n"
    assert local.emulated and local.emulator_endpoint == manifest.emulator_endpoint(synth.outdir)
    for environment in ("dev", "prod"):
        stack = manifest.find(environment, synth.outdir)
        provider = stack.tf["provider"]["aws"][0]
        assert not {"endpoints", "access_key", "profile", "shared_config_files"} & set(provider)
        assert not stack.emulated and stack.emulator_endpoint is None


@pytest.mark.slow
def test_allowed_account_ids_come_from_the_environment(tmp_path):
    from stack_helpers import synthesize

    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    synth = synthesize(tmp_path / "out", {"AWS_ACCOUNT_ID_PROD": "111122223333", "TF_STATE_KMS_KEY_ARN_PROD": arn})
    assert synth.stack("prod")["provider"]["aws"][0]["allowed_account_ids"] == ["111122223333"]
    # dev, whose account is not set, is not synthesized at all: no stack can reach an account nobody named.
    assert not [name for name in synth.stacks if name.endswith("-dev")]


@pytest.mark.parametrize("region", ["eu-west-1", "us-west-2", "us-east-2"])
def test_provider_config_refuses_other_regions(region):
    with pytest.raises(ValueError, match=rf"region='{region}' is invalid: allowed only 'us-east-1'"):
        ProviderConfig(default_tags=TAGS, region=region)


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_environment_variables_are_refused_not_ignored(variable):
    with pytest.raises(ConfigError, match=f"{variable}='eu-west-1' is invalid"):
        check_region_environment({variable: "eu-west-1"})
    check_region_environment({variable: REGION})


def test_region_env_var_stops_construction(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    stack = TerraformStack(cdktf.Testing.app(), "s")
    with pytest.raises(ConfigError, match="AWS_REGION"):
        RegionLockedProvider(stack, "p", config=ProviderConfig(default_tags=TAGS))


def test_account_ids_are_validated():
    with pytest.raises(ValueError, match=r"allowed_account_ids\[0\]='12345' is invalid"):
        ProviderConfig(default_tags=TAGS, allowed_account_ids=("12345",))


def test_a_second_provider_in_another_region_fails_synth():
    app = App(outdir="/nonexistent-never-written")
    stack = TerraformStack(app, "sneaky")
    RegionLockedProvider(stack, "ok", config=ProviderConfig(default_tags=TAGS))
    AwsProvider(stack, "elsewhere", region="eu-west-1", alias="eu")
    with pytest.raises(policy.PolicyError, match=r"provider\.aws\.eu: region 'eu-west-1' is not 'us-east-1'"):
        policy.enforce(app)


@pytest.mark.slow
def test_synth_with_aws_region_elsewhere_fails_and_writes_nothing(tmp_path):
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_REGION": "eu-west-1", "CDKTF_OUTDIR": str(outdir)},
        check=False,
    )
    assert result.returncode == 2
    assert "AWS_REGION='eu-west-1' is invalid: allowed only 'us-east-1'" in result.stderr
    assert not list(outdir.rglob("*.json")), "a failed synth must not write any stack"


def test_terraform_of_the_emulated_stack_ignores_endpoint_variables_that_would_outrank_its_profile(synth, monkeypatch):
    from tools import manifest, stackctl

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    overrides = {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    local = stackctl.environment_for(manifest.find("local", synth.outdir), overrides)
    assert not [name for name in local if name.startswith("AWS_ENDPOINT_URL") or name.startswith("AWS_IGNORE")]
    # dev and prod are planned against the emulator through exactly these variables (tests/emulator).
    dev = stackctl.environment_for(manifest.find("dev", synth.outdir), overrides)
    assert dev["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9" and dev["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9"
