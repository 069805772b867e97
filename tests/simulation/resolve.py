"""Turn a synthesized stack's Terraform references into the values AWS would see, for one fixed account.

Policies in ``cdk.tf.json`` reference other resources (``${aws_s3_bucket.x.arn}``); an IAM engine needs the ARN.
Every reference is resolved from the stack itself (names from the resource's own arguments, ARNs in each
service's documented format); a reference this module does not know fails loudly instead of guessing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

ACCOUNT = "111122223333"
PARTITION = "aws"
REGION = "us-east-1"
REFERENCE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Resolves ``${type.name.attribute}`` references (and ``data.*`` ones) of one stack's JSON."""

    def __init__(self, tf: dict) -> None:
        self.tf = tf
        self.resources = tf.get("resource", {})
        self.data = tf.get("data", {})

    def __call__(self, value: Any) -> Any:
        """``value`` with every reference inside it resolved (strings, lists and dicts, recursively)."""
        if isinstance(value, str):
            whole = REFERENCE.fullmatch(value)
            if whole:
                return self.reference(whole.group(1))
            return REFERENCE.sub(lambda m: str(self.reference(m.group(1))), value)
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        return value

    def policy(self, text: str) -> dict:
        """A policy document attribute, parsed and resolved."""
        return self(json.loads(text))

    def reference(self, expression: str) -> Any:
        parts = expression.split(".")
        if parts[0] == "data":
            return self._data(parts[1], parts[2], parts[3])
        if len(parts) != 3:
            raise KeyError(f"unsupported reference ${{{expression}}}")
        type_, name, attribute = parts
        resource = self.resources[type_][name]
        return self._attribute(type_, name, resource, attribute)

    def _data(self, type_: str, name: str, attribute: str) -> str:
        if type_ == "aws_caller_identity" and attribute == "account_id":
            return ACCOUNT
        if type_ == "aws_partition" and attribute == "partition":
            return PARTITION
        raise KeyError(f"unsupported data source data.{type_}.{name}.{attribute}")

    def _attribute(self, type_: str, name: str, resource: dict, attribute: str) -> str:
        value = getattr(self, f"_{type_}", None)
        if value is None:
            raise KeyError(f"no resolver for {type_}.{attribute}")
        return value(name, resource, attribute)

    def _arn(self, service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
        return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"

    @staticmethod
    def _fake_id(name: str, length: int = 10) -> str:
        return hashlib.sha256(name.encode()).hexdigest()[:length]

    def _aws_s3_bucket(self, name: str, r: dict, attribute: str) -> str:
        bucket = self(r["bucket"])
        return {"arn": f"arn:{PARTITION}:s3:::{bucket}", "id": bucket, "bucket": bucket}[attribute]

    def _aws_kms_key(self, name: str, r: dict, attribute: str) -> str:
        digest = self._fake_id(name, 32)
        key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        return {"arn": self._arn("kms", f"key/{key_id}"), "key_id": key_id, "id": key_id}[attribute]

    def _aws_kms_alias(self, name: str, r: dict, attribute: str) -> str:
        return {"arn": self._arn("kms", self(r["name"])), "name": self(r["name"])}[attribute]

    def _aws_iam_role(self, name: str, r: dict, attribute: str) -> str:
        role = self(r["name"])
        path = r.get("path", "/")
        arn = f"arn:{PARTITION}:iam::{ACCOUNT}:role{path}{role}"
        return {"arn": arn, "name": role, "id": role}[attribute]

    def _aws_iam_policy(self, name: str, r: dict, attribute: str) -> str:
        arn = f"arn:{PARTITION}:iam::{ACCOUNT}:policy{r.get('path', '/')}{self(r['name'])}"
        return {"arn": arn, "id": arn, "name": self(r["name"])}[attribute]

    def _aws_iam_openid_connect_provider(self, name: str, r: dict, attribute: str) -> str:
        host = r["url"].removeprefix("https://")
        return {"arn": f"arn:{PARTITION}:iam::{ACCOUNT}:oidc-provider/{host}"}[attribute]

    def _aws_cloudwatch_log_group(self, name: str, r: dict, attribute: str) -> str:
        group = self(r["name"])
        return {"arn": self._arn("logs", f"log-group:{group}"), "name": group, "id": group}[attribute]

    def _aws_cloudwatch_log_stream(self, name: str, r: dict, attribute: str) -> str:
        return {"name": self(r["name"])}[attribute]

    def _aws_kinesis_firehose_delivery_stream(self, name: str, r: dict, attribute: str) -> str:
        stream = self(r["name"])
        return {"arn": self._arn("firehose", f"deliverystream/{stream}"), "name": stream}[attribute]

    def _aws_athena_workgroup(self, name: str, r: dict, attribute: str) -> str:
        workgroup = self(r["name"])
        return {"arn": self._arn("athena", f"workgroup/{workgroup}"), "name": workgroup, "id": workgroup}[attribute]

    def _aws_glue_catalog_database(self, name: str, r: dict, attribute: str) -> str:
        return {"name": self(r["name"]), "arn": self._arn("glue", f"database/{self(r['name'])}")}[attribute]

    def _aws_sns_topic(self, name: str, r: dict, attribute: str) -> str:
        return {"arn": self._arn("sns", self(r["name"])), "name": self(r["name"])}[attribute]

    def _aws_sqs_queue(self, name: str, r: dict, attribute: str) -> str:
        return {"arn": self._arn("sqs", self(r["name"])), "name": self(r["name"])}[attribute]

    def _aws_lambda_function(self, name: str, r: dict, attribute: str) -> str:
        function = self(r["function_name"])
        arn = self._arn("lambda", f"function:{function}")
        return {"arn": arn, "function_name": function, "id": function, "version": "7", "qualified_arn": f"{arn}:7"}[
            attribute
        ]

    def _aws_lambda_alias(self, name: str, r: dict, attribute: str) -> str:
        function = self(r["function_name"])
        arn = self._arn("lambda", f"function:{function}:{r['name']}")
        invoke = f"arn:{PARTITION}:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
        return {"arn": arn, "name": r["name"], "invoke_arn": invoke}[attribute]

    def _aws_api_gateway_rest_api(self, name: str, r: dict, attribute: str) -> str:
        api_id = self._fake_id(name)
        return {
            "id": api_id,
            "execution_arn": self._arn("execute-api", api_id),
            "root_resource_id": self._fake_id(name + "/"),
        }[attribute]

    def _aws_api_gateway_stage(self, name: str, r: dict, attribute: str) -> str:
        api_id, stage = self(r["rest_api_id"]), self(r["stage_name"])
        arn = f"arn:{PARTITION}:apigateway:{REGION}::/restapis/{api_id}/stages/{stage}"
        return {
            "arn": arn,
            "stage_name": stage,
            "invoke_url": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}",
        }[attribute]

    def _aws_cloudwatch_metric_alarm(self, name: str, r: dict, attribute: str) -> str:
        name = self(r["alarm_name"])
        return {"arn": self._arn("cloudwatch", f"alarm:{name}"), "alarm_name": name}[attribute]

    def _aws_codedeploy_app(self, name: str, r: dict, attribute: str) -> str:
        return {"name": self(r["name"]), "arn": self._arn("codedeploy", f"application:{self(r['name'])}")}[attribute]

    def _aws_codedeploy_deployment_group(self, name: str, r: dict, attribute: str) -> str:
        app, group = self(r["app_name"]), self(r["deployment_group_name"])
        return {"arn": self._arn("codedeploy", f"deploymentgroup:{app}/{group}"), "deployment_group_name": group}[
            attribute
        ]
