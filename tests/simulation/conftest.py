"""Fixtures of the request-simulation suite: the synthesized prod and bootstrap stacks with every reference resolved
for one account, and the IAM engine (@cloud-copilot/iam-simulate, patched, run by node)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from resolve import ACCOUNT, PARTITION, REGION, Resolver
from stack_helpers import PROJECT_DIR, bootstrap_for, resources, service_for

HERE = Path(__file__).resolve().parent
ENGINE = PROJECT_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate"
REPOSITORY = "acme/serverless-app"

# AWS's managed policy of the API Gateway logging role (as AWS publishes it), which is not in the synthesized JSON.
API_GATEWAY_PUSH_TO_CLOUDWATCH_LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
            ],
        }
    ],
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.simulation)


@dataclass
class Stack:
    """One synthesized stack, resolved: policies by what they are attached to."""

    tf: dict
    resolve: Resolver = field(init=False)

    def __post_init__(self) -> None:
        self.resolve = Resolver(self.tf)

    def all(self, type_: str) -> dict[str, dict]:
        return resources(self.tf, type_)

    def _role_key(self, role_name: str) -> str:
        return next(k for k, r in self.all("aws_iam_role").items() if self.resolve(r["name"]) == role_name)

    def role_arn(self, role_name: str) -> str:
        return self.resolve.reference(f"aws_iam_role.{self._role_key(role_name)}.arn")

    def identity(self, role_name: str) -> list[dict]:
        """Every policy attached to the role: its inline policies, and the AWS managed ones it attaches."""
        key = self._role_key(role_name)
        refs = {f"${{aws_iam_role.{key}.id}}", f"${{aws_iam_role.{key}.name}}"}
        policies = [
            {"name": self.resolve(p["name"]), "policy": self.resolve.policy(p["policy"])}
            for p in self.all("aws_iam_role_policy").values()
            if p["role"] in refs
        ]
        for attachment in self.all("aws_iam_role_policy_attachment").values():
            if attachment["role"] in refs and self.resolve(attachment["policy_arn"]).endswith(
                "/AmazonAPIGatewayPushToCloudWatchLogs"
            ):
                policies.append(
                    {"name": "AmazonAPIGatewayPushToCloudWatchLogs", "policy": API_GATEWAY_PUSH_TO_CLOUDWATCH_LOGS}
                )
        assert policies or role_name.endswith("-exec") is False, f"no policy attached to {role_name}"
        return policies

    def trust(self, role_name: str) -> dict:
        return self.resolve.policy(self.all("aws_iam_role")[self._role_key(role_name)]["assume_role_policy"])

    def boundary(self, name: str) -> tuple[str, dict]:
        """``(ARN, document)`` of the managed policy called ``name`` (a service-role boundary)."""
        key, policy = next((k, p) for k, p in self.all("aws_iam_policy").items() if self.resolve(p["name"]) == name)
        return self.resolve.reference(f"aws_iam_policy.{key}.arn"), self.resolve.policy(policy["policy"])

    def role_arns(self) -> set[str]:
        return {self.resolve.reference(f"aws_iam_role.{key}.arn") for key in self.all("aws_iam_role")}

    def key(self) -> tuple[str, dict]:
        ((name, key),) = self.all("aws_kms_key").items()
        return self.resolve.reference(f"aws_kms_key.{name}.arn"), self.resolve.policy(key["policy"])

    def bucket(self, name: str) -> tuple[str, dict]:
        """``(bucket ARN, bucket policy)`` of the bucket called ``name``."""
        key = next(k for k, b in self.all("aws_s3_bucket").items() if self.resolve(b["bucket"]) == name)
        policy = next(
            p for p in self.all("aws_s3_bucket_policy").values() if p["bucket"] == f"${{aws_s3_bucket.{key}.id}}"
        )
        return f"arn:{PARTITION}:s3:::{name}", self.resolve.policy(policy["policy"])

    def log_group_arn(self, name: str) -> str:
        return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}"

    def log_group_names(self) -> list[str]:
        return [self.resolve(g["name"]) for g in self.all("aws_cloudwatch_log_group").values()]

    def streams(self) -> list[str]:
        return [
            self.resolve.reference(f"aws_kinesis_firehose_delivery_stream.{k}.arn")
            for k in self.all("aws_kinesis_firehose_delivery_stream")
        ]

    def topic(self) -> tuple[str, dict]:
        (policy,) = self.all("aws_sns_topic_policy").values()
        return self.resolve(policy["arn"]), self.resolve.policy(policy["policy"])

    def api_policy(self) -> tuple[str, dict]:
        """``(execution ARN, resource policy)`` of the stack's REST API."""
        (policy,) = self.all("aws_api_gateway_rest_api_policy").values()
        return self.resolve(policy["rest_api_id"].replace(".id}", ".execution_arn}")), self.resolve.policy(
            policy["policy"]
        )

    def log_resource_policy(self) -> dict:
        (policy,) = self.all("aws_cloudwatch_log_resource_policy").values()
        return self.resolve.policy(policy["policy_document"])

    def lambda_permission(self, function: str = "serverless-app-prod-api") -> tuple[str, dict]:
        """``function``'s alias's resource policy as Lambda renders an AddPermission (GetPolicy), and the alias ARN."""
        (permission,) = [
            p for p in self.all("aws_lambda_permission").values() if self.resolve(p["function_name"]) == function
        ]
        arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function}:{self.resolve(permission['qualifier'])}"
        statement = {
            "Sid": permission["statement_id"],
            "Effect": "Allow",
            "Principal": {"Service": permission["principal"]},
            "Action": permission["action"],
            "Resource": arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": self.resolve(permission["source_arn"])}},
        }
        return arn, {"Version": "2012-10-17", "Statement": [statement]}


@pytest.fixture(scope="session")
def bootstrap() -> Stack:
    return Stack(
        bootstrap_for({"BOOTSTRAP_ENV": "prod", "AWS_ACCOUNT_ID_PROD": ACCOUNT, "GITHUB_REPOSITORY": REPOSITORY})
    )


@pytest.fixture(scope="session")
def prod(bootstrap: Stack) -> Stack:
    state_key_arn, _ = bootstrap.key()
    return Stack(
        service_for(
            "prod",
            {
                "AWS_ACCOUNT_ID_PROD": ACCOUNT,
                "TF_STATE_KMS_KEY_ARN_PROD": state_key_arn,
                "ALARM_EMAILS_PROD": "oncall@example.com",
            },
        )
    )


@dataclass(frozen=True)
class Request:
    """One request as AWS makes it, and the policies AWS evaluates for it."""

    name: str
    principal: str
    action: str
    resource: str
    context: dict
    expect: str  # "Allowed" or "Denied" (explicitly or implicitly)
    identity: list = field(default_factory=list)
    resource_policy: dict | None = None
    resource_account: str = ACCOUNT
    boundary: dict | None = None
    """The permissions boundary of the principal's role, when it has one."""

    def simulation(self) -> dict:
        return {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": {"resource": self.resource, "accountId": self.resource_account},
                "contextVariables": self.context,
            },
            "identityPolicies": self.identity,
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
            **({"resourcePolicy": self.resource_policy} if self.resource_policy else {}),
            **(
                {"permissionBoundaryPolicies": [{"name": "boundary", "policy": self.boundary}]} if self.boundary else {}
            ),
        }


def evaluate(requests: list[Request]) -> dict[str, dict]:
    """Run every request through the engine in one node process; results by request name."""
    assert ENGINE.exists(), "run `make setup` (npm ci installs @cloud-copilot/iam-simulate)"
    payload = json.dumps([{"name": r.name, "simulation": r.simulation()} for r in requests])
    result = subprocess.run(
        ["node", "--require", str(HERE / "encryption_context_patch.cjs"), str(HERE / "evaluate.cjs")],
        input=payload,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout)
    assert sorted(output["patched"]) == ["context_keys/contextKeys.js", "simulation_engine/simulationEngine.js"]
    return {r["name"]: r for r in output["results"]}


def explain(request: Request, result: dict) -> str:
    return (
        f"{request.name}: expected {request.expect}, the engine says {result.get('decision') or result}\n"
        f"  {request.principal} -> {request.action} on {request.resource}\n"
        f"  context: {json.dumps(request.context)}\n"
        f"  decided by: {json.dumps(result.get('decidedBy'))}\n"
        f"  context keys the engine ignored: {result.get('ignoredContextKeys')}"
    )
