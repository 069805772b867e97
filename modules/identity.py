"""Who the callers are: the environment's Cognito user pool, its resource server with the contract's scopes, and
the domain whose token endpoint machine clients call (the client-credentials grant).

App clients are not created here. A client's secret that Terraform generates is kept, in plain text, in its state
and in every saved plan, which every plan role reads; ``make client`` (tools/clients.py) issues app clients into
this pool instead, with the scopes and token validity the stack's ``identity`` output names. The pool itself is
hardened: administrators create users (no self sign-up), MFA by authenticator app, threat protection where the
pool's tier has it, deletion protection, a password policy above Cognito's default, and recovery by e-mail only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cognito_resource_server import CognitoResourceServer, CognitoResourceServerScope
from cdktf_cdktf_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUserPoolAddOns,
)
from cdktf_cdktf_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain
from constructs import Construct

from modules.account import AccountContext
from modules.aws_provider import REGION
from modules.validation import Checks

MFA = ("OFF", "OPTIONAL", "ON")
THREAT_PROTECTION = ("ENFORCED", "AUDIT", "OFF")
USER_POOL_ARN = rf"arn:aws[a-z-]*:cognito-idp:{REGION}:\d{{12}}:userpool/{REGION}_[0-9A-Za-z]+"
SCOPE = r"[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+/[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+"


@dataclass(frozen=True)
class IdentityConfig:
    """The environment's user pool, or an existing pool to trust instead."""

    name: str
    """Name of the pool and prefix of its domain (1-40 of a-z, 0-9, '-'); the domain is ``<name>-<account id>``."""
    external_user_pool_arn: str | None = None
    """Trust this existing user pool (another team's, or the organization's) instead of creating one (default
    None). Its owner creates the resource server with the contract's scopes and the app clients."""
    external_token_url: str | None = None
    """The external pool's token endpoint (``https://…/oauth2/token``), published in the ``identity`` output."""
    mfa: str = "OPTIONAL"
    """Multi-factor authentication of the pool's users: ``OFF``, ``OPTIONAL`` (default) or ``ON``, by
    authenticator app (TOTP) only; machine clients do not use it."""
    threat_protection: str = "ENFORCED"
    """Cognito's threat protection (compromised credentials, adaptive authentication): ``ENFORCED`` (default),
    ``AUDIT`` or ``OFF``. Anything but ``OFF`` needs the Plus tier, billed per monthly active user."""
    deletion_protection: bool = True
    """Cognito refuses to delete the pool while on (default on; the users and app clients live in it)."""
    access_token_validity_minutes: int = 60
    """Lifetime of an access token `make client` configures its app clients with (5..1440 minutes; default 60).
    A token cannot be revoked before it expires: shorter is safer, longer means fewer token requests."""
    token_endpoint: bool = True
    """Create the pool's domain, whose ``/oauth2/token`` endpoint issues client-credentials tokens (default on;
    off only where no client needs a token from Cognito itself)."""
    password_minimum_length: int = 14
    """Shortest password of a user the administrators create (8..99; default 14)."""
    create_resource_server: bool = True
    """Create the resource server of the contract's scopes in a created pool (default on: without it the pool
    issues no token with those scopes). Only the emulator turns it off: it can create a resource server but neither
    update nor delete one, so a stack holding it never destroys; `make token` signs its tokens there."""

    def __post_init__(self) -> None:
        checks = Checks("identity")
        checks.pattern(
            "name", self.name, r"[a-z][a-z0-9-]{0,38}[a-z0-9]", "1-40 of a-z, 0-9, '-', starting with a letter"
        )
        if self.external_user_pool_arn is not None:
            checks.pattern(
                "external_user_pool_arn",
                self.external_user_pool_arn,
                USER_POOL_ARN,
                f"a user pool ARN in {REGION}, e.g. arn:aws:cognito-idp:{REGION}:111122223333:userpool/{REGION}_AbC123",
            )
            checks.that(
                self.external_token_url is None
                or (
                    isinstance(self.external_token_url, str)
                    and re.fullmatch(r"https://\S+/oauth2/token", self.external_token_url)
                ),
                "external_token_url",
                self.external_token_url,
                "the external pool's token endpoint, 'https://<domain>/oauth2/token'",
            )
        else:
            checks.that(
                self.external_token_url is None,
                "external_token_url",
                self.external_token_url,
                "None unless external_user_pool_arn is set (a created pool's endpoint is its own domain)",
            )
        checks.choice("mfa", self.mfa, MFA)
        checks.choice("threat_protection", self.threat_protection, THREAT_PROTECTION)
        checks.type("deletion_protection", self.deletion_protection, bool)
        checks.int_range("access_token_validity_minutes", self.access_token_validity_minutes, 5, 1440, "minutes")
        checks.type("token_endpoint", self.token_endpoint, bool)
        checks.int_range("password_minimum_length", self.password_minimum_length, 8, 99, "characters")
        checks.type("create_resource_server", self.create_resource_server, bool)
        checks.done()


class Identity(Construct):
    """The user pool (created, or trusted as it is), the resource server of the contract's scopes, and the domain
    of the token endpoint."""

    user_pool: CognitoUserPool | None
    """The created pool (None when trusting an external one)."""
    resource_server: CognitoResourceServer | None
    """``<identifier>`` with the contract's scopes (in a created pool)."""
    domain: CognitoUserPoolDomain | None
    """``<name>-<account id>.auth.<region>.amazoncognito.com``; its ``/oauth2/token`` issues client tokens."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: IdentityConfig,
        scopes: Mapping[str, str],
        account: AccountContext,
    ) -> None:
        """``scopes``: every OAuth scope the API's contract names, ``"<resource server>/<name>": description``;
        they must share one resource server."""
        super().__init__(scope, id)
        self._config = config
        servers = {name.split("/", 1)[0] for name in scopes}
        checks = Checks("identity")
        checks.each("scopes", tuple(scopes), lambda f, v: checks.pattern(f, v, SCOPE, "'<resource server>/<scope>'"))
        checks.that(len(servers) == 1, "scopes", sorted(scopes), "scopes of one resource server")
        checks.done()
        (self.resource_server_identifier,) = servers
        self.scopes = dict(scopes)
        self.user_pool = self.resource_server = self.domain = None
        if config.external_user_pool_arn:
            self._arn = config.external_user_pool_arn
            self._pool_id = config.external_user_pool_arn.rsplit("/", 1)[1]
            self._token_url = config.external_token_url
            return
        self.user_pool = CognitoUserPool(
            self,
            "user_pool",
            name=config.name,
            # Nobody signs up: administrators create users, and machine clients are app clients (make client).
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(allow_admin_create_user_only=True),
            mfa_configuration=config.mfa,
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True)
            if config.mfa != "OFF"
            else None,
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=config.password_minimum_length,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=1,
            ),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            ),
            # Threat protection needs the Plus tier; otherwise the pool keeps Cognito's default tier (Essentials).
            user_pool_tier="PLUS" if config.threat_protection != "OFF" else None,
            user_pool_add_ons=CognitoUserPoolUserPoolAddOns(advanced_security_mode=config.threat_protection)
            if config.threat_protection != "OFF"
            else None,
            deletion_protection="ACTIVE" if config.deletion_protection else "INACTIVE",
            lifecycle=TerraformResourceLifecycle(prevent_destroy=config.deletion_protection),
        )
        self._arn, self._pool_id = self.user_pool.arn, self.user_pool.id
        if config.create_resource_server:
            self.resource_server = CognitoResourceServer(
                self,
                "resource_server",
                user_pool_id=self.user_pool.id,
                identifier=self.resource_server_identifier,
                name=self.resource_server_identifier,
                scope=[
                    CognitoResourceServerScope(scope_name=name.split("/", 1)[1], scope_description=description[:256])
                    for name, description in sorted(scopes.items())
                ],
            )
        self._token_url = None
        if config.token_endpoint:
            self.domain = CognitoUserPoolDomain(
                self, "domain", domain=f"{config.name}-{account.account_id}", user_pool_id=self.user_pool.id
            )
            self._token_url = f"https://{self.domain.domain}.auth.{REGION}.amazoncognito.com/oauth2/token"

    @property
    def user_pool_arn(self) -> str:
        """The pool API Gateway's authorizer trusts (a token)."""
        return self._arn

    @property
    def user_pool_id(self) -> str:
        return self._pool_id

    @property
    def issuer(self) -> str:
        """The ``iss`` of the pool's tokens."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self._pool_id}"

    @property
    def token_url(self) -> str | None:
        """The client-credentials token endpoint, or None."""
        return self._token_url

    @property
    def access_token_validity_minutes(self) -> int:
        return self._config.access_token_validity_minutes
