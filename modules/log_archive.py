"""The log archive: a versioned, KMS-encrypted bucket (with its own access-log bucket) that keeps every log line."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.encryption_key import EncryptionKey
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from modules.validation import check_type


@dataclass(frozen=True)
class LogArchiveConfig:
    """``bucket`` holds the archive's name, deletion protection and lifecycle (see ``SecureBucketConfig``)."""

    bucket: SecureBucketConfig

    def __post_init__(self) -> None:
        check_type("log_archive.bucket", self.bucket, SecureBucketConfig)


class LogArchive(Construct):
    """Exposes ``bucket`` (the archive, SSE-KMS with ``key``), ``access_log_bucket`` and ``secure_bucket``."""

    def __init__(self, scope: Construct, id: str, *, config: LogArchiveConfig, key: EncryptionKey) -> None:
        super().__init__(scope, id)
        self.secure_bucket = SecureBucket(self, "archive", config=config.bucket, kms_key=key.key)
        self.bucket = self.secure_bucket.bucket
        self.access_log_bucket = self.secure_bucket.access_log_bucket.bucket
