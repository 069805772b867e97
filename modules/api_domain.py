"""The API's own name: a regional custom domain with a TLS 1.2 policy, its certificate, the base path mapping to
the stage, and a Route 53 alias. With a domain, the stage's ``execute-api`` endpoint is switched off (``Api``'s
``disable_execute_api_endpoint``), so nobody reaches the API around the name, its certificate and its TLS policy;
moving the name to another API later moves every caller with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from modules.api import Api
from modules.aws_provider import REGION
from modules.validation import Checks

TLS_POLICY = "TLS_1_2"
DOMAIN = r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
CERTIFICATE_ARN = r"arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}"


@dataclass(frozen=True)
class DomainConfig:
    """The API's custom domain (optional per environment)."""

    domain_name: str
    """The name callers use, e.g. ``api.example.com`` (lowercase labels, 4-253 characters)."""
    hosted_zone_id: str | None = None
    """The Route 53 public zone the name lives in: the alias record, and the certificate's DNS validation when no
    ``certificate_arn`` is given, go there (required with ``manage_dns``)."""
    certificate_arn: str | None = None
    """An imported or existing ACM certificate for the name, in us-east-1 (a regional endpoint's certificate must
    be in the API's region). Default None: an ACM certificate is requested and validated by DNS."""
    manage_dns: bool = True
    """Create the certificate's validation record and the alias record in the zone (default on). Only the emulator
    turns it off: it resolves no name and issues certificates unchecked, and the provider waits 10-30 s after each
    Route 53 change for it to propagate (three in a row on the first apply)."""

    def __post_init__(self) -> None:
        checks = Checks("domain")
        checks.pattern(
            "domain_name", self.domain_name, DOMAIN, "a lowercase DNS name such as 'api.example.com' (4-253 characters)"
        )
        checks.type("manage_dns", self.manage_dns, bool)
        if self.hosted_zone_id is not None:
            checks.pattern("hosted_zone_id", self.hosted_zone_id, r"Z[A-Z0-9]{1,32}", "a Route 53 zone id, 'Z…'")
        checks.that(
            self.hosted_zone_id is not None or self.manage_dns is False,
            "hosted_zone_id",
            self.hosted_zone_id,
            "the id of the name's public Route 53 zone, 'Z…' (its alias and validation records go there)",
        )
        if self.certificate_arn is not None and checks.pattern(
            "certificate_arn", self.certificate_arn, CERTIFICATE_ARN, "an ACM certificate ARN"
        ):
            region = re.fullmatch(CERTIFICATE_ARN, self.certificate_arn).group(1)
            checks.that(
                region == REGION,
                "certificate_arn",
                self.certificate_arn,
                f"a certificate in {REGION} (a regional API's certificate must be in its region, not {region})",
            )
        checks.done()


class ApiDomain(Construct):
    """Custom domain, certificate, base path mapping and alias record of one API stage."""

    certificate_arn: str
    """The certificate the domain serves (requested here, or the configured one)."""
    domain: ApiGatewayDomainName
    """The regional domain name with the TLS 1.2 security policy."""
    mapping: ApiGatewayBasePathMapping
    """The domain's root to the API's stage."""
    record: Route53Record | None
    """The alias A record of the name to the domain's regional endpoint (None without ``manage_dns``)."""

    def __init__(self, scope: Construct, id: str, *, config: DomainConfig, api: Api) -> None:
        super().__init__(scope, id)
        zone_id = config.hosted_zone_id
        self.record = None
        if config.certificate_arn:
            self.certificate_arn = config.certificate_arn
        else:
            certificate = AcmCertificate(
                self,
                "certificate",
                domain_name=config.domain_name,
                validation_method="DNS",
                key_algorithm="RSA_2048",
                lifecycle={"create_before_destroy": True},
            )
            fqdns = None
            if config.manage_dns:
                # One name, one validation record (the set has a single element).
                option = Fn.element(Fn.tolist(certificate.domain_validation_options), 0)
                validation_record = Route53Record(
                    self,
                    "certificate_validation_record",
                    zone_id=zone_id,
                    name=Fn.lookup(option, "resource_record_name", ""),
                    type=Fn.lookup(option, "resource_record_type", ""),
                    records=[Fn.lookup(option, "resource_record_value", "")],
                    ttl=300,
                    allow_overwrite=True,
                )
                fqdns = [validation_record.fqdn]
            # Waits until ACM has issued the certificate: the domain name cannot use it before.
            validated = AcmCertificateValidation(
                self, "certificate_validation", certificate_arn=certificate.arn, validation_record_fqdns=fqdns
            )
            self.certificate_arn = validated.certificate_arn
        self.domain = ApiGatewayDomainName(
            self,
            "domain",
            domain_name=config.domain_name,
            regional_certificate_arn=self.certificate_arn,
            security_policy=TLS_POLICY,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
        )
        self.mapping = ApiGatewayBasePathMapping(
            self,
            "mapping",
            api_id=api.rest_api.id,
            stage_name=api.stage.stage_name,
            domain_name=self.domain.domain_name,
        )
        if config.manage_dns:
            self.record = Route53Record(
                self,
                "alias",
                zone_id=zone_id,
                name=config.domain_name,
                type="A",
                alias=Route53RecordAlias(
                    name=self.domain.regional_domain_name,
                    zone_id=self.domain.regional_zone_id,
                    evaluate_target_health=True,
                ),
            )
        self._url = f"https://{config.domain_name}"

    @property
    def url(self) -> str:
        """``https://<domain>``: the stage is mapped at the root."""
        return self._url
