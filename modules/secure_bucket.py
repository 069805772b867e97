"""An S3 bucket with the safeguards that must never be off, and its own server-access-log bucket."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from modules.account import AccountContext
from modules.iam import document
from modules.validation import BUCKET_NAME, BUCKET_NAME_HELP, Checks

ACCESS_LOG_SUFFIX = "-access-logs"
ACCOUNT_SUFFIX_LENGTH = 13  # "-" and a 12-digit account id
BUCKET_NAME_LIMIT = 63


@dataclass(frozen=True)
class SecureBucketConfig:
    """Tunables of a hardened bucket; versioning, encryption, TLS-only and public-access blocking are not."""

    name: str
    """The bucket's name, or its prefix when ``append_account_id``; its access-log bucket adds ``-access-logs``."""
    append_account_id: bool = True
    """Name the bucket ``<name>-<account id>`` (default on): bucket names are global, and a generic name such as
    ``myapp-prod-logs`` is likely taken in another account, which fails the first deploy."""
    force_destroy: bool = False
    """Let ``destroy`` empty a non-empty bucket (default off); never together with ``prevent_destroy``."""
    prevent_destroy: bool = True
    """Terraform refuses any plan that would delete the bucket (default on)."""
    enable_lifecycle_rules: bool = True
    """Create the lifecycle rules below (default on; only the emulator environment turns them off, see
    ``stacks/environments.py``)."""
    transition_to_infrequent_access_days: int = 30
    """Days before current objects move to STANDARD_IA (30..3650; S3's minimum is 30; default 30)."""
    noncurrent_version_expiration_days: int = 90
    """Days a replaced object version is kept (1..3650; default 90)."""
    expiration_days: int | None = None
    """Days before current objects are deleted (1..3650; default None: kept). For disposable data such as query
    results; no transition to STANDARD_IA is made when objects expire before it."""
    abort_incomplete_multipart_upload_days: int = 7
    """Days before an unfinished multipart upload is removed (1..365; default 7)."""
    access_log_expiration_days: int = 365
    """Days the server access logs (current objects of the access-log bucket) are kept (1..3650; default 365).
    Log objects are never overwritten, so without this the access-log bucket would grow forever."""
    object_level_denies: bool = True
    """Apply the TLS-only and encryption denies to objects too (default on). Only the local emulator turns it off:
    it applies a Deny statement without evaluating its conditions, so a conditional deny on ``arn/*`` refuses every
    object request there."""

    def __post_init__(self) -> None:
        checks = Checks("bucket")
        if checks.pattern("name", self.name, BUCKET_NAME, BUCKET_NAME_HELP):
            longest = self.longest_name_length
            checks.that(
                longest <= BUCKET_NAME_LIMIT,
                "name",
                self.name,
                f"at most {len(self.name) - longest + BUCKET_NAME_LIMIT} characters, so that its access-log bucket "
                f"'{self.name}{'-<account id>' if self.append_account_id is True else ''}{ACCESS_LOG_SUFFIX}' "
                f"fits S3's {BUCKET_NAME_LIMIT}",
            )
        for flag in (
            "append_account_id",
            "force_destroy",
            "prevent_destroy",
            "enable_lifecycle_rules",
            "object_level_denies",
        ):
            checks.type(flag, getattr(self, flag), bool)
        checks.that(
            not (self.force_destroy is True and self.prevent_destroy is True),
            "force_destroy",
            True,
            "False while prevent_destroy is True (protected data is never emptied by Terraform)",
        )
        # STANDARD_IA has a 30-day minimum storage duration; S3 rejects earlier transitions.
        checks.int_range(
            "transition_to_infrequent_access_days", self.transition_to_infrequent_access_days, 30, 3650, "days"
        )
        checks.int_range("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650, "days")
        checks.int_range(
            "abort_incomplete_multipart_upload_days", self.abort_incomplete_multipart_upload_days, 1, 365, "days"
        )
        checks.int_range("access_log_expiration_days", self.access_log_expiration_days, 1, 3650, "days")
        if self.expiration_days is not None:
            checks.int_range("expiration_days", self.expiration_days, 1, 3650, "days")
        checks.done()

    @property
    def longest_name_length(self) -> int:
        """Length of the longest bucket name this config makes (its access-log bucket's)."""
        return (
            len(self.name) + (ACCOUNT_SUFFIX_LENGTH if self.append_account_id is True else 0) + len(ACCESS_LOG_SUFFIX)
        )


class SecureBucket(Construct):
    """A versioned, encrypted, private, TLS-only bucket with lifecycle rules and server access logging.

    With ``kms_key`` the bucket uses SSE-KMS with that key and bucket keys, and its policy denies uploads
    that ask for any other encryption. Server access logs go to ``access_log_bucket``, which has the same
    safeguards but SSE-S3 (S3 log delivery cannot use SSE-KMS) and expires its logs.
    """

    bucket: S3Bucket
    """The bucket."""
    versioning: S3BucketVersioningA
    """Versioning, always ``Enabled``."""
    encryption: S3BucketServerSideEncryptionConfigurationA
    """Default encryption: SSE-KMS with bucket keys when a key is given, else SSE-S3."""
    public_access_block: S3BucketPublicAccessBlock
    """All four public-access-block flags on."""
    ownership: S3BucketOwnershipControls
    """``BucketOwnerEnforced``: ACLs off."""
    lifecycle: S3BucketLifecycleConfiguration | None
    """Tiering, noncurrent-version expiry and multipart clean-up (and log expiry on an access-log bucket)."""
    policy: S3BucketPolicy
    """TLS-only, and (with a key) deny uploads with any other encryption."""
    access_log_bucket: SecureBucket | None
    """Where S3 writes this bucket's server access logs (None on an access-log bucket itself)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: SecureBucketConfig,
        account: AccountContext,
        kms_key: KmsKey | None = None,
        _logs_of: S3Bucket | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        name = f"{config.name}-{account.account_id}" if config.append_account_id else config.name
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=name + ACCESS_LOG_SUFFIX if _logs_of else name,
            force_destroy=config.force_destroy,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=config.prevent_destroy),
        )
        bucket_id = self.bucket.id
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms" if kms_key else "AES256", kms_master_key_id=kms_key.arn if kms_key else None
        )
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default, bucket_key_enabled=kms_key is not None
                )
            ],
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public_access_block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.lifecycle = self._lifecycle(config, expire_current=_logs_of is not None)
        statements = [self._deny_insecure_transport(config.object_level_denies)]
        if config.object_level_denies:
            statements += self._deny_other_encryption(kms_key)
        if _logs_of:
            statements.append(self._allow_log_delivery(_logs_of))
        self.access_log_bucket = None
        if not _logs_of:
            self.access_log_bucket = SecureBucket(
                self, "access_logs", config=config, account=account, _logs_of=self.bucket
            )
            self.logging = S3BucketLoggingA(
                self,
                "logging",
                bucket=bucket_id,
                target_bucket=self.access_log_bucket.bucket.id,
                target_prefix=f"{config.name}/",
                depends_on=[self.access_log_bucket.policy],
            )
        # The public access block must exist before a policy so S3 can judge the policy non-public.
        self.policy = S3BucketPolicy(
            self, "policy", bucket=bucket_id, depends_on=[self.public_access_block], policy=document(statements)
        )

    def _lifecycle(self, config: SecureBucketConfig, *, expire_current: bool) -> S3BucketLifecycleConfiguration | None:
        if not config.enable_lifecycle_rules:
            return None
        expire_after = config.access_log_expiration_days if expire_current else config.expiration_days
        # STANDARD_IA bills 30 days at least: objects that expire sooner stay in STANDARD.
        tiering = expire_after is None or expire_after > config.transition_to_infrequent_access_days
        return S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            depends_on=[self.versioning],
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="tiering-and-expiry",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=config.transition_to_infrequent_access_days, storage_class="STANDARD_IA"
                        )
                    ]
                    if tiering
                    else None,
                    # Objects expire by age when they are disposable (logs, results); in a versioned bucket whose
                    # objects are replaced (state) or deleted, a delete marker left once its noncurrent versions
                    # expired is removed too.
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=expire_after)
                        if expire_after is not None
                        else S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=config.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=config.abort_incomplete_multipart_upload_days
                        )
                    ],
                )
            ],
        )

    # Deny statements name every principal as {"AWS": "*"}, which IAM treats exactly like "*"; the emulator's
    # log-delivery permission check crashes on the bare string form.
    def _deny_insecure_transport(self, on_objects: bool) -> dict:
        return {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"] if on_objects else [self.bucket.arn],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }

    def _deny_other_encryption(self, kms_key: KmsKey | None) -> list[dict]:
        if kms_key is None:
            return []
        # "IfExists": uploads without encryption headers fall back to the bucket default, which is this key.
        return [
            {
                "Sid": "DenyUploadsNotUsingKms",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"{self.bucket.arn}/*",
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
            {
                "Sid": "DenyUploadsWithAnotherKey",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"{self.bucket.arn}/*",
                "Condition": {
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key.arn}
                },
            },
        ]

    def _allow_log_delivery(self, source: S3Bucket) -> dict:
        # S3's logging service may write here only the logs of ``source``, and only for this account.
        return {
            "Sid": "AllowServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{self.bucket.arn}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": source.arn},
                "StringEquals": {"aws:SourceAccount": self._account.account_id},
            },
        }
