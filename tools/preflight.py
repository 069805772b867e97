"""Checks run before Terraform touches a real account (``make plan``/``deploy``/``bootstrap`` of dev or prod).

Each returns the problems it finds, every one saying what to do; ``stackctl`` refuses to run while there are any.
Synthesis stays free of them, so tests and local work need no account.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.manifest import Stack

# Lambda refuses a reservation that would leave fewer unreserved executions than this for the rest of the account.
UNRESERVED_MINIMUM = 100
CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Service Quotas: "Concurrent executions"


def account_guard(stack: Stack) -> list[str]:
    """The provider must name the account it may touch, so credentials for another account fail at init."""
    provider = stack.tf["provider"]["aws"][0]
    if provider.get("allowed_account_ids"):
        return []
    env = stack.kind.upper() if stack.kind != "bootstrap" else "<ENV>"
    return [
        f"{stack.name}: no allowed account: set AWS_ACCOUNT_ID_{env} to the 12-digit account id this stack "
        "deploys to (the provider then refuses any other account's credentials)"
    ]


def state_key_is_an_arn(stack: Stack) -> list[str]:
    """The state bucket's policy denies uploads whose key id is not the state key's ARN; an alias would be denied."""
    backend = stack.tf.get("terraform", {}).get("backend", {}).get("s3")
    if not backend or str(backend.get("kms_key_id", "")).startswith("arn:"):
        return []
    return [
        f"{stack.name}: the S3 backend would send kms_key_id={backend.get('kms_key_id')!r}, and the state "
        "bucket's policy only accepts the state key's ARN: set TF_STATE_KMS_KEY_ARN_"
        f"{stack.kind.upper()} to the bootstrap output state_kms_key_arn"
    ]


@dataclass(frozen=True)
class ConcurrencyFacts:
    """What Lambda reports for the account, and each function's reservation now and in the stack."""

    account_limit: int
    unreserved: int
    reservations: dict[str, tuple[int, int]]  # function name -> (reserved now, reserved by the stack)


def concurrency_problem(facts: ConcurrencyFacts) -> str | None:
    """Why Lambda would refuse the stack's reserved concurrency, or None (all reservations count together)."""
    extra = sum(max(wanted - current, 0) for current, wanted in facts.reservations.values())
    left = facts.unreserved - extra
    if extra <= 0 or left >= UNRESERVED_MINIMUM:
        return None
    asked = ", ".join(f"{name} {wanted}" for name, (_, wanted) in facts.reservations.items())
    return (
        f"reserving concurrency ({asked}) would leave {left} unreserved executions in this account (limit "
        f"{facts.account_limit}, unreserved now {facts.unreserved}); Lambda requires at least {UNRESERVED_MINIMUM}. "
        f"Ask for a higher 'Concurrent executions' quota (Service Quotas, code {CONCURRENCY_QUOTA_CODE}) or lower "
        f"function.reserved_concurrency in stacks/environments.py by at least {UNRESERVED_MINIMUM - left}"
    )


def concurrency(stack: Stack, lambda_client) -> list[str]:
    """Read the account's Lambda concurrency and check the stack's reservations against it."""
    settings = lambda_client.get_account_settings()["AccountLimit"]
    reservations = {}
    for function in stack.resources("aws_lambda_function").values():
        wanted = function.get("reserved_concurrent_executions")
        if not isinstance(wanted, int) or wanted < 0:
            continue
        name = function["function_name"]
        try:
            current = lambda_client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        except lambda_client.exceptions.ResourceNotFoundException:
            current = None
        reservations[name] = (current or 0, wanted)
    problem = concurrency_problem(
        ConcurrencyFacts(
            account_limit=settings["ConcurrentExecutions"],
            unreserved=settings["UnreservedConcurrentExecutions"],
            reservations=reservations,
        )
    )
    return [f"{stack.name}: {problem}"] if problem else []


def offline_checks(stack: Stack) -> list[str]:
    """The checks that read only the synthesized stack."""
    checks = [account_guard] + ([state_key_is_an_arn] if stack.kind != "bootstrap" else [])
    return [problem for check in checks for problem in check(stack)]
