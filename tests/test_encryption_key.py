"""The stack's KMS key: rotation, deletion window, alias, and a key policy naming exactly its users."""

import pytest
from stack_helpers import one, ref, resources, statements

from modules.encryption_key import EncryptionKeyConfig


def test_key_rotates_with_the_configured_window(prod, dev, local):
    assert one(prod, "aws_kms_key")["enable_key_rotation"] is True
    assert one(dev, "aws_kms_key")["enable_key_rotation"] is True
    assert one(local, "aws_kms_key")["enable_key_rotation"] is False  # the emulator never rotates (policy exemption)
    assert one(prod, "aws_kms_key")["deletion_window_in_days"] == 30
    assert one(prod, "aws_kms_key")["lifecycle"]["prevent_destroy"] is True
    assert one(dev, "aws_kms_key")["deletion_window_in_days"] == 7
    assert one(prod, "aws_kms_alias")["name"] == "alias/serverless-app-prod"


def test_key_policy_names_each_principal_and_grants_nothing_broader(prod):
    policy = statements(one(prod, "aws_kms_key"))
    assert set(policy) == {
        "AccountAdministration",
        "CloudWatchLogsEncryptTheseGroups",
        "FirehoseWritesTheArchive",
        "ServerlessAppProdApiDecryptsItsEnvironment",
        "ServerlessAppProdApiSendsDeadLetters",
        "ServerlessAppProdAdminDecryptsItsEnvironment",
        "ServerlessAppProdAdminSendsDeadLetters",
        "ServerlessAppProdReleaseHookDecryptsItsEnvironment",
        "ServerlessAppProdReleaseHookSendsDeadLetters",
        "CloudWatchAlarmsPublishToTheEncryptedTopic",
        "CiRoleAdministersThisKey",
        "CiRoleLetsServicesUseThisKey",
    }
    # Only the administration statement names the account; every other one names a role or a service (the CI
    # role's by aws:PrincipalArn, below).
    roots = [sid for sid, s in policy.items() if str(s["Principal"].get("AWS", "")).endswith(":root")]
    assert roots == ["AccountAdministration"]
    assert [s for s in policy.values() if s["Action"] == "kms:*"] == [policy["AccountAdministration"]]
    roles = {r["name"]: k for k, r in resources(prod, "aws_iam_role").items()}
    firehose = policy["FirehoseWritesTheArchive"]
    assert firehose["Principal"] == {"AWS": ref("aws_iam_role", roles["serverless-app-prod-firehose"], "arn")}
    assert firehose["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    env = policy["ServerlessAppProdApiDecryptsItsEnvironment"]
    assert env["Principal"] == {"AWS": ref("aws_iam_role", roles["serverless-app-prod-api-exec"], "arn")}
    assert env["Condition"]["StringEquals"]["kms:ViaService"] == "lambda.us-east-1.amazonaws.com"
    assert env["Condition"]["StringEquals"]["kms:EncryptionContext:aws:lambda:FunctionArn"].endswith(
        ":function:serverless-app-prod-api"
    )
    dlq = policy["ServerlessAppProdApiSendsDeadLetters"]
    assert dlq["Condition"]["StringEquals"]["kms:ViaService"] == "sqs.us-east-1.amazonaws.com"
    # By name, not by reference: the queue refers to the key, so the key's policy cannot refer to the queue.
    queue_arn = dlq["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sqs:arn"]
    assert ":sqs:us-east-1:${data.aws_caller_identity." in queue_arn
    assert queue_arn.endswith(".account_id}:serverless-app-prod-api-dead-letters")
    alarms = policy["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_cloudwatch_logs_may_encrypt_exactly_the_stacks_log_groups(prod):
    logs = statements(one(prod, "aws_kms_key"))["CloudWatchLogsEncryptTheseGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    arns = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    names = sorted(g["name"] for g in resources(prod, "aws_cloudwatch_log_group").values())
    assert sorted(arn.split(":log-group:", 1)[1] for arn in arns) == names
    assert all(arn.startswith("arn:${data.aws_partition.") for arn in arns)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deletion_window_in_days": 6}, "encryption_key.deletion_window_in_days=6 is invalid: allowed 7..30"),
        ({"deletion_window_in_days": 31}, "encryption_key.deletion_window_in_days=31 is invalid"),
        ({"deletion_window_in_days": "30"}, "encryption_key.deletion_window_in_days='30' is invalid"),
        ({"alias": "aws/reserved"}, "encryption_key.alias='aws/reserved' is invalid"),
        ({"alias": ""}, "encryption_key.alias='' is invalid"),
        ({"prevent_destroy": "yes"}, "encryption_key.prevent_destroy='yes' is invalid"),
    ],
)
def test_key_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        EncryptionKeyConfig(**{"alias": "ok", **values})


def test_the_ci_apply_role_administers_the_key_by_its_key_policy_not_by_tags(prod, local):
    policy = statements(one(prod, "aws_kms_key"))
    admin, use = policy["CiRoleAdministersThisKey"], policy["CiRoleLetsServicesUseThisKey"]
    for statement in (admin, use):
        # "*" with aws:PrincipalArn: KMS would refuse a key policy naming a role that does not exist yet.
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(
            ":role/deploy/serverless-app-prod-apply"
        )
    assert "kms:PutKeyPolicy" in admin["Action"] and "kms:*" not in admin["Action"]
    assert not [a for a in admin["Action"] if a.startswith(("kms:Decrypt", "kms:Encrypt", "kms:Generate"))]
    assert "kms:ViaService" in use["Condition"]["StringEquals"]
    # The emulator has no CI roles.
    assert "CiRoleAdministersThisKey" not in statements(one(local, "aws_kms_key"))


def test_an_administrator_role_is_a_path_and_a_name():
    with pytest.raises(ValueError, match=r"encryption_key.administrator_role='deploy' is invalid: allowed '/<path>/"):
        EncryptionKeyConfig(alias="x", administrator_role="deploy")
