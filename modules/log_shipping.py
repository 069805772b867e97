"""Ships every log group the stack creates to the archive: CloudWatch Logs subscription -> Firehose -> S3.

The handler never writes to S3: Lambda and API Gateway write to CloudWatch Logs, a subscription filter
forwards each group to its own Firehose stream, and Firehose batches, compresses and encrypts into the
archive under ``logs/<source>/YYYY/MM/DD/HH/``. Groups are created only through :meth:`LogShipping.log_group`,
so a group cannot exist without its subscription (the synth policy checks this too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_stream import CloudwatchLogStream
from cdktf_cdktf_provider_aws.cloudwatch_log_subscription_filter import CloudwatchLogSubscriptionFilter
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStream,
    KinesisFirehoseDeliveryStreamExtendedS3Configuration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters,
    KinesisFirehoseDeliveryStreamServerSideEncryption,
)
from constructs import Construct

from modules.account import AccountContext
from modules.alarms import Metric
from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.iam import document, trust
from modules.log_archive import LogArchive
from modules.validation import LOG_RETENTION_DAYS, Checks, fail

SOURCE = r"[a-z0-9][a-z0-9/_.-]{0,62}"
FIREHOSE_NAME_LIMIT = 64


@dataclass(frozen=True)
class LogShippingConfig:
    """How logs travel from CloudWatch Logs to the archive."""

    name_prefix: str
    """Prefix of stream and role names, ``<app>-<env>`` (2-31 of a-z, 0-9, '-', starting with a letter)."""
    buffering_size_in_mb: int = 5
    """Firehose writes an object when this much has arrived (1..128 MiB; default 5). Larger is cheaper."""
    buffering_interval_in_seconds: int = 300
    """...or when this much time has passed (0..900 s; default 300). Smaller is fresher."""
    log_retention_in_days: int = 30
    """How long CloudWatch keeps each group (one of CloudWatch's allowed values; default 30). The archive keeps
    the copy."""

    def __post_init__(self) -> None:
        checks = Checks("log_shipping")
        checks.pattern(
            "name_prefix",
            self.name_prefix,
            r"[a-z][a-z0-9-]{1,30}",
            "2-31 characters of a-z, 0-9 and '-', starting with a letter",
        )
        checks.int_range("buffering_size_in_mb", self.buffering_size_in_mb, 1, 128, "MiB")
        checks.int_range("buffering_interval_in_seconds", self.buffering_interval_in_seconds, 0, 900, "seconds")
        checks.choice("log_retention_in_days", self.log_retention_in_days, LOG_RETENTION_DAYS)
        checks.done()


class LogShipping(Construct):
    """Firehose delivery into the archive, one stream per log source; the only way modules get a log group."""

    firehose_role: IamRole
    """The role Firehose assumes to write the archive."""
    subscription_role: IamRole
    """The role CloudWatch Logs assumes to put records into the streams, and nothing else."""
    error_log_group: CloudwatchLogGroup
    """Firehose's own delivery-error group (the one group not shipped: its failures would loop)."""
    streams: dict[str, KinesisFirehoseDeliveryStream]
    """Delivery streams by log source."""
    stream_names: dict[str, str]
    """Delivery stream names by log source (plain strings, for alarms and dashboards)."""
    log_groups: dict[str, CloudwatchLogGroup]
    """Shipped log groups by log source."""
    prefixes: dict[str, str]
    """Each source's object prefix in the archive, ``logs/<source>/``; Firehose appends ``YYYY/MM/DD/HH/``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: LogShippingConfig,
        archive: LogArchive,
        key: EncryptionKey,
        account: AccountContext,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._archive = archive
        self._key = key
        self.streams: dict[str, KinesisFirehoseDeliveryStream] = {}
        self.stream_names: dict[str, str] = {}
        self.log_groups: dict[str, CloudwatchLogGroup] = {}
        self.prefixes: dict[str, str] = {}
        self._account = account
        error_group_name = f"/aws/kinesisfirehose/{config.name_prefix}"
        key.grant_log_group(error_group_name)
        self.error_log_group = CloudwatchLogGroup(
            self,
            "firehose_errors",
            name=error_group_name,
            retention_in_days=config.log_retention_in_days,
            kms_key_id=key.key.arn,
        )
        self.firehose_role = IamRole(
            self,
            "firehose_role",
            name=f"{config.name_prefix}-firehose",
            # Firehose's documented confused-deputy guard: it passes the stream's account as the external id.
            assume_role_policy=trust(
                "firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": account.account_id}}
            ),
            permissions_boundary=account.role_boundary_arn,
        )
        bucket_arn = archive.bucket.arn
        # The archive has S3 Bucket Keys on, so S3 asks KMS for the bucket key with the *bucket* ARN as encryption
        # context (not the object's): a condition on "<bucket arn>/*" would deny every delivery on AWS.
        bucket_key_context = {"kms:EncryptionContext:aws:s3:arn": bucket_arn}
        key.grant_to_role(
            "FirehoseWritesTheArchive",
            self.firehose_role.arn,
            ["kms:GenerateDataKey", "kms:Decrypt"],
            via_service="s3",
            condition={"StringEquals": bucket_key_context},
        )
        IamRolePolicy(
            self,
            "firehose_policy",
            role=self.firehose_role.id,
            name="deliver-to-archive",
            policy=document(
                [
                    {
                        "Sid": "WriteArchive",
                        "Effect": "Allow",
                        "Action": [
                            "s3:AbortMultipartUpload",
                            "s3:GetBucketLocation",
                            "s3:GetObject",
                            "s3:ListBucket",
                            "s3:ListBucketMultipartUploads",
                            "s3:PutObject",
                        ],
                        "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    },
                    {
                        "Sid": "EncryptArchiveObjects",
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                        "Resource": key.key.arn,
                        "Condition": {
                            "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com", **bucket_key_context},
                        },
                    },
                    {
                        "Sid": "ReportDeliveryErrors",
                        "Effect": "Allow",
                        "Action": "logs:PutLogEvents",
                        "Resource": f"{self.error_log_group.arn}:log-stream:*",
                    },
                ]
            ),
        )
        self.subscription_role = IamRole(
            self,
            "subscription_role",
            name=f"{config.name_prefix}-logs-to-firehose",
            # CloudWatch Logs' documented guard for subscription roles: the source is this account's logs.
            assume_role_policy=trust(
                f"logs.{REGION}.amazonaws.com", {"ArnLike": {"aws:SourceArn": account.arn("logs", "*")}}
            ),
            permissions_boundary=account.role_boundary_arn,
        )

    def log_group(self, scope: Construct, id: str, *, name: str, source: str) -> CloudwatchLogGroup:
        """Create a KMS-encrypted log group with retention, already shipped to the archive under ``source``."""
        self._key.grant_log_group(name)
        group = CloudwatchLogGroup(
            scope, id, name=name, retention_in_days=self._config.log_retention_in_days, kms_key_id=self._key.key.arn
        )
        self.ship(group, source=source)
        return group

    def delivery_metric(self, stream_name: str, name: str, stat: str) -> Metric:
        """Firehose's metric ``name`` of one of this module's delivery streams."""
        if stream_name not in self.stream_names.values():
            raise ValueError(f"stream_name={stream_name!r}: allowed {sorted(self.stream_names.values())}")
        return Metric("AWS/Firehose", name, {"DeliveryStreamName": stream_name}, stat)

    def ship(self, group: CloudwatchLogGroup, *, source: str) -> KinesisFirehoseDeliveryStream:
        """Subscribe ``group`` to a new Firehose stream that writes under ``logs/<source>/`` in the archive."""
        if not re.fullmatch(SOURCE, source):
            raise fail("log source", source, "1-63 characters of a-z, 0-9, '/', '_', '.', '-'")
        if source in self.streams:
            raise fail("log source", source, "a source name not used by another log group")
        slug = re.sub(r"[^a-z0-9-]+", "-", source).strip("-")
        scope_id = f"ship_{slug.replace('-', '_')}"
        # Sources repeat the environment's prefix (lambda/<app>-<env>-api); the stream name has it once.
        prefix = self._config.name_prefix
        short = "-".join(part for part in f"-{slug}-".replace(f"-{prefix}-", "-").split("-") if part)
        stream_name = f"{prefix}-{short}"
        if len(stream_name) > FIREHOSE_NAME_LIMIT:
            raise fail(
                "log source",
                source,
                f"a source whose stream name {stream_name!r} fits Firehose's {FIREHOSE_NAME_LIMIT} characters",
            )
        errors = CloudwatchLogStream(
            self, f"{scope_id}_errors", name=stream_name, log_group_name=self.error_log_group.name
        )
        stream = KinesisFirehoseDeliveryStream(
            self,
            scope_id,
            name=stream_name,
            destination="extended_s3",
            server_side_encryption=KinesisFirehoseDeliveryStreamServerSideEncryption(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=self._key.key.arn
            ),
            extended_s3_configuration=KinesisFirehoseDeliveryStreamExtendedS3Configuration(
                role_arn=self.firehose_role.arn,
                bucket_arn=self._archive.bucket.arn,
                # No timestamp expression: Firehose then appends its default UTC YYYY/MM/dd/HH/ itself.
                prefix=f"logs/{source}/",
                error_output_prefix=f"errors/{source}/",
                buffering_size=self._config.buffering_size_in_mb,
                buffering_interval=self._config.buffering_interval_in_seconds,
                compression_format="GZIP",
                kms_key_arn=self._key.key.arn,
                cloudwatch_logging_options=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions(
                    enabled=True, log_group_name=self.error_log_group.name, log_stream_name=errors.name
                ),
                # CloudWatch Logs delivers gzipped envelopes; unpack them and extract the messages so the archive
                # holds the log lines themselves, compressed once. Without the delimiter processor Firehose
                # concatenates the extracted records with nothing between them.
                processing_configuration=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration(
                    enabled=True,
                    processors=[
                        _processor("Decompression", CompressionFormat="GZIP"),
                        _processor("CloudWatchLogProcessing", DataMessageExtraction="true"),
                        _processor("AppendDelimiterToRecord"),
                    ],
                ),
            ),
        )
        allow = IamRolePolicy(
            self,
            f"{scope_id}_put",
            role=self.subscription_role.id,
            name=f"put-{slug}"[:128],
            policy=document(
                [
                    {
                        "Sid": "PutIntoThisStreamOnly",
                        "Effect": "Allow",
                        "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                        "Resource": stream.arn,
                    }
                ]
            ),
        )
        CloudwatchLogSubscriptionFilter(
            self,
            f"{scope_id}_subscription",
            name="archive",
            log_group_name=group.name,
            filter_pattern="",
            destination_arn=stream.arn,
            role_arn=self.subscription_role.arn,
            depends_on=[allow],
        )
        self.streams[source] = stream
        self.stream_names[source] = stream_name
        self.log_groups[source] = group
        self.prefixes[source] = f"logs/{source}/"
        return stream


def _processor(kind: str, **parameters: str):
    return KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors(
        type=kind,
        parameters=[
            KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters(
                parameter_name=name, parameter_value=value
            )
            for name, value in parameters.items()
        ]
        or None,
    )
