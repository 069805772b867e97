"""boto3 clients for the emulator or a real account, and the variables that point Terraform at the emulator."""

from __future__ import annotations

import boto3

from tools import manifest

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def emulator_environment(endpoint: str | None = None) -> dict[str, str]:
    """Variables that point the AWS SDKs of Terraform's provider and S3 backend at the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint or manifest.emulator_endpoint(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
    }


def emulator_client(service: str, endpoint: str | None = None):
    return boto3.client(
        service, endpoint_url=endpoint or manifest.emulator_endpoint(), region_name=REGION, **FAKE_CREDENTIALS
    )


def clients_for(stack: manifest.Stack):
    """A boto3 client factory for where ``stack`` deploys: the emulator it points at, or the account of the
    credentials in the environment (us-east-1)."""
    if stack.emulated:
        endpoint = stack.emulator_endpoint
        return lambda service: emulator_client(service, endpoint)
    return lambda service: boto3.client(service, region_name=REGION)
