"""Remote state: S3 backend, encrypted with the bootstrap key, one key per stack, native S3 lockfile."""

import pytest

from modules.remote_state import RemoteStateConfig


@pytest.mark.parametrize("environment", ["local", "dev", "prod"])
def test_backend_is_encrypted_locked_and_keyed_per_stack(synth, environment):
    tf = synth.stack(environment)
    backend = tf["terraform"]["backend"]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert "dynamodb_table" not in backend
    assert backend["bucket"] == "serverless-app-tfstate"
    assert backend["region"] == "us-east-1"
    assert backend["key"] == f"serverless-app-{environment}/terraform.tfstate"
    assert backend["kms_key_id"] == "alias/serverless-app-tfstate"


def test_local_backend_uses_the_same_code_against_the_emulator(local, prod):
    backend = local["terraform"]["backend"]["s3"]
    assert backend["endpoints"]["s3"].startswith("http://127.0.0.1:")
    assert backend["use_path_style"] is True
    assert "endpoints" not in prod["terraform"]["backend"]["s3"]


@pytest.mark.slow
def test_backend_settings_come_from_environment_variables(tmp_path):
    from stack_helpers import synthesize

    synth = synthesize(tmp_path / "out", {"TF_STATE_BUCKET": "acme-tfstate", "TF_STATE_KEY_PREFIX": "team-a/"})
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
    ],
)
def test_remote_state_config_errors(field, value, message):
    values = {"bucket": "ok-bucket", "kms_key_alias": "alias/k", field: value}
    with pytest.raises(ValueError, match=message):
        RemoteStateConfig(**values)
