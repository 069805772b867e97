"""Remote state: S3 backend, encrypted with the bootstrap key, one key per stack, native S3 lockfile."""

import pytest
from stack_helpers import DEPLOYED

from modules.remote_state import RemoteStateConfig


@pytest.mark.parametrize("environment", ["local", "dev", "prod"])
def test_backend_is_encrypted_locked_and_keyed_per_stack(synth, environment):
    tf = synth.stack(environment)
    backend = tf["terraform"]["backend"]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert "dynamodb_table" not in backend
    # Bucket names are global: the default carries the account id (the emulator's for local, AWS_ACCOUNT_ID_<ENV>'s
    # for dev and prod).
    account = {"local": "123456789012"}.get(environment) or DEPLOYED[f"AWS_ACCOUNT_ID_{environment.upper()}"]
    assert backend["bucket"] == f"serverless-app-tfstate-{account}"
    assert backend["region"] == "us-east-1"
    assert backend["key"] == f"serverless-app-{environment}/terraform.tfstate"
    # A real account's backend sends the state key's ARN, the only key id the state bucket's policy accepts; only
    # the emulator (which evaluates no condition) is given the alias.
    expected = DEPLOYED.get(f"TF_STATE_KMS_KEY_ARN_{environment.upper()}", "alias/serverless-app-tfstate")
    assert backend["kms_key_id"] == expected


def test_local_backend_uses_the_same_code_against_the_emulator(local, prod):
    backend = local["terraform"]["backend"]["s3"]
    assert backend["endpoints"]["s3"].startswith("http://127.0.0.1:")
    assert backend["use_path_style"] is True
    assert "endpoints" not in prod["terraform"]["backend"]["s3"]


def test_state_bucket_and_key_arn_follow_the_environments_account():
    from stacks import environments

    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    configs = environments.load({"AWS_ACCOUNT_ID_PROD": "111122223333", "TF_STATE_KMS_KEY_ARN_PROD": arn})
    assert configs["prod"].state.bucket == "serverless-app-tfstate-111122223333"
    # The backend sends the key ARN, which is what the state bucket's policy compares the upload's key id with.
    assert configs["prod"].state.backend_kms_key_id(emulated=False) == arn
    assert configs["prod"].deployable and not configs["dev"].deployable
    # Without the ARN a real account's backend has no key id to send: never the alias.
    with pytest.raises(ValueError, match=r"state.kms_key_arn=None is invalid: allowed the state key's ARN"):
        configs["dev"].state.backend_kms_key_id(emulated=False)
    assert configs["local"].state.backend_kms_key_id(emulated=True) == "alias/serverless-app-tfstate"


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["AWS_ACCOUNT_ID_PROD", "TF_STATE_KMS_KEY_ARN_PROD"]),
        # The account alone is what its first bootstrap needs, whose output is the state key's ARN.
        ({"AWS_ACCOUNT_ID_PROD": "111122223333"}, ["TF_STATE_KMS_KEY_ARN_PROD"]),
    ],
)
def test_prod_is_not_synthesized_until_its_account_and_state_key_are_set(tmp_path, environ, missing, capsys):
    from stack_helpers import synthesize

    synth = synthesize(tmp_path / "out", environ)
    assert sorted(name.rsplit("-", 1)[1] for name in synth.stacks) == ["bootstrap", "local"]
    notice = next(line for line in capsys.readouterr().out.splitlines() if "serverless-app-prod" in line)
    assert notice.startswith("synth: serverless-app-prod not synthesized: set ")
    assert [variable for variable in missing if variable in notice] == missing
    # Every tool that looks for the stack says the same: make plan, make deploy, make drift.
    from tools import manifest
    from tools.manifest import StackError

    with pytest.raises(StackError, match="no prod stack was synthesized: set AWS_ACCOUNT_ID_PROD and TF_STATE_KMS"):
        manifest.find("prod", synth.outdir)


def test_a_state_key_without_its_account_is_refused():
    from stacks import environments

    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(ValueError, match=r"allowed_account_ids=\(\) is invalid: allowed the account of state.kms_key"):
        environments.load({"TF_STATE_KMS_KEY_ARN_PROD": arn})


def test_a_state_key_of_another_account_is_refused():
    from stacks import environments

    other = "arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(
        ValueError,
        match=r"state.kms_key_arn='arn:aws:kms:us-east-1:999988887777:key/.*' is invalid: "
        r"allowed a key in this environment's account \(111122223333\)",
    ):
        environments.load({"AWS_ACCOUNT_ID_PROD": "111122223333", "TF_STATE_KMS_KEY_ARN_PROD": other})


@pytest.mark.slow
def test_backend_settings_come_from_environment_variables(tmp_path):
    from stack_helpers import synthesize

    synth = synthesize(
        tmp_path / "out", {**DEPLOYED, "TF_STATE_BUCKET": "acme-tfstate", "TF_STATE_KEY_PREFIX": "team-a/"}
    )
    backend = synth.stack("prod")["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "acme-tfstate"
    assert backend["key"] == "team-a/serverless-app-prod/terraform.tfstate"
    assert synth.stack("bootstrap")["resource"]["aws_s3_bucket"]
    assert any(b["bucket"] == "acme-tfstate" for b in synth.stack("bootstrap")["resource"]["aws_s3_bucket"].values())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("region", "eu-central-1", "state.region='eu-central-1' is invalid"),
        ("bucket", "Bad_Bucket", "state.bucket='Bad_Bucket' is invalid"),
        ("key_prefix", "no-trailing-slash", "state.key_prefix='no-trailing-slash' is invalid"),
        ("kms_key_alias", "tfstate", "state.kms_key_alias='tfstate' is invalid"),
        ("kms_key_arn", "alias/tfstate", "state.kms_key_arn='alias/tfstate' is invalid: allowed a KMS key ARN"),
        (
            "kms_key_arn",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "state.kms_key_arn='arn:aws:kms:eu-west-1",
        ),
    ],
)
def test_remote_state_config_errors(field, value, message):
    values = {"bucket": "ok-bucket", "kms_key_alias": "alias/k", field: value}
    with pytest.raises(ValueError, match=message):
        RemoteStateConfig(**values)
