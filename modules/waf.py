"""A regional WAF web ACL on the API stage: per-IP rate limiting and AWS managed rule groups, logged and shipped."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclAssociationConfig,
    Wafv2WebAclAssociationConfigRequestBody,
    Wafv2WebAclAssociationConfigRequestBodyApiGateway,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from modules.account import AccountContext
from modules.iam import document
from modules.log_shipping import LogShipping
from modules.validation import Checks

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
# Rules of the managed groups that only count (their matches are logged, never blocked):
# - SizeRestrictions_BODY blocks bodies over 8 KB, while the API accepts events up to its own limit (functions/api:
#   MAX_BODY_BYTES, answered with 413): blocking would make prod refuse with 403 what dev accepts.
# - GenericRFI_BODY blocks bodies that carry URLs with a scheme and a path, which an event's free-form payload
#   legitimately holds (a webhook target, a link); the API never fetches what a payload names.
# - NoUserAgent_HEADER blocks requests without a User-Agent, which server-to-server callers (SigV4, client
#   credentials) need not send; every caller is authenticated before the function runs.
COUNTED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY", "GenericRFI_BODY", "NoUserAgent_HEADER")}
# How much of a body WAF inspects for an API Gateway stage (16 KB is free; each further 16 KB is billed per
# request). Bodies beyond it are judged on their first part.
BODY_INSPECTION_LIMITS = {16: "KB_16", 32: "KB_32", 48: "KB_48", 64: "KB_64"}
# Headers whose values WAF must not write to its logs (and so to the archive): credentials.
REDACTED_HEADERS = ("authorization", "x-api-key")


@dataclass(frozen=True)
class WafConfig:
    """The regional web ACL on the API stage."""

    name: str
    """Name of the web ACL (1-100 of A-Z, a-z, 0-9, '-', '_'); its log group is ``aws-waf-logs-<name>``."""
    rate_limit_per_5_minutes: int = 2000
    """Requests per 5 minutes above which a client IP is blocked (100..2,000,000,000; default 2000). The
    environment requires it to admit one API key at its usage plan's full rate."""
    body_inspection_limit_kb: int = 16
    """How much of a request body the rules inspect: 16 (default, free), 32, 48 or 64 KB (billed per request
    above 16). The API accepts bodies up to 256 KiB; WAF judges a longer one on its first part."""

    def __post_init__(self) -> None:
        checks = Checks("waf")
        checks.pattern("name", self.name, r"[A-Za-z0-9_-]{1,100}", "1-100 of A-Z, a-z, 0-9, '-', '_'")
        checks.int_range("rate_limit_per_5_minutes", self.rate_limit_per_5_minutes, 100, 2_000_000_000)
        checks.choice("body_inspection_limit_kb", self.body_inspection_limit_kb, BODY_INSPECTION_LIMITS)
        checks.done()


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        sampled_requests_enabled=True, cloudwatch_metrics_enabled=True, metric_name=metric
    )


def _managed_group(group: str) -> dict:
    statement: dict = {"vendor_name": "AWS", "name": group}
    counted = COUNTED_RULES.get(group, ())
    if counted:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in counted]
    return {"managed_rule_group_statement": statement}


class Waf(Construct):
    """A web ACL on a stage: per-IP rate limiting and AWS managed rule groups, its logs shipped to the archive."""

    web_acl: Wafv2WebAcl
    """The web ACL."""
    log_group: CloudwatchLogGroup
    """``aws-waf-logs-<name>`` (WAF requires the prefix), encrypted and shipped."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: WafConfig,
        stage_arn: str,
        shipping: LogShipping,
        account: AccountContext,
    ) -> None:
        super().__init__(scope, id)
        # `rule` blocks, not `rule_json`: the provider compares blocks with what is deployed, so a rule changed in
        # the console shows up in `make drift` (it has no drift detection for rule_json).
        rules = [
            Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=0,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": {"limit": config.rate_limit_per_5_minutes, "aggregate_key_type": "IP"}
                },
                visibility_config=_visibility(f"{config.name}-rate-limit"),
            )
        ] + [
            Wafv2WebAclRule(
                name=group,
                priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement=_managed_group(group),
                visibility_config=_visibility(f"{config.name}-{group}"),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        self.web_acl = Wafv2WebAcl(
            self,
            "web_acl",
            name=config.name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=config.name
            ),
            association_config=Wafv2WebAclAssociationConfig(
                request_body=[
                    Wafv2WebAclAssociationConfigRequestBody(
                        api_gateway=Wafv2WebAclAssociationConfigRequestBodyApiGateway(
                            default_size_inspection_limit=BODY_INSPECTION_LIMITS[config.body_inspection_limit_kb]
                        )
                    )
                ]
            ),
        )
        Wafv2WebAclAssociation(self, "association", resource_arn=stage_arn, web_acl_arn=self.web_acl.arn)
        self.log_group = shipping.log_group(
            self, "log_group", name=f"aws-waf-logs-{config.name}", source=f"waf/{config.name}"
        )
        # WAF delivers through CloudWatch Logs' delivery service, which needs this grant on the group.
        grant = {
            "Sid": "WafLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{self.log_group.arn}:*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account.account_id},
                "ArnLike": {"aws:SourceArn": account.arn("logs", "*")},
            },
        }
        delivery = CloudwatchLogResourcePolicy(
            self, "delivery_policy", policy_name=f"{config.name}-waf-delivery", policy_document=document([grant])
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            depends_on=[delivery],
        )
