"""What the bootstrap stack of one account creates, from the environments: the state bucket and key, the account's
API Gateway logging role, each environment's service-role boundary and, when a repository is named, the CI deploy
roles of every environment in that account (``BOOTSTRAP_ENV`` picks the account)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from modules.deploy_roles import DeployRolesConfig, DeployTarget
from modules.validation import Checks, collect_errors
from stacks.environment_config import EnvironmentConfig
from stacks.environments import ENVIRONMENT_NAMES


@dataclass(frozen=True)
class BootstrapConfig:
    """What the bootstrap stack of one account creates: the state bucket and key, the account's API Gateway
    logging role, each environment's service-role boundary, and (when a repository is named) the CI deploy roles
    of every environment in the account."""

    environment: EnvironmentConfig
    """The environment whose account is bootstrapped (``BOOTSTRAP_ENV``)."""
    targets: tuple[DeployTarget, ...]
    """Every environment deployed into this account: each gets its service-role boundary (and deploy roles)."""
    deploy_roles: DeployRolesConfig | None
    """GitHub OIDC roles (from ``GITHUB_REPOSITORY``; none for the emulator or when unset)."""

    def __post_init__(self) -> None:
        checks = Checks()
        environment = self.environment
        checks.that(
            environment.emulator is not None or bool(environment.allowed_account_ids),
            "BOOTSTRAP_ENV",
            environment.environment,
            f"an environment whose account is set (set AWS_ACCOUNT_ID_{environment.environment.upper()}: the "
            "bootstrap creates the account's state bucket, named after it)",
        )
        provider = self.deploy_roles.existing_oidc_provider_arn if self.deploy_roles else None
        if provider and environment.account_id:
            checks.that(
                provider.split(":")[4] == environment.account_id,
                "GITHUB_OIDC_PROVIDER_ARN",
                provider,
                f"the OIDC provider of the bootstrapped account {environment.account_id}",
            )
        checks.done()

    @property
    def remote_state(self) -> bool:
        """Whether the bootstrap's own state lives in the state bucket it created: on a real account once the
        state key's ARN is known (``TF_STATE_KMS_KEY_ARN_<ENV>``, the output of the first, local-state apply),
        so that a team, not one laptop, can re-apply the roles. ``make bootstrap`` moves the local state there."""
        return self.environment.emulator is None and self.environment.state.kms_key_arn is not None


def bootstrap_config(
    configs: dict[str, EnvironmentConfig], environ: os._Environ | dict | None = None
) -> BootstrapConfig:
    """The bootstrap of ``BOOTSTRAP_ENV``'s account; boundaries and roles cover every environment in that account."""
    environ = os.environ if environ is None else environ
    config = configs[bootstrap_environment(environ)]
    shared = [
        c
        for c in configs.values()
        if c is config
        or (c.emulator is None and config.emulator is None and c.account_id and c.account_id == config.account_id)
    ]
    targets = tuple(
        DeployTarget(
            environment=c.environment,
            name_prefix=f"{c.app_name}-{c.environment}",
            state_object_prefix=f"{c.state.key_prefix}{c.stack_name}/",
        )
        for c in shared
    )
    repository = environ.get("GITHUB_REPOSITORY", "")
    with collect_errors():
        roles = (
            DeployRolesConfig(
                github_repository=repository,
                targets=targets,
                existing_oidc_provider_arn=environ.get("GITHUB_OIDC_PROVIDER_ARN") or None,
            )
            if config.emulator is None and repository
            else None
        )
        return BootstrapConfig(environment=config, targets=targets, deploy_roles=roles)


def bootstrap_environment(environ: os._Environ | dict | None = None) -> str:
    """Which environment's account the bootstrap stack targets (``BOOTSTRAP_ENV``, default the emulator)."""
    environ = os.environ if environ is None else environ
    name = environ.get("BOOTSTRAP_ENV", "local")
    checks = Checks()
    checks.choice("BOOTSTRAP_ENV", name, ENVIRONMENT_NAMES)
    checks.done()
    return name
