"""The DeployRoles construct alone: who may assume each role, what each role may do, and what its config refuses.

Stack-level checks (the bootstrap's roles, its boundaries) live in test_bootstrap_stack.py; what the policies
allow request by request is simulated in tests/simulation."""

from __future__ import annotations

import json

import builders
import pytest

from modules.deploy_roles import GITHUB_ISSUER, DeployRoles, DeployRolesConfig, DeployTarget
from modules.validation import ConfigError

PROVIDER_ARN = f"arn:aws:iam::111122223333:oidc-provider/{GITHUB_ISSUER}"
TARGETS = (
    DeployTarget(environment="dev", name_prefix="payments-dev", state_object_prefix="payments-dev/"),
    DeployTarget(environment="prod", name_prefix="payments-prod", state_object_prefix="payments-prod/"),
)


def _synth(boundaries=("dev", "prod"), **changes) -> dict:
    def build(stack, account):
        DeployRoles(
            stack,
            "deploy",
            config=DeployRolesConfig(**{"github_repository": "acme/payments", "targets": TARGETS, **changes}),
            account=account,
            state_bucket_arn="arn:aws:s3:::acme-state",
            state_key_arn="arn:aws:kms:us-east-1:111122223333:key/state",
            boundary_arns={
                env: f"arn:aws:iam::111122223333:policy/deploy/payments-{env}-boundary" for env in boundaries
            },
        )

    return builders.synth_scope(build)


@pytest.fixture(scope="module")
def tf() -> dict:
    return _synth()


def _roles(tf: dict) -> dict[str, dict]:
    return {role["name"]: role for role in builders.of(tf, "aws_iam_role")}


def _trust(role: dict) -> dict:
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    return statement


def _policy(tf: dict, role_name: str) -> dict[str, dict]:
    """The role's inline policy, statements by Sid."""
    key = next(k for k, r in tf["resource"]["aws_iam_role"].items() if r["name"] == role_name)
    (policy,) = [p for p in builders.of(tf, "aws_iam_role_policy") if p["role"] == f"${{aws_iam_role.{key}.id}}"]
    return {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}


def test_a_plan_and_an_apply_role_per_target_under_the_deploy_path(tf):
    roles = _roles(tf)
    assert set(roles) == {"payments-dev-plan", "payments-dev-apply", "payments-prod-plan", "payments-prod-apply"}
    for role in roles.values():
        assert role["path"] == "/deploy/"
        assert role["max_session_duration"] == 3600
    (provider,) = builders.of(tf, "aws_iam_openid_connect_provider")
    assert provider == {"url": f"https://{GITHUB_ISSUER}", "client_id_list": ["sts.amazonaws.com"]}


def test_only_this_repositorys_tokens_for_sts_by_ref_pull_request_or_environment(tf):
    roles = _roles(tf)
    subjects = {}
    for name, role in roles.items():
        trust = _trust(role)
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert trust["Principal"]["Federated"].startswith("${aws_iam_openid_connect_provider.")
        condition = trust["Condition"]["StringEquals"]
        assert set(trust["Condition"]) == {"StringEquals"}  # exact matches: no StringLike wildcards
        assert condition[f"{GITHUB_ISSUER}:aud"] == "sts.amazonaws.com"
        subjects[name] = condition[f"{GITHUB_ISSUER}:sub"]
    main = "repo:acme/payments:ref:refs/heads/main"
    assert subjects == {
        "payments-dev-plan": [main, "repo:acme/payments:pull_request"],
        "payments-prod-plan": [main],
        "payments-dev-apply": ["repo:acme/payments:environment:dev"],
        "payments-prod-apply": ["repo:acme/payments:environment:prod"],
    }


def test_the_main_branch_and_pull_request_plans_are_configurable():
    roles = _roles(_synth(main_branch="release/1", pull_request_plans=()))
    for env in ("dev", "prod"):
        assert _trust(roles[f"payments-{env}-plan"])["Condition"]["StringEquals"][f"{GITHUB_ISSUER}:sub"] == [
            "repo:acme/payments:ref:refs/heads/release/1"
        ]


def test_plan_roles_read_state_without_writing_it_and_apply_roles_write_by_prefix(tf):
    plan, apply = _policy(tf, "payments-prod-plan"), _policy(tf, "payments-prod-apply")
    assert plan["ReadState"]["Resource"] == "arn:aws:s3:::acme-state/payments-prod/*"
    assert "WriteStateAndLock" not in plan and plan["StateEncryption"]["Action"] == "kms:Decrypt"
    assert not any(
        action.startswith(("s3:Put", "s3:Delete", "iam:Create", "lambda:*"))
        for statement in plan.values()
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    )
    assert apply["WriteStateAndLock"]["Action"] == ["s3:PutObject", "s3:DeleteObject"]
    assert apply["WriteStateAndLock"]["Resource"] == "arn:aws:s3:::acme-state/payments-prod/*"
    assert apply["Functions"]["Resource"][0].endswith(":function:payments-prod-*")
    # Neither role may use the state key other than through S3.
    for policy in (plan, apply):
        assert policy["StateKeyOnlyThroughS3"]["Effect"] == "Deny"


def test_apply_roles_make_service_roles_only_with_their_environments_boundary(tf):
    for env in ("dev", "prod"):
        apply = _policy(tf, f"payments-{env}-apply")
        bounded = apply["ServiceRolesWithTheBoundary"]
        assert bounded["Condition"] == {
            "StringEquals": {
                "iam:PermissionsBoundary": f"arn:aws:iam::111122223333:policy/deploy/payments-{env}-boundary"
            }
        }
        never_unbound = apply["NeverUnbound"]
        assert (never_unbound["Effect"], never_unbound["Action"]) == ("Deny", "iam:DeleteRolePermissionsBoundary")


def test_an_existing_github_provider_is_trusted_not_created():
    tf = _synth(existing_oidc_provider_arn=PROVIDER_ARN, max_session_duration_seconds=7200)
    assert not builders.of(tf, "aws_iam_openid_connect_provider")
    for role in _roles(tf).values():
        assert _trust(role)["Principal"] == {"Federated": PROVIDER_ARN}
        assert role["max_session_duration"] == 7200


def test_a_target_without_a_boundary_is_refused_before_anything_is_made():
    with pytest.raises(ConfigError, match=r"boundary_arns=\['dev'\] is invalid: allowed a boundary for every target"):
        _synth(boundaries=("dev",))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"github_repository": "acme/*"}, r"deploy_roles.github_repository='acme/\*' is invalid: allowed 'owner/name'"),
        ({"targets": ()}, r"deploy_roles.targets=\(\) is invalid: allowed at least one environment"),
        ({"targets": [TARGETS[0]]}, r"deploy_roles.targets=\[.*\] is invalid: allowed a value of type tuple"),
        ({"targets": ("dev",)}, r"deploy_roles.targets\[0\]='dev' is invalid: allowed a value of type DeployTarget"),
        (
            {"targets": (TARGETS[0], TARGETS[0])},
            r"deploy_roles.targets=\['dev', 'dev'\] is invalid: allowed distinct environments",
        ),
        ({"pull_request_plans": ("qa",)}, r"deploy_roles.pull_request_plans\[0\]='qa' is invalid: allowed one of"),
        ({"main_branch": "release/*"}, r"deploy_roles.main_branch='release/\*' is invalid: allowed a branch name"),
        (
            {"existing_oidc_provider_arn": "arn:aws:iam::111122223333:oidc-provider/example.com"},
            r"deploy_roles.existing_oidc_provider_arn='.*' is invalid: allowed the ARN of this account's OIDC provider",
        ),
        (
            {"max_session_duration_seconds": 60},
            r"deploy_roles.max_session_duration_seconds=60 is invalid: allowed 3600",
        ),
    ],
)
def test_a_bad_config_names_the_field_and_the_allowed_values(changes, message):
    with pytest.raises(ConfigError, match=message):
        DeployRolesConfig(**{"github_repository": "acme/payments", "targets": TARGETS, **changes})
