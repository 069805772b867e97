"""Preflight: dev and prod refuse to reach Terraform without an account guard, the state key's ARN, or enough
unreserved Lambda concurrency, and say how to fix each."""

import os
import subprocess
import sys

import pytest
from stack_helpers import PROJECT_DIR

from tools import manifest, preflight
from tools.preflight import ConcurrencyFacts, concurrency_problem


def test_a_stack_json_without_account_guard_or_state_key_arn_is_refused(synth):
    # Synth never writes such a dev or prod stack (tests/test_remote_state.py); the checks still hold for a stack
    # JSON edited by hand or made by another tool.
    import copy

    prod = manifest.find("prod", synth.outdir)
    assert preflight.offline_checks(prod) == []
    edited = copy.deepcopy(prod.tf)
    del edited["provider"]["aws"][0]["allowed_account_ids"]
    edited["terraform"]["backend"]["s3"]["kms_key_id"] = "alias/serverless-app-tfstate"
    object.__setattr__(prod, "tf", edited)  # the cached parse, replaced
    problems = preflight.offline_checks(prod)
    assert len(problems) == 2
    assert "set AWS_ACCOUNT_ID_PROD to the 12-digit account id" in problems[0]
    assert "kms_key_id='alias/serverless-app-tfstate'" in problems[1]
    assert "set TF_STATE_KMS_KEY_ARN_PROD to the bootstrap output state_kms_key_arn" in problems[1]


def test_the_emulator_stack_needs_neither(synth):
    from tools import stackctl

    local = manifest.find("local", synth.outdir)
    assert not stackctl.targets_real_aws(local)


@pytest.mark.slow
def test_make_plan_of_an_unconfigured_prod_stops_before_terraform_and_says_what_to_set(tmp_path):
    from stack_helpers import synthesize

    out = synthesize(tmp_path / "out", {}).outdir
    env = {**os.environ, "CDKTF_OUTDIR": str(out)}
    result = subprocess.run(
        [sys.executable, "-m", "tools.stackctl", "plan", "prod"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no prod stack was synthesized: set AWS_ACCOUNT_ID_PROD and TF_STATE_KMS_KEY_ARN_PROD" in result.stderr
    assert not (out / "stacks" / "serverless-app-prod").exists()


@pytest.mark.parametrize(
    ("unreserved", "reservations", "refused"),
    [
        (1000, {"api": (0, 200)}, False),  # a default account: 800 left
        (300, {"api": (0, 200)}, False),  # exactly 100 left
        (299, {"api": (0, 200)}, True),  # 99 left
        (50, {"api": (200, 200)}, False),  # already reserved: nothing new is taken
        (120, {"api": (180, 200)}, False),  # 20 more leaves 100
        (119, {"api": (180, 200)}, True),  # 20 more leaves 99
        (301, {"api": (0, 200), "hook": (0, 2)}, True),  # together 202: 99 left, though each alone would fit
    ],
)
def test_the_concurrency_rule_is_lambdas(unreserved, reservations, refused):
    facts = ConcurrencyFacts(account_limit=1000, unreserved=unreserved, reservations=reservations)
    assert (concurrency_problem(facts) is not None) is refused


def test_a_new_account_with_a_low_quota_is_told_what_to_do():
    facts = ConcurrencyFacts(account_limit=10, unreserved=10, reservations={"serverless-app-prod-api": (0, 200)})
    message = concurrency_problem(facts)
    assert "reserving concurrency (serverless-app-prod-api 200) would leave -190 unreserved" in message
    assert "limit 10" in message and "code L-B99A9384" in message
    assert "lower function.reserved_concurrency in stacks/environments.py by at least 290" in message


class RecordedLambda:
    """Responses as Lambda returns them (GetAccountSettings, GetFunctionConcurrency) for one account."""

    class exceptions:  # noqa: N801 - boto3's shape
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, limit: int, unreserved: int, reservations: dict[str, int]) -> None:
        self.settings = {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": unreserved,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "TotalCodeSize": 80530636800,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(reservations)},
        }
        self.reservations = reservations

    def get_account_settings(self) -> dict:
        return self.settings

    def get_function_concurrency(self, FunctionName: str) -> dict:  # noqa: N803 - boto3's parameter name
        if FunctionName not in self.reservations:
            raise self.exceptions.ResourceNotFoundException(FunctionName)
        return {"ReservedConcurrentExecutions": self.reservations[FunctionName]}


def test_the_check_reads_the_account_and_every_function_of_the_stack(synth):
    prod = manifest.find("prod", synth.outdir)
    assert preflight.concurrency(prod, RecordedLambda(1000, 1000, {})) == []
    # 200 for the API function, 5 for the admin group's and 2 for the release hook, counted together.
    (problem,) = preflight.concurrency(prod, RecordedLambda(100, 100, {}))
    assert problem.startswith(
        "serverless-app-prod: reserving concurrency (serverless-app-prod-api 200, serverless-app-prod-admin 5, "
        "serverless-app-prod-release-hook 2) would leave -107 unreserved"
    )
    assert preflight.concurrency(prod, RecordedLambda(300, 107, {"serverless-app-prod-api": 200})) == []
    assert preflight.concurrency(prod, RecordedLambda(300, 106, {"serverless-app-prod-api": 200})) != []
