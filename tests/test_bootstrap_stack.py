"""The bootstrap stack of an account: state bucket and key, the account's API Gateway logging role, deploy roles."""

import json

import pytest
from stack_helpers import bootstrap_for, one, ref, resources, statements

PROD = {"BOOTSTRAP_ENV": "prod", "AWS_ACCOUNT_ID_PROD": "111122223333", "GITHUB_REPOSITORY": "acme/serverless-app"}


def _state_bucket(bootstrap, name="serverless-app-tfstate-123456789012"):
    return next((key, b) for key, b in resources(bootstrap, "aws_s3_bucket").items() if b["bucket"] == name)


@pytest.fixture(scope="module")
def prod_bootstrap():
    return bootstrap_for(PROD)


def test_bootstrap_keeps_local_state(bootstrap):
    assert "local" in bootstrap["terraform"]["backend"]
    assert bootstrap["terraform"]["backend"]["local"]["path"].endswith("serverless-app-bootstrap-local.tfstate")


def test_state_bucket_is_versioned_encrypted_private_and_protected(bootstrap):
    name, bucket = _state_bucket(bootstrap)
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert bucket.get("force_destroy") is False
    bucket_id = ref("aws_s3_bucket", name)
    versioning = [v for v in resources(bootstrap, "aws_s3_bucket_versioning").values() if v["bucket"] == bucket_id]
    assert versioning[0]["versioning_configuration"]["status"] == "Enabled"
    (encryption,) = [
        e
        for e in resources(bootstrap, "aws_s3_bucket_server_side_encryption_configuration").values()
        if e["bucket"] == bucket_id
    ]
    rule = encryption["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    key_name = next(iter(resources(bootstrap, "aws_kms_key")))
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")
    (block,) = [
        b for b in resources(bootstrap, "aws_s3_bucket_public_access_block").values() if b["bucket"] == bucket_id
    ]
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_state_key_rotates_on_a_real_account_and_is_never_destroyed(bootstrap, prod_bootstrap):
    key = one(prod_bootstrap, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["lifecycle"]["prevent_destroy"] is True
    # The default bootstrap targets the emulator, whose keys do not rotate (as the local stack's, see test_policy).
    key = one(bootstrap, "aws_kms_key")
    assert key["enable_key_rotation"] is False
    assert key["lifecycle"]["prevent_destroy"] is True


def test_state_bucket_policy_is_tls_only(bootstrap):
    name, _ = _state_bucket(bootstrap)
    (policy,) = [
        p for p in resources(bootstrap, "aws_s3_bucket_policy").values() if p["bucket"] == ref("aws_s3_bucket", name)
    ]
    deny = statements(policy)["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The default bootstrap targets the emulator, whose object-level denies are relaxed (see test_policy).
    assert ref("aws_s3_bucket", name, "arn") in deny["Resource"]


def test_bootstrap_for_prod_names_the_bucket_by_account_and_denies_on_objects_too(prod_bootstrap):
    assert "endpoints" not in prod_bootstrap["provider"]["aws"][0]
    name, _ = _state_bucket(prod_bootstrap, "serverless-app-tfstate-111122223333")
    arn = ref("aws_s3_bucket", name, "arn")
    (policy,) = [
        p
        for p in resources(prod_bootstrap, "aws_s3_bucket_policy").values()
        if p["bucket"] == ref("aws_s3_bucket", name)
    ]
    policy = statements(policy)
    assert set(policy["DenyInsecureTransport"]["Resource"]) == {arn, f"{arn}/*"}
    key = ref("aws_kms_key", next(iter(resources(prod_bootstrap, "aws_kms_key"))), "arn")
    assert policy["DenyUploadsWithAnotherKey"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key}
    }
    assert prod_bootstrap["terraform"]["backend"]["local"]["path"].endswith("serverless-app-bootstrap-prod.tfstate")


def test_the_account_api_gateway_logging_role_has_exactly_one_owner(bootstrap, synth):
    setting = one(bootstrap, "aws_api_gateway_account")
    assert setting["cloudwatch_role_arn"].startswith("${aws_iam_role.")
    assert setting["reset_on_delete"] is True
    welcome = next(
        g for g in resources(bootstrap, "aws_cloudwatch_log_group").values() if g["name"] == "/aws/apigateway/welcome"
    )
    assert welcome["kms_key_id"].startswith("${aws_kms_key.") and welcome["retention_in_days"] == 30
    # The setting waits for the group, or API Gateway would create it unencrypted first.
    assert any(d.startswith("aws_cloudwatch_log_group.") for d in setting["depends_on"])
    for environment in ("local", "dev", "prod"):
        assert not resources(synth.stack(environment), "aws_api_gateway_account"), environment


def test_deploy_roles_trust_only_this_repository_by_ref_or_environment(prod_bootstrap):
    provider = one(prod_bootstrap, "aws_iam_openid_connect_provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    roles = {r["name"]: r for r in resources(prod_bootstrap, "aws_iam_role").values() if r.get("path") == "/deploy/"}
    assert set(roles) == {"serverless-app-prod-plan", "serverless-app-prod-apply"}
    for name, subjects in (
        (
            "serverless-app-prod-plan",
            ["repo:acme/serverless-app:pull_request", "repo:acme/serverless-app:ref:refs/heads/main"],
        ),
        ("serverless-app-prod-apply", ["repo:acme/serverless-app:environment:prod"]),
    ):
        (trust,) = json.loads(roles[name]["assume_role_policy"])["Statement"]
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert trust["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": subjects,
            }
        }


def test_plan_roles_read_and_lock_only_while_apply_roles_write(prod_bootstrap):
    policies = {p["role"]: statements(p) for p in resources(prod_bootstrap, "aws_iam_role_policy").values()}
    plan = next(v for k, v in policies.items() if "prod_plan" in k)
    apply = next(v for k, v in policies.items() if "prod_apply" in k)
    assert plan["TakeTheLock"]["Resource"].endswith("/serverless-app-prod/*.tflock")
    assert "WriteState" not in plan and apply["WriteState"]["Resource"].endswith("/serverless-app-prod/*")
    writes = [
        a
        for s in plan.values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if a.split(":")[1].startswith(("Create", "Delete", "Put", "Update"))
    ]
    assert writes == ["s3:PutObject", "s3:DeleteObject"]
    assert {"Functions", "ServiceRoles", "PassServiceRoles"} <= set(apply)
    assert apply["ServiceRoles"]["Resource"].endswith(":role/serverless-app-prod-*")


def test_dev_and_prod_in_one_account_get_both_roles_from_one_bootstrap():
    shared = {**PROD, "AWS_ACCOUNT_ID_DEV": "111122223333"}
    names = {r["name"] for r in resources(bootstrap_for(shared), "aws_iam_role").values() if r.get("path")}
    assert names == {
        "serverless-app-dev-plan",
        "serverless-app-dev-apply",
        "serverless-app-prod-plan",
        "serverless-app-prod-apply",
    }


def test_no_repository_no_roles_and_a_wildcard_repository_is_refused():
    assert not resources(bootstrap_for({"BOOTSTRAP_ENV": "prod"}), "aws_iam_openid_connect_provider")
    with pytest.raises(ValueError, match=r"deploy_roles.github_repository='acme/\*' is invalid: allowed 'owner/name'"):
        bootstrap_for({**PROD, "GITHUB_REPOSITORY": "acme/*"})
