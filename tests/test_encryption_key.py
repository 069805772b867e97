"""The stack's KMS key: rotation, deletion window, alias, and a key policy granting exactly its users."""

import pytest
from stack_helpers import one, statements

from modules.encryption_key import EncryptionKeyConfig


def test_key_rotates_with_the_configured_window(prod, dev):
    assert one(prod, "aws_kms_key")["enable_key_rotation"] is True
    assert one(prod, "aws_kms_key")["deletion_window_in_days"] == 30
    assert one(prod, "aws_kms_key")["lifecycle"]["prevent_destroy"] is True
    assert one(dev, "aws_kms_key")["deletion_window_in_days"] == 7
    assert one(prod, "aws_kms_alias")["name"] == "alias/serverless-app-prod"


def test_key_policy_grants_each_service_and_nothing_broader(prod):
    policy = statements(one(prod, "aws_kms_key"))
    assert set(policy) == {
        "AccountAdministration",
        "CloudWatchLogsInThisAccount",
        "S3DeliveryForThisAccount",
        "CloudWatchAlarmsPublishToEncryptedTopics",
        "LambdaEnvironmentEncryption",
    }
    for sid, statement in policy.items():
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}, sid
    logs = policy["CloudWatchLogsInThisAccount"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].startswith("arn:")
    s3 = policy["S3DeliveryForThisAccount"]["Condition"]["StringEquals"]
    assert s3["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    alarms = policy["CloudWatchAlarmsPublishToEncryptedTopics"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert "aws:SourceAccount" in alarms["Condition"]["StringEquals"]
    lam = policy["LambdaEnvironmentEncryption"]
    assert lam["Condition"]["StringEquals"]["kms:ViaService"] == "lambda.us-east-1.amazonaws.com"
    # Only the administration statement may use kms:*; service statements list their actions.
    assert [s for s in policy.values() if s["Action"] == "kms:*"] == [policy["AccountAdministration"]]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deletion_window_in_days": 6}, "encryption_key.deletion_window_in_days=6 is invalid: allowed 7..30"),
        ({"deletion_window_in_days": 31}, "encryption_key.deletion_window_in_days=31 is invalid"),
        ({"deletion_window_in_days": "30"}, "encryption_key.deletion_window_in_days='30' is invalid"),
        ({"alias": "aws/reserved"}, "encryption_key.alias='aws/reserved' is invalid"),
        ({"alias": ""}, "encryption_key.alias='' is invalid"),
        ({"allow_lambda": "yes"}, "encryption_key.allow_lambda='yes' is invalid"),
    ],
)
def test_key_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        EncryptionKeyConfig(**{"alias": "ok", **values})
