"""The Waf construct alone: its rules, what it inspects, where it logs, and what it refuses."""

from __future__ import annotations

import json
import re

import builders
import pytest

from modules.waf import COUNTED_RULES, MANAGED_RULE_GROUPS, Waf, WafConfig

STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/v1"


def _synth(**changes) -> dict:
    def build(stack, account):
        _, log_shipping = builders.shipping(stack, account)
        Waf(
            stack,
            "waf",
            config=WafConfig(**{"name": "payments", **changes}),
            stage_arn=STAGE_ARN,
            shipping=log_shipping,
            account=account,
        )

    return builders.synth_scope(build)


@pytest.fixture(scope="module")
def tf() -> dict:
    return _synth(rate_limit_per_5_minutes=15_000)


def _acl(tf: dict) -> dict:
    (acl,) = builders.of(tf, "aws_wafv2_web_acl")
    return acl


def test_a_per_ip_rate_rule_blocks_first_then_the_managed_groups_in_order(tf):
    acl = _acl(tf)
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    rules = sorted(acl["rule"], key=lambda rule: rule["priority"])
    assert [rule["name"] for rule in rules] == ["rate-limit-per-ip", *MANAGED_RULE_GROUPS]
    assert rules[0]["action"] == {"block": {}}
    assert rules[0]["statement"] == {"rate_based_statement": {"limit": 15_000, "aggregate_key_type": "IP"}}
    for rule in rules[1:]:
        # A managed group's own actions apply (override "none"), except the rules it is told to count.
        assert rule["override_action"] == {"none": {}}
        assert rule["statement"]["managed_rule_group_statement"]["vendor_name"] == "AWS"
    metrics = [rule["visibility_config"]["metric_name"] for rule in rules]
    assert len(set(metrics)) == len(metrics) and all(m.startswith("payments-") for m in metrics)


def test_only_the_listed_rules_of_a_group_are_counted(tf):
    statements = {r["name"]: r["statement"]["managed_rule_group_statement"] for r in _acl(tf)["rule"][1:]}
    for group, statement in statements.items():
        expected = [{"name": rule, "action_to_use": {"count": {}}} for rule in COUNTED_RULES.get(group, ())]
        assert statement.get("rule_action_override", []) == expected, group
    assert "NoUserAgent_HEADER" in COUNTED_RULES["AWSManagedRulesCommonRuleSet"]


@pytest.mark.parametrize(("kb", "limit"), [(16, "KB_16"), (48, "KB_48"), (64, "KB_64")])
def test_the_body_inspection_limit_maps_to_wafs_names(kb, limit):
    acl = _acl(_synth(body_inspection_limit_kb=kb))
    assert acl["association_config"] == {"request_body": [{"api_gateway": {"default_size_inspection_limit": limit}}]}


def test_the_acl_is_attached_to_the_given_stage(tf):
    (association,) = builders.of(tf, "aws_wafv2_web_acl_association")
    assert association["resource_arn"] == STAGE_ARN
    assert re.fullmatch(r"\$\{aws_wafv2_web_acl\.waf_web_acl_\w+\.arn\}", association["web_acl_arn"])


def test_logs_go_to_an_encrypted_shipped_group_with_the_prefix_waf_requires(tf):
    groups = {g["name"]: g for g in builders.of(tf, "aws_cloudwatch_log_group")}
    group = groups["aws-waf-logs-payments"]
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    filters = builders.of(tf, "aws_cloudwatch_log_subscription_filter")
    assert any(f["log_group_name"].startswith("${aws_cloudwatch_log_group.waf_log_group") for f in filters)
    (logging,) = builders.of(tf, "aws_wafv2_web_acl_logging_configuration")
    (destination,) = logging["log_destination_configs"]
    assert re.fullmatch(r"\$\{aws_cloudwatch_log_group\.waf_log_group_\w+\.arn\}", destination)
    # Credentials never reach the log (nor, through it, the archive).
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "authorization"}},
        {"single_header": {"name": "x-api-key"}},
    ]
    # The delivery grant exists before WAF is told to log (WAF checks it when logging is configured).
    assert logging["depends_on"] == ["aws_cloudwatch_log_resource_policy.waf_delivery_policy_" + _suffix(tf)]


def _suffix(tf: dict) -> str:
    (name,) = tf["resource"]["aws_cloudwatch_log_resource_policy"]
    return name.rsplit("_", 1)[1]


def test_the_delivery_grant_is_for_this_account_and_this_group_only(tf):
    (policy,) = builders.of(tf, "aws_cloudwatch_log_resource_policy")
    assert policy["policy_name"] == "payments-waf-delivery"
    (statement,) = json.loads(policy["policy_document"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"].startswith("${aws_cloudwatch_log_group.waf_log_group")
    assert statement["Resource"].endswith(".arn}:*")
    # Confused-deputy guard: only deliveries made for this account's log resources.
    assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:${data.aws_partition.")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "pay ments"}, r"waf.name='pay ments' is invalid: allowed 1-100 of A-Z, a-z, 0-9, '-', '_'"),
        ({"name": "x" * 101}, r"waf.name='x{101}' is invalid"),
        ({"rate_limit_per_5_minutes": 99}, r"waf.rate_limit_per_5_minutes=99 is invalid: allowed 100\.\.2000000000$"),
        ({"body_inspection_limit_kb": 8}, r"waf.body_inspection_limit_kb=8 is invalid: allowed one of 16, 32, 48, 64"),
    ],
)
def test_a_bad_config_names_the_field_and_the_allowed_values(changes, message):
    with pytest.raises(ValueError, match=message):
        WafConfig(**{"name": "payments", **changes})
