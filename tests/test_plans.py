"""The plan summary: counts, addresses, drift, and the refusal to destroy or replace what holds data."""

import subprocess
from pathlib import Path

import pytest

from tools import plans, stackctl
from tools.plans import summarize


def _change(address: str, actions: list[str]) -> dict:
    type_ = address.split(".", maxsplit=1)[0]
    return {"address": address, "type": type_, "change": {"actions": actions}}


PLAN = {
    "resource_changes": [
        _change("aws_lambda_function.function_function_0A1B2C3D", ["update"]),
        _change("aws_sns_topic_subscription.monitoring_email_0_1A2B3C4D", ["create"]),
        _change("aws_s3_bucket.log_archive_bucket_148D8F11", ["delete", "create"]),
        _change("aws_iam_role.function_role_1A2B3C4D", ["no-op"]),
        _change("aws_kms_key.key_F64E54E4", ["delete"]),
        _change("aws_cloudwatch_log_group.function_log_group_1A2B3C4D", ["create", "delete"]),
    ],
    "resource_drift": [_change("aws_s3_bucket_versioning.log_archive_versioning_1A2B3C4D", ["update"])],
}


def test_counts_addresses_and_drift():
    summary = summarize(PLAN, "serverless-app-prod")
    assert dict(summary.counts) == {"change": 1, "add": 1, "replace": 2, "no-op": 1, "destroy": 1}
    text = summary.markdown()
    assert text.startswith("### `serverless-app-prod`: 1 to add, 1 to change, 2 to replace, 1 to destroy")
    assert "| destroy | `aws_kms_key.key_F64E54E4` |" in text
    assert "**Drift**: 1 resource(s) changed outside Terraform" in text
    assert "aws_iam_role.function_role_1A2B3C4D" not in text  # unchanged resources are not listed


def test_destroying_or_replacing_what_holds_data_is_refused_by_address():
    summary = summarize(PLAN, "serverless-app-prod")
    assert summary.refused == [
        "aws_s3_bucket.log_archive_bucket_148D8F11",
        "aws_kms_key.key_F64E54E4",
        "aws_cloudwatch_log_group.function_log_group_1A2B3C4D",
    ]
    assert "**Refused**" in summary.markdown()
    allowed = summarize(PLAN, "serverless-app-prod", {"aws_kms_key.key_F64E54E4"})
    assert allowed.refused == [
        "aws_s3_bucket.log_archive_bucket_148D8F11",
        "aws_cloudwatch_log_group.function_log_group_1A2B3C4D",
    ]


@pytest.mark.parametrize(
    "type_",
    ["aws_sqs_queue", "aws_cognito_user_pool", "aws_api_gateway_usage_plan", "aws_api_gateway_api_key"],
)
def test_queues_identities_and_usage_plans_are_protected_too(type_):
    assert summarize({"resource_changes": [_change(f"{type_}.x", ["delete", "create"])]}, "s").refused == [f"{type_}.x"]


@pytest.mark.parametrize("actions", [["no-op"], ["read"]])
def test_an_empty_plan_says_so(actions):
    summary = summarize({"resource_changes": [_change("aws_iam_role.r", actions)]}, "s")
    assert not summary.has_changes and "No changes" in summary.markdown()


def test_the_drift_report_counts_resources_not_the_notes_inside_them():
    # The shape of `terraform plan -no-color` after someone suspended versioning by hand.
    text = """
Note: Objects have changed outside of Terraform

  # aws_s3_bucket_versioning.log_archive_versioning_63C6C76E has changed
  ~ resource "aws_s3_bucket_versioning" "log_archive_versioning_63C6C76E" {
        id                    = "serverless-app-local-logs-123456789012"
        # (2 unchanged attributes hidden)
    }

Terraform will perform the following actions:

  # aws_s3_bucket_versioning.log_archive_versioning_63C6C76E will be updated in-place
  ~ resource "aws_s3_bucket_versioning" "log_archive_versioning_63C6C76E" {
        # (2 unchanged attributes hidden)
      ~ versioning_configuration {
          ~ status     = "Suspended" -> "Enabled"
            # (1 unchanged attribute hidden)
        }
    }

  # aws_sns_topic_subscription.monitoring_email["ops@example.com"] must be replaced
"""
    assert stackctl.changed_resources(text) == [
        "# aws_s3_bucket_versioning.log_archive_versioning_63C6C76E will be updated in-place",
        '# aws_sns_topic_subscription.monitoring_email["ops@example.com"] must be replaced',
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # The emulator: 30 resources at a time, and a destroy that deletes what the state lists without reading it;
        # no lock wait (the lock-contention test expects a held lock to refuse at once).
        (
            "local",
            {
                "plan": ["-parallelism=30", "-lock=false"],
                "saved": ["-parallelism=30", "-lock=false"],
                "apply": ["-parallelism=30"],
                "destroy": ["-parallelism=30", "-refresh=false"],
            },
        ),
        # A real account: Terraform's defaults (10 at a time, under the services' throttles; destroy refreshes), and
        # applies that wait for another run's lock instead of failing on it.
        (
            "prod",
            {
                "plan": ["-lock=false"],
                "saved": ["-lock=false"],
                "apply": ["-lock-timeout=10m"],
                "destroy": ["-lock-timeout=10m"],
            },
        ),
    ],
)
def test_terraform_options_per_target_and_plans_take_no_lock(synth, monkeypatch, tmp_path, kind, expected):
    monkeypatch.setenv("CDKTF_OUTDIR", str(synth.outdir))
    monkeypatch.setattr(stackctl, "init", lambda *args, **kwargs: None)
    calls: list[tuple[str, ...]] = []

    def terraform(stack, *args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="")

    monkeypatch.setattr(stackctl, "terraform", terraform)
    stackctl.plan(kind)
    stackctl.apply(kind)
    stackctl.destroy(kind)
    saved = plans.PlanFiles(tmp_path / "p.tfplan", tmp_path / "p.json", tmp_path / "p.md", tmp_path / "p.allowed.json")
    monkeypatch.setattr(plans, "files_for", lambda stack, out=None: saved)
    with pytest.raises(stackctl.StackError, match="terraform show"):  # no plan was written: only its options count
        stackctl.saved_plan(kind)
    plan, apply, destroy, saved = calls
    tuning = {"-parallelism=30", "-refresh=false", "-lock=false", "-lock-timeout=10m"}
    assert [a for a in plan if a in tuning] == expected["plan"]
    assert [a for a in apply if a in tuning] == expected["apply"]
    assert [a for a in destroy if a in tuning] == expected["destroy"]
    assert [a for a in saved if a in tuning] == expected["saved"]


def _saved_plan_with(monkeypatch, tmp_path, synth, shown: dict):
    """``saved_plan`` of prod whose Terraform 'writes' a plan file that ``terraform show`` reads as ``shown``."""
    monkeypatch.setenv("CDKTF_OUTDIR", str(synth.outdir))
    monkeypatch.setattr(stackctl, "init", lambda *args, **kwargs: None)
    files = plans.PlanFiles(tmp_path / "p.tfplan", tmp_path / "p.json", tmp_path / "p.md", tmp_path / "p.allowed.json")
    monkeypatch.setattr(plans, "files_for", lambda stack, out=None: files)

    def terraform(stack, *args, **kwargs):
        out = next((a for a in args if a.startswith("-out=")), None)
        if out:
            Path(out.removeprefix("-out=")).write_bytes(b"a saved plan")
        return subprocess.CompletedProcess(args, 0, stdout="")

    monkeypatch.setattr(stackctl, "terraform", terraform)
    monkeypatch.setattr(stackctl, "_show", lambda stack, plan_file, env: shown)
    return files


def test_a_refused_plan_leaves_nothing_that_apply_plan_would_apply(synth, monkeypatch, tmp_path):
    files = _saved_plan_with(monkeypatch, tmp_path, synth, PLAN)
    files.binary.write_bytes(b"an earlier, approved plan")
    with pytest.raises(stackctl.StackError, match="would destroy or replace"):
        stackctl.saved_plan("prod")
    assert not files.binary.exists() and not files.pending.exists()
    assert "**Refused**" in files.summary.read_text()  # what the pull request's comment shows
    with pytest.raises(stackctl.StackError, match="is missing: run `make plan ENV=prod` first"):
        stackctl.apply_saved("prod")


def test_apply_plan_checks_the_saved_plan_again_with_the_allowances_it_was_made_with(synth, monkeypatch, tmp_path):
    monkeypatch.setenv(
        "ALLOW_DESTROY",
        "aws_kms_key.key_F64E54E4,aws_s3_bucket.log_archive_bucket_148D8F11,"
        "aws_cloudwatch_log_group.function_log_group_1A2B3C4D",
    )
    files = _saved_plan_with(monkeypatch, tmp_path, synth, PLAN)
    stackctl.saved_plan("prod")
    assert files.binary.exists()
    monkeypatch.delenv("ALLOW_DESTROY")
    applied = []
    monkeypatch.setattr(stackctl, "terraform", lambda stack, *args, **kwargs: applied.append(args))
    stackctl.apply_saved("prod")  # allowed when it was planned: still allowed
    assert applied and applied[0][0] == "apply"
    # A plan file that was not made with those allowances (copied in, or the record lost) is refused.
    files.allowed.unlink()
    with pytest.raises(stackctl.StackError, match="would destroy or replace"):
        stackctl.apply_saved("prod")


def test_the_summary_shows_each_changed_attribute_and_masks_secrets():
    change = {
        "address": "aws_lambda_function.f",
        "type": "aws_lambda_function",
        "change": {
            "actions": ["update"],
            "before": {"memory_size": 256, "environment": [{"variables": {"A": "1"}}], "tags": {"x": "y"}},
            "after": {"memory_size": 512, "environment": [{"variables": {"A": "2"}}], "tags": {"x": "y"}},
            "after_unknown": {"version": True},
            "before_sensitive": {"environment": True},
            "after_sensitive": {"environment": True},
        },
    }
    summary = summarize({"resource_changes": [change]}, "s")
    assert summary.attributes["aws_lambda_function.f"] == [
        ("environment", "(sensitive)", "(sensitive)"),
        ("memory_size", "`256`", "`512`"),
        ("version", "—", "(known after apply)"),
    ]
    assert "| `memory_size` | `256` | `512` |" in summary.markdown()
