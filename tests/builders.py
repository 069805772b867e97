"""Builders for testing one construct at a time: a bare stack with only the region-locked provider and the account
context, and the few dependencies constructs take (a key, the log shipping, a function).

``synth_scope`` plays the part of cdktf's ``Testing.synth_scope``, which takes a JavaScript callback: jsii cannot
hand it a Python callable (``Testing.synth_scope`` answers ``TypeError: fn is not a function``), so the callback
runs here in a bare stack and the stack is synthesized with ``Testing.synth``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdktf
from cdktf import TerraformStack

from modules.account import AccountContext
from modules.aws_provider import ProviderConfig, RegionLockedProvider
from modules.encryption_key import EncryptionKey, EncryptionKeyConfig
from modules.function import Function
from modules.function_config import FunctionConfig, LambdaCode
from modules.log_archive import LogArchive, LogArchiveConfig
from modules.log_shipping import LogShipping, LogShippingConfig
from modules.secure_bucket import SecureBucketConfig

TAGS = {"Team": "payments"}


def bare_stack() -> tuple[TerraformStack, AccountContext]:
    stack = TerraformStack(cdktf.Testing.app(), "team")
    RegionLockedProvider(stack, "aws", config=ProviderConfig(default_tags=TAGS))
    return stack, AccountContext(stack, "account")


def synth_scope(build: Callable[[TerraformStack, AccountContext], Any]) -> dict:
    """``build(stack, account)`` in a bare stack; the synthesized Terraform JSON, parsed."""
    stack, account = bare_stack()
    build(stack, account)
    return json.loads(cdktf.Testing.synth(stack))


def of(tf: dict, type_: str) -> list[dict]:
    """Every resource of ``type_`` (none: an empty list)."""
    return list(tf.get("resource", {}).get(type_, {}).values())


def code(tmp_path: Path) -> LambdaCode:
    zip_path = tmp_path / "code.zip"
    zip_path.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: the construct only stages the file
    return LambdaCode(zip_path=zip_path, sha256_base64="c2hhMjU2")


def shipping(stack: TerraformStack, account: AccountContext) -> tuple[EncryptionKey, LogShipping]:
    key = EncryptionKey(stack, "key", config=EncryptionKeyConfig(alias="payments"), account=account)
    archive = LogArchive(
        stack,
        "archive",
        config=LogArchiveConfig(bucket=SecureBucketConfig(name="payments-logs")),
        key=key,
        account=account,
    )
    log_shipping = LogShipping(
        stack, "shipping", config=LogShippingConfig(name_prefix="payments"), archive=archive, key=key, account=account
    )
    return key, log_shipping


def function(
    stack: TerraformStack,
    account: AccountContext,
    tmp_path: Path,
    *,
    key: EncryptionKey,
    log_shipping: LogShipping,
    **changes: Any,
) -> Function:
    """A function named payments-api; ``changes`` override its FunctionConfig fields."""
    config = {"name": "payments-api", "service_name": "payments", "metrics_namespace": "payments", **changes}
    return Function(
        stack,
        "fn",
        config=FunctionConfig(**config),
        code=code(tmp_path),
        key=key,
        shipping=log_shipping,
        account=account,
    )
