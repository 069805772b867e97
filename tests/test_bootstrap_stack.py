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
    # prod is planned from main only: a pull request's code runs with the plan role's rights, which read prod's
    # state. Its apply role trusts jobs of the GitHub environment `prod` (limited to main by its branch policy).
    for name, subjects in (
        ("serverless-app-prod-plan", ["repo:acme/serverless-app:ref:refs/heads/main"]),
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


def test_plan_roles_only_read_and_take_no_lock_while_apply_roles_write(prod_bootstrap):
    policies = {p["role"]: statements(p) for p in resources(prod_bootstrap, "aws_iam_role_policy").values()}
    plan = next(v for k, v in policies.items() if "prod_plan" in k)
    apply = next(v for k, v in policies.items() if "prod_apply" in k)
    assert "WriteStateAndLock" not in plan and apply["WriteStateAndLock"]["Resource"].endswith("/serverless-app-prod/*")
    writes = [
        a
        for s in plan.values()
        if s["Effect"] == "Allow"
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if a.split(":")[1].startswith(("Create", "Delete", "Put", "Update", "Tag"))
    ]
    assert writes == []
    assert {"Functions", "ServiceRolesWithTheBoundary", "PassServiceRoles"} <= set(apply)
    assert apply["ServiceRolesWithTheBoundary"]["Resource"].endswith(":role/serverless-app-prod-*")
    # Both may list the state bucket unconditioned (a missing state object is then a 404, not a 403) and never use
    # the state key but through S3.
    for role in (plan, apply):
        assert "Condition" not in role["ListState"]
        assert role["StateKeyOnlyThroughS3"]["Effect"] == "Deny"


def test_pull_request_plans_are_limited_to_the_environments_named():
    shared = {**PROD, "AWS_ACCOUNT_ID_DEV": "111122223333"}
    roles = {r["name"]: r for r in resources(bootstrap_for(shared), "aws_iam_role").values() if r.get("path")}
    trusts = {
        name: json.loads(role["assume_role_policy"])["Statement"][0]["Condition"]["StringEquals"][
            "token.actions.githubusercontent.com:sub"
        ]
        for name, role in roles.items()
        if name.endswith("-plan")
    }
    assert trusts == {
        "serverless-app-dev-plan": [
            "repo:acme/serverless-app:ref:refs/heads/main",
            "repo:acme/serverless-app:pull_request",
        ],
        "serverless-app-prod-plan": ["repo:acme/serverless-app:ref:refs/heads/main"],
    }


def test_an_existing_github_provider_is_used_not_created(prod_bootstrap):
    arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    tf = bootstrap_for({**PROD, "GITHUB_OIDC_PROVIDER_ARN": arn})
    assert not resources(tf, "aws_iam_openid_connect_provider")
    trust = json.loads(next(r for r in resources(tf, "aws_iam_role").values() if r.get("path"))["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}
    with pytest.raises(
        ValueError,
        match=r"GITHUB_OIDC_PROVIDER_ARN='arn:aws:iam::999988887777:.*' is invalid: allowed the "
        r"OIDC provider of the bootstrapped account 111122223333",
    ):
        bootstrap_for({**PROD, "GITHUB_OIDC_PROVIDER_ARN": arn.replace("111122223333", "999988887777")})
    with pytest.raises(ValueError, match=r"existing_oidc_provider_arn='arn:aws:iam::111122223333:oidc-provider/x' is"):
        bootstrap_for({**PROD, "GITHUB_OIDC_PROVIDER_ARN": "arn:aws:iam::111122223333:oidc-provider/x"})


def test_every_environment_of_the_account_gets_its_service_role_boundary(bootstrap, prod_bootstrap):
    assert {p["name"] for p in resources(bootstrap, "aws_iam_policy").values()} == {
        "serverless-app-local-service-boundary"
    }
    (boundary,) = resources(prod_bootstrap, "aws_iam_policy").values()
    assert boundary["name"] == "serverless-app-prod-service-boundary" and boundary["path"] == "/deploy/"
    deny = statements(boundary)["NoIdentityChanges"]
    assert deny["Effect"] == "Deny" and "iam:*" in deny["Action"]


def test_bootstrap_state_moves_into_the_state_bucket_once_its_key_is_known(prod_bootstrap):
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tf = bootstrap_for({**PROD, "TF_STATE_KMS_KEY_ARN_PROD": arn})
    backend = tf["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "serverless-app-tfstate-111122223333"
    assert backend["key"] == "serverless-app-bootstrap-prod/terraform.tfstate"
    assert backend["kms_key_id"] == arn and backend["use_lockfile"] is True
    # The first apply's local state, which `make bootstrap` pushes there once.
    assert tf["locals"]["local_state_before_migration"].endswith("serverless-app-bootstrap-prod.tfstate")
    assert "local" in prod_bootstrap["terraform"]["backend"]  # before the key exists


def test_a_bootstrap_of_an_account_nobody_named_is_refused():
    with pytest.raises(
        ValueError, match=r"BOOTSTRAP_ENV='prod' is invalid: allowed an environment whose account is set"
    ):
        bootstrap_for({"BOOTSTRAP_ENV": "prod"})


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
    alone = {"BOOTSTRAP_ENV": "prod", "AWS_ACCOUNT_ID_PROD": "111122223333"}
    assert not resources(bootstrap_for(alone), "aws_iam_openid_connect_provider")
    with pytest.raises(ValueError, match=r"deploy_roles.github_repository='acme/\*' is invalid: allowed 'owner/name'"):
        bootstrap_for({**PROD, "GITHUB_REPOSITORY": "acme/*"})


def test_make_bootstrap_pushes_the_first_local_state_into_the_bucket_once(tmp_path, monkeypatch):
    import subprocess

    from tools import stackctl
    from tools.manifest import Stack, StackError

    local = tmp_path / "serverless-app-bootstrap-prod.tfstate"
    local.write_text('{"version": 4, "serial": 3, "resources": [{"type": "aws_s3_bucket"}]}')
    stack = Stack("serverless-app-bootstrap", tmp_path)
    object.__setattr__(
        stack,
        "tf",
        {"terraform": {"backend": {"s3": {"bucket": "b"}}}, "locals": {"local_state_before_migration": str(local)}},
    )
    remote = {"text": ""}
    pushed = []
    monkeypatch.setattr(
        stackctl.subprocess,
        "run",
        lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, stdout=remote["text"], stderr=""),
    )
    monkeypatch.setattr(stackctl, "terraform", lambda stack, *args, **kwargs: pushed.append(args))
    assert stackctl.migrate_local_state(stack) is True
    assert pushed == [("state", "push", "-lock-timeout=60s", str(local))]
    assert not local.exists() and local.with_name(local.name + ".migrated").exists()
    assert stackctl.migrate_local_state(stack) is False  # once: the local file is gone
    # Both sides holding state is a decision for a person, not for the tool.
    local.write_text('{"version": 4, "resources": [{"type": "aws_s3_bucket"}]}')
    remote["text"] = '{"version": 4, "resources": [{"type": "aws_kms_key"}]}'
    with pytest.raises(StackError, match=r"both .* and the state bucket hold state"):
        stackctl.migrate_local_state(stack)
