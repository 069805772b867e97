"""The archive as tables: a Glue database with one table per shipped log source (partition projection, no crawler),
an Athena workgroup whose configuration callers cannot override, the runbook's saved queries, and a least-privilege
``archive-reader`` role for the people who run them.

Projection turns a query's ``datehour`` bounds into the S3 prefixes of those hours, so Athena neither lists
partitions nor reads hours outside the bounds; nothing has to add partitions as Firehose writes new hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import Fn, TerraformResource
from cdktf_cdktf_provider_aws.athena_named_query import AthenaNamedQuery
from cdktf_cdktf_provider_aws.athena_workgroup import (
    AthenaWorkgroup,
    AthenaWorkgroupConfiguration,
    AthenaWorkgroupConfigurationEngineVersion,
    AthenaWorkgroupConfigurationResultConfiguration,
    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktf_cdktf_provider_aws.glue_catalog_table import (
    GlueCatalogTable,
    GlueCatalogTablePartitionKeys,
    GlueCatalogTableStorageDescriptor,
    GlueCatalogTableStorageDescriptorColumns,
    GlueCatalogTableStorageDescriptorSerDeInfo,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules import log_tables
from modules.account import AccountContext
from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.iam import document
from modules.log_archive import LogArchive
from modules.log_shipping import LogShipping
from modules.saved_queries import SavedQuery, saved_queries
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from modules.validation import Checks, fail

# The SQL of the saved queries is written for this engine; a new engine version is a reviewed change of both.
ENGINE_VERSION = "Athena engine version 3"
# Athena refuses a per-query cutoff below 10 MB.
MIN_CUTOFF_MB = 10
MAX_CUTOFF_MB = 1024 * 1024
HOUR = r"\d{4}/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/([01]\d|2[0-3])"
ARN = r"arn:aws[a-z-]*:iam::\d{12}:(root|role/.+|user/.+)"


@dataclass(frozen=True)
class LogQueryConfig:
    """The archive's catalog, workgroup and reader role."""

    name_prefix: str
    """``<app>-<env>`` (2-31 of a-z, 0-9, '-'): the workgroup and reader role are ``<prefix>-logs`` and
    ``<prefix>-archive-reader``, the database ``<prefix with '_'>_logs``."""
    results_bucket: SecureBucketConfig
    """The bucket of query results (encrypted with the stack's key). Set ``expiration_days``: results are
    disposable copies of archived lines and should not outlive a few days."""
    bytes_scanned_cutoff_per_query_mb: int = 1024
    """Athena cancels a query once it has scanned this much (10..1048576 MB; default 1024): a query without
    ``datehour`` bounds cannot read the whole archive by mistake."""
    projection_start: str | None = None
    """The first hour a table projects (``YYYY/MM/DD/HH``, UTC). Default None: the hour the tables are first applied
    (a new stack's archive starts then). Set it when adding the tables to an archive that already holds logs."""
    save_named_queries: bool = True
    """Save the runbook's queries as Athena named queries of the workgroup (default True). The ``saved_queries``
    attribute has them either way, for ``make query``."""
    reader_principals: tuple[str, ...] = ()
    """IAM ARNs that may assume the reader role (default none: any principal of this account whose own policy lets
    it assume the role, e.g. an SSO permission set)."""

    def __post_init__(self) -> None:
        checks = Checks("log_query")
        checks.pattern(
            "name_prefix",
            self.name_prefix,
            r"[a-z][a-z0-9-]{1,30}",
            "2-31 characters of a-z, 0-9 and '-', starting with a letter",
        )
        if checks.type("results_bucket", self.results_bucket, SecureBucketConfig):
            checks.that(
                self.results_bucket.expiration_days is not None,
                "results_bucket.expiration_days",
                None,
                "a number of days (1..3650): query results expire",
            )
        checks.type("save_named_queries", self.save_named_queries, bool)
        checks.int_range(
            "bytes_scanned_cutoff_per_query_mb", self.bytes_scanned_cutoff_per_query_mb, MIN_CUTOFF_MB, MAX_CUTOFF_MB
        )
        if self.projection_start is not None:
            checks.pattern("projection_start", self.projection_start, HOUR, "an hour as YYYY/MM/DD/HH (UTC)")
        if checks.type("reader_principals", self.reader_principals, tuple):
            checks.each(
                "reader_principals",
                self.reader_principals,
                lambda f, v: checks.pattern(f, v, ARN, "an IAM ARN of this partition (root, role/... or user/...)"),
            )
        checks.done()

    @property
    def database_name(self) -> str:
        return f"{self.name_prefix.replace('-', '_')}_logs"

    @property
    def workgroup_name(self) -> str:
        return f"{self.name_prefix}-logs"


class LogQuery(Construct):
    """Glue tables over every shipped source, an Athena workgroup with the saved queries, and the reader role."""

    database: GlueCatalogDatabase
    """The stack's database, ``<prefix>_logs``."""
    tables: dict[str, GlueCatalogTable]
    """One table per log source, by table name (``function_api``, ``api_access``, ``api_execution``, ``waf``)."""
    sources: dict[str, str]
    """The log source each table reads, by table name."""
    results: SecureBucket
    """Where the workgroup writes query results (SSE-KMS with the stack's key, expiring)."""
    workgroup: AthenaWorkgroup
    """``<prefix>-logs``: enforced configuration, encrypted results, a per-query scan cutoff, engine pinned."""
    saved_queries: tuple[SavedQuery, ...]
    """The runbook's queries over this stack's tables (every route group's function table; no ``waf-blocks``
    without WAF logs)."""
    named_queries: dict[str, AthenaNamedQuery]
    """``saved_queries`` as Athena named queries, by name (none when ``save_named_queries`` is off)."""
    reader_role: IamRole
    """``<prefix>-archive-reader``: run queries in the workgroup; read the tables, ``logs/`` and the results."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: LogQueryConfig,
        archive: LogArchive,
        shipping: LogShipping,
        key: EncryptionKey,
        account: AccountContext,
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        self.database = GlueCatalogDatabase(
            self,
            "database",
            name=config.database_name,
            description=f"Every archived log line of {config.name_prefix}, one table per log source",
        )
        start = config.projection_start or self._first_apply_hour()
        self.tables, self.sources = {}, {}
        for source, prefix in shipping.prefixes.items():
            schema = log_tables.schema_for(source)
            if schema is None:
                raise fail("log source", source, "a source of a kind a table describes: lambda/, apigateway/, waf/")
            name = log_tables.table_name(source, config.name_prefix)
            if name in self.tables:
                raise fail("log source", source, f"a source whose table name {name!r} no other source has")
            self.tables[name] = self._table(name, schema, f"s3://{archive.bucket.bucket}/{prefix}", start, source)
            self.sources[name] = source
        self.results = SecureBucket(self, "results", config=config.results_bucket, account=account, kms_key=key.key)
        self.workgroup = AthenaWorkgroup(
            self,
            "workgroup",
            name=config.workgroup_name,
            description=f"Queries over the log archive of {config.name_prefix}",
            state="ENABLED",
            configuration=AthenaWorkgroupConfiguration(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.bytes_scanned_cutoff_per_query_mb * 1024 * 1024,
                requester_pays_enabled=False,
                engine_version=AthenaWorkgroupConfigurationEngineVersion(selected_engine_version=ENGINE_VERSION),
                result_configuration=AthenaWorkgroupConfigurationResultConfiguration(
                    output_location=f"s3://{self.results.bucket.bucket}/results/",
                    expected_bucket_owner=account.account_id,
                    encryption_configuration=AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                        encryption_option="SSE_KMS", kms_key_arn=key.arn
                    ),
                ),
            ),
        )
        self.saved_queries = saved_queries(self.tables)
        self.named_queries = (
            {query.name: self._named_query(query) for query in self.saved_queries} if config.save_named_queries else {}
        )
        self.reader_role = self._reader(config, archive, key)

    def _first_apply_hour(self) -> str:
        # The hour of the first apply, kept: terraform_data stores timestamp() once and ignores it afterwards.
        created = TerraformResource(self, "created", terraform_resource_type="terraform_data")
        created.add_override("input", "${timestamp()}")
        created.add_override("lifecycle", {"ignore_changes": ["input"]})
        return Fn.formatdate("YYYY/MM/DD/hh", created.get_string_attribute("output"))

    def _table(
        self, name: str, schema: log_tables.TableSchema, location: str, start: str, source: str
    ) -> GlueCatalogTable:
        partition = log_tables.PARTITION
        return GlueCatalogTable(
            self,
            f"table_{name}",
            name=name,
            database_name=self.database.name,
            description=f"{schema.description} (log source {source})",
            table_type="EXTERNAL_TABLE",
            parameters={
                "EXTERNAL": "TRUE",
                "classification": "regex" if schema.serde == log_tables.REGEX else "json",
                "compressionType": "gzip",
                "projection.enabled": "true",
                f"projection.{partition}.type": "date",
                f"projection.{partition}.format": log_tables.PARTITION_FORMAT,
                f"projection.{partition}.range": f"{start},NOW",
                f"projection.{partition}.interval": "1",
                f"projection.{partition}.interval.unit": "HOURS",
                # "$$" is Terraform's escape for a literal "$": Athena fills ${datehour} in, not Terraform.
                "storage.location.template": f"{location}$${{{partition}}}/",
            },
            partition_keys=[
                GlueCatalogTablePartitionKeys(name=partition, type="string", comment="UTC hour, YYYY/MM/DD/HH")
            ],
            storage_descriptor=GlueCatalogTableStorageDescriptor(
                location=location,
                input_format=log_tables.TEXT_INPUT,
                output_format=log_tables.TEXT_OUTPUT,
                compressed=True,
                ser_de_info=GlueCatalogTableStorageDescriptorSerDeInfo(
                    name=schema.kind, serialization_library=schema.serde, parameters=schema.serde_parameters
                ),
                columns=[
                    GlueCatalogTableStorageDescriptorColumns(
                        name=column.name, type=column.type.hive, comment=column.comment or None
                    )
                    for column in schema.columns
                ],
            ),
        )

    def _named_query(self, query: SavedQuery) -> AthenaNamedQuery:
        parameters = ", ".join(query.parameters)
        return AthenaNamedQuery(
            self,
            f"query_{re.sub(r'[^a-z0-9]+', '_', query.name)}",
            name=query.name,
            description=f"{query.description}. Parameters, in order: {parameters}"[:1024],
            workgroup=self.workgroup.id,
            database=self.database.name,
            query=query.sql,
        )

    def _reader(self, config: LogQueryConfig, archive: LogArchive, key: EncryptionKey) -> IamRole:
        account = self._account
        archive_arn, results_arn = archive.bucket.arn, self.results.bucket.arn
        database = config.database_name
        principals = list(config.reader_principals) or [account.root_arn]
        role = IamRole(
            self,
            "reader_role",
            name=f"{config.name_prefix}-archive-reader",
            description=f"Query the log archive of {config.name_prefix} in its Athena workgroup (read only)",
            assume_role_policy=document(
                [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]
            ),
            max_session_duration=3600,
            permissions_boundary=account.role_boundary_arn,
        )
        IamRolePolicy(
            self,
            "reader_policy",
            role=role.id,
            name="query-the-archive",
            policy=document(
                [
                    {
                        "Sid": "RunQueriesInTheWorkgroup",
                        "Effect": "Allow",
                        "Action": [f"athena:{action}" for action in ATHENA_QUERY_ACTIONS],
                        "Resource": self.workgroup.arn,
                    },
                    # Listing workgroups has no resource type (Service Authorization Reference, Athena).
                    {"Sid": "FindTheWorkgroup", "Effect": "Allow", "Action": "athena:ListWorkGroups", "Resource": "*"},
                    {
                        "Sid": "ReadTheCatalog",
                        "Effect": "Allow",
                        "Action": [f"glue:{action}" for action in GLUE_READ_ACTIONS],
                        "Resource": [
                            account.arn("glue", "catalog"),
                            account.arn("glue", f"database/{database}"),
                            account.arn("glue", f"table/{database}/*"),
                        ],
                    },
                    {
                        "Sid": "ReadArchivedLines",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"{archive_arn}/logs/*",
                    },
                    {
                        "Sid": "ListArchivedLines",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": archive_arn,
                        "Condition": {"StringLike": {"s3:prefix": "logs/*"}},
                    },
                    {
                        "Sid": "LocateTheBuckets",
                        "Effect": "Allow",
                        "Action": "s3:GetBucketLocation",
                        "Resource": [archive_arn, results_arn],
                    },
                    {
                        "Sid": "WriteAndReadResults",
                        "Effect": "Allow",
                        "Action": [
                            "s3:AbortMultipartUpload",
                            "s3:GetObject",
                            "s3:ListMultipartUploadParts",
                            "s3:PutObject",
                        ],
                        "Resource": f"{results_arn}/results/*",
                    },
                    {
                        "Sid": "ListResults",
                        "Effect": "Allow",
                        "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                        "Resource": results_arn,
                    },
                    # Athena reads and writes S3 with the caller's credentials; both buckets use S3 Bucket Keys, so
                    # S3 asks KMS with the bucket's ARN as encryption context.
                    {
                        "Sid": "KeyOnlyThroughS3ForTheseBuckets",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": key.arn,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                                "kms:CallerAccount": account.account_id,
                            },
                            "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": [archive_arn, results_arn]},
                        },
                    },
                ]
            ),
        )
        return role


ATHENA_QUERY_ACTIONS = (
    "BatchGetNamedQuery",
    "BatchGetQueryExecution",
    "GetNamedQuery",
    "GetQueryExecution",
    "GetQueryResults",
    "GetQueryResultsStream",
    "GetQueryRuntimeStatistics",
    "GetWorkGroup",
    "ListNamedQueries",
    "ListQueryExecutions",
    "StartQueryExecution",
    "StopQueryExecution",
)
GLUE_READ_ACTIONS = (
    "BatchGetPartition",
    "GetDatabase",
    "GetDatabases",
    "GetPartition",
    "GetPartitions",
    "GetTable",
    "GetTables",
)
