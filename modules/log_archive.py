"""The log archive: a versioned, KMS-encrypted bucket (with its own access-log bucket) that keeps every log line."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from modules.account import AccountContext
from modules.encryption_key import EncryptionKey
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from modules.validation import Checks


@dataclass(frozen=True)
class LogArchiveConfig:
    """The archive bucket's settings."""

    bucket: SecureBucketConfig
    """Name, deletion protection and lifecycle of the archive (its safeguards are not configurable)."""

    def __post_init__(self) -> None:
        checks = Checks("log_archive")
        checks.type("bucket", self.bucket, SecureBucketConfig)
        checks.done()


class LogArchive(Construct):
    """The versioned, SSE-KMS bucket that keeps every log line, with its own server-access-log bucket."""

    bucket: S3Bucket
    """The archive bucket, encrypted with the stack's key."""
    access_log_bucket: S3Bucket
    """The SSE-S3 bucket that receives the archive's server access logs."""
    secure_bucket: SecureBucket
    """Every resource of the archive bucket (policy, lifecycle, ...)."""

    def __init__(
        self, scope: Construct, id: str, *, config: LogArchiveConfig, key: EncryptionKey, account: AccountContext
    ) -> None:
        super().__init__(scope, id)
        self.secure_bucket = SecureBucket(self, "archive", config=config.bucket, account=account, kms_key=key.key)
        self.bucket = self.secure_bucket.bucket
        self.access_log_bucket = self.secure_bucket.access_log_bucket.bucket
