"""The REST API's resource policy: who may invoke which method. Pure statements, so the request simulation and the
tests read exactly what the API attaches."""

from __future__ import annotations

from collections.abc import Sequence

from modules.openapi import Operation, execute_api_path


def resource_policy(
    operations: Sequence[Operation],
    execution_arn: str,
    *,
    account_id: str,
    org_id: str | None = None,
    source_vpce_ids: tuple[str, ...] = (),
) -> list[dict]:
    """Everyone may reach the methods a token or the key guards (their authorizer decides); the signed methods
    are left out of that grant, so a principal of this account needs its own identity policy and one of another
    account is refused unless it is in the organization ``org_id``. A REST API with a resource policy refuses every
    request the policy does not allow."""
    signed_paths = sorted({op.path for op in operations if op.access.authorization == "AWS_IAM"})
    signed_methods = {
        f"{execution_arn}/*/{op.method}/{execute_api_path(op.path)}"
        for op in operations
        if op.access.authorization == "AWS_IAM"
    }
    signed = sorted(signed_methods | {f"{execution_arn}/*/*/{execute_api_path(path)}" for path in signed_paths})
    statements: list[dict] = [
        {
            "Sid": "TokenAndKeyMethods",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            **({"NotResource": signed} if signed else {"Resource": f"{execution_arn}/*"}),
        }
    ]
    if not signed:
        return statements
    outside = {"StringNotEquals": {"aws:PrincipalAccount": account_id}}
    if org_id:
        statements.append(
            {
                "Sid": "SignedMethodsFromTheOrganization",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": signed,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}},
            }
        )
        outside["StringNotEquals"]["aws:PrincipalOrgID"] = org_id
    statements.append(
        {
            "Sid": "SignedMethodsOnlyFromHere",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": signed,
            "Condition": outside,
        }
    )
    if source_vpce_ids:
        statements.append(
            {
                "Sid": "SignedMethodsOnlyThroughTheseEndpoints",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": signed,
                "Condition": {"StringNotEquals": {"aws:SourceVpce": list(source_vpce_ids)}},
            }
        )
    return statements
