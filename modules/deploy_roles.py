"""Keyless CI: GitHub's OIDC identity provider and, per environment, a read-only plan role and an apply role.

A workflow assumes a role with ``aws-actions/configure-aws-credentials`` (``role-to-assume``); the trust policy
accepts only this repository's tokens for ``sts.amazonaws.com``, and only from the refs or GitHub environments
named here. Plan roles read (and take the state lock); apply roles write, scoped to the environment's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.account import AccountContext
from modules.deploy_policies import read_statements, state_statements, write_statements
from modules.iam import document
from modules.validation import Checks, fail

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# The deploy roles live under their own IAM path, so the apply role's rights over "role/<prefix>-*" (the stack's
# service roles) can never reach the deploy roles themselves.
ROLE_PATH = "/deploy/"


@dataclass(frozen=True)
class DeployTarget:
    """One environment deployed from CI into this account."""

    environment: str
    """Environment name; the apply role trusts the GitHub environment of the same name."""
    name_prefix: str
    """``<app>-<env>``: every resource of the environment is named with it, and the apply role is scoped to it."""
    state_object_prefix: str
    """``<key prefix><stack>/`` of the environment's state objects in the state bucket."""


def apply_role_path(name_prefix: str) -> str:
    """``/deploy/<prefix>-apply``: the apply role as ``EncryptionKeyConfig.administrator_role`` names it."""
    return f"{ROLE_PATH}{name_prefix}-apply"


ARN_OF_GITHUB_PROVIDER = rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_ISSUER)}"


@dataclass(frozen=True)
class DeployRolesConfig:
    """Who may assume the deploy roles: one GitHub repository; plans from main (and, for the environments named in
    ``pull_request_plans``, from pull requests); applies only from the GitHub environment of the same name."""

    github_repository: str
    """``owner/name`` of the only repository whose workflows may assume the roles (no wildcards)."""
    targets: tuple[DeployTarget, ...]
    """The environments deployed into this account (two when dev and prod share it)."""
    pull_request_plans: tuple[str, ...] = ("dev",)
    """Environments whose plan role a pull request may assume (default dev only). A pull request runs code its
    author wrote, with the role's rights: it reads that environment's state. prod is planned from main only, and
    its reviewer approves the plan shown in that run."""
    main_branch: str = "main"
    """The branch whose pushes plan every environment (default ``main``)."""
    existing_oidc_provider_arn: str | None = None
    """ARN of GitHub's OIDC provider when the account already has one (``GITHUB_OIDC_PROVIDER_ARN``; IAM allows
    one provider per URL, so creating a second fails). Default None: the bootstrap creates it."""
    max_session_duration_seconds: int = 3600
    """Longest CI session (3600..43200 s; default 3600)."""

    def __post_init__(self) -> None:
        checks = Checks("deploy_roles")
        checks.pattern(
            "github_repository",
            self.github_repository,
            r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}",
            "'owner/name' of one GitHub repository, without wildcards",
        )
        if checks.each("targets", self.targets, lambda f, v: checks.type(f, v, DeployTarget)):
            environments = [target.environment for target in self.targets]
            checks.that(bool(environments), "targets", self.targets, "at least one environment")
            checks.that(len(set(environments)) == len(environments), "targets", environments, "distinct environments")
        checks.each("pull_request_plans", self.pull_request_plans, lambda f, v: checks.choice(f, v, ("dev", "prod")))
        checks.pattern("main_branch", self.main_branch, r"[\w.-]+(/[\w.-]+)*", "a branch name without wildcards")
        if self.existing_oidc_provider_arn is not None:
            checks.pattern(
                "existing_oidc_provider_arn",
                self.existing_oidc_provider_arn,
                ARN_OF_GITHUB_PROVIDER,
                f"the ARN of this account's OIDC provider for {GITHUB_ISSUER}, e.g. "
                f"arn:aws:iam::111122223333:oidc-provider/{GITHUB_ISSUER}",
            )
        checks.int_range("max_session_duration_seconds", self.max_session_duration_seconds, 3600, 43200, "seconds")
        checks.done()

    def plan_subjects(self, environment: str) -> list[str]:
        """``sub`` claims that may assume ``environment``'s plan role."""
        repo = f"repo:{self.github_repository}"
        subjects = [f"{repo}:ref:refs/heads/{self.main_branch}"]
        if environment in self.pull_request_plans:
            subjects.append(f"{repo}:pull_request")
        return subjects


class DeployRoles(Construct):
    """GitHub's OIDC provider and a plan and an apply role per target environment."""

    oidc_provider_arn: str
    """ARN of GitHub's identity provider in this account (created here or already there)."""
    plan_roles: dict[str, IamRole]
    """Read-only roles by environment: assumable from main (and pull requests, see ``pull_request_plans``)."""
    apply_roles: dict[str, IamRole]
    """Write roles by environment: assumable only from the GitHub environment of that name."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployRolesConfig,
        account: AccountContext,
        state_bucket_arn: str,
        state_key_arn: str,
        boundary_arns: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        unbounded = [t.environment for t in config.targets if t.environment not in boundary_arns]
        if unbounded:
            raise fail("boundary_arns", sorted(boundary_arns), f"a boundary for every target, also {unbounded}")
        self._account = account
        if config.existing_oidc_provider_arn is None:
            provider = IamOpenidConnectProvider(
                self, "github", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE]
            )
            self.oidc_provider_arn = provider.arn
        else:
            self.oidc_provider_arn = config.existing_oidc_provider_arn
        self.plan_roles, self.apply_roles = {}, {}
        repo = f"repo:{config.github_repository}"
        for target in config.targets:
            reads = read_statements(target.name_prefix, account)
            self.plan_roles[target.environment] = self._role(
                f"{target.environment}_plan",
                f"{target.name_prefix}-plan",
                config.plan_subjects(target.environment),
                [*state_statements(target.state_object_prefix, state_bucket_arn, state_key_arn, write=False), *reads],
                config,
            )
            self.apply_roles[target.environment] = self._role(
                f"{target.environment}_apply",
                f"{target.name_prefix}-apply",
                [f"{repo}:environment:{target.environment}"],
                [
                    *state_statements(target.state_object_prefix, state_bucket_arn, state_key_arn, write=True),
                    *reads,
                    *write_statements(
                        target.name_prefix, target.environment, account, boundary_arns[target.environment]
                    ),
                ],
                config,
            )

    def _role(
        self, id: str, name: str, subjects: list[str], statements: list[dict], config: DeployRolesConfig
    ) -> IamRole:
        trust = document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": self.oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": subjects}},
                }
            ]
        )
        role = IamRole(
            self,
            id,
            name=name,
            path=ROLE_PATH,
            assume_role_policy=trust,
            max_session_duration=config.max_session_duration_seconds,
        )
        IamRolePolicy(self, f"{id}_policy", role=role.id, name="deploy", policy=document(statements))
        return role
