"""The archive as tables: Glue tables that read exactly where Firehose writes, an Athena workgroup that callers cannot
loosen, the runbook's queries saved in it, and a reader role (the queries themselves: tests/test_saved_queries.py)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from stack_helpers import PROJECT_DIR, ref, resources

from modules import log_tables
from modules.api_config import ACCESS_LOG_FORMAT
from modules.log_query import ENGINE_VERSION, LogQueryConfig
from modules.saved_queries import ALL_TABLES, saved_queries
from modules.secure_bucket import SecureBucketConfig

RESULTS = SecureBucketConfig(name="app-prod-query-results", expiration_days=7)


def _error(**changes) -> str:
    fields = {"name_prefix": "app-prod", "results_bucket": RESULTS} | changes
    with pytest.raises(ValueError) as raised:
        LogQueryConfig(**fields)
    return str(raised.value)


def test_bad_config_names_the_field_and_what_is_allowed():
    assert "log_query.name_prefix" in _error(name_prefix="App") and "a-z" in _error(name_prefix="App")
    message = _error(results_bucket=replace(RESULTS, expiration_days=None))
    assert "results_bucket.expiration_days" in message and "query results expire" in message
    message = _error(bytes_scanned_cutoff_per_query_mb=5)
    assert "bytes_scanned_cutoff_per_query_mb" in message and "10" in message
    assert "YYYY/MM/DD/HH" in _error(projection_start="2026-12-01")
    assert "YYYY/MM/DD/HH" in _error(projection_start="2026/13/01/00")
    assert "reader_principals" in _error(reader_principals=("arn:aws:iam::12:root",))
    config = LogQueryConfig(name_prefix="app-prod", results_bucket=RESULTS, projection_start="2026/12/01/00")
    assert (config.database_name, config.workgroup_name) == ("app_prod_logs", "app-prod-logs")


def _firehose_prefixes(tf: dict) -> dict[str, str]:
    return {
        stream["extended_s3_configuration"]["prefix"]: stream["extended_s3_configuration"]["bucket_arn"]
        for stream in resources(tf, "aws_kinesis_firehose_delivery_stream").values()
    }


@pytest.mark.parametrize("environment", ["local", "dev", "prod"])
def test_every_table_reads_exactly_where_firehose_writes(synth, environment):
    tf = synth.stack(environment)
    (bucket,) = [name for name in resources(tf, "aws_s3_bucket") if name.startswith("log_archive_bucket")]
    archive = f"s3://{ref('aws_s3_bucket', bucket, 'bucket')}/"
    prefixes = _firehose_prefixes(tf)
    tables = resources(tf, "aws_glue_catalog_table")
    # One table per shipped source, and no table of a source nothing ships.
    assert sorted(t["storage_descriptor"]["location"] for t in tables.values()) == sorted(
        archive + prefix for prefix in prefixes
    )
    for prefix, bucket_arn in prefixes.items():
        assert bucket_arn == ref("aws_s3_bucket", bucket, "arn")
        (table,) = [t for t in tables.values() if t["storage_descriptor"]["location"] == archive + prefix]
        parameters = table["parameters"]
        # Firehose adds its default UTC hour, YYYY/MM/DD/HH/, after a prefix without a timestamp expression;
        # "$${" is Terraform's literal "${", which Athena fills in with the projected hour.
        assert "!{timestamp" not in prefix and "!{" not in prefix
        assert parameters["storage.location.template"] == archive + prefix + "$${datehour}/"
        assert log_tables.FIREHOSE_TIME_PREFIX == "YYYY/MM/DD/HH/"
        assert parameters["projection.datehour.format"] == "yyyy/MM/dd/HH"
        assert parameters["projection.enabled"] == "true" and parameters["projection.datehour.type"] == "date"
        assert parameters["projection.datehour.interval"] == "1"
        assert parameters["projection.datehour.interval.unit"] == "HOURS"
        assert table["partition_keys"] == [{"name": "datehour", "type": "string", "comment": "UTC hour, YYYY/MM/DD/HH"}]
        assert table["table_type"] == "EXTERNAL_TABLE" and table["storage_descriptor"]["compressed"] is True


def test_projection_starts_at_the_first_apply_and_never_moves(prod):
    (created_name, created) = next(iter(resources(prod, "terraform_data").items()))
    assert created == {**created, "input": "${timestamp()}", "lifecycle": {"ignore_changes": ["input"]}}
    for table in resources(prod, "aws_glue_catalog_table").values():
        expected = f'${{formatdate("YYYY/MM/DD/hh", terraform_data.{created_name}.output)}},NOW'
        assert table["parameters"]["projection.datehour.range"] == expected


def test_each_source_has_the_columns_its_lines_have(prod):
    tables = {t["name"]: t for t in resources(prod, "aws_glue_catalog_table").values()}
    assert sorted(tables) == [
        "api_access",
        "api_execution",
        "function_admin",
        "function_api",
        "function_release_hook",
        "waf",
    ]
    access = tables["api_access"]["storage_descriptor"]
    # Every key of the access-log format the API writes, and nothing else.
    assert [c["name"] for c in access["columns"]] == [log_tables._snake(key) for key in json.loads(ACCESS_LOG_FORMAT)]
    parameters = access["ser_de_info"]["parameters"]
    assert parameters["ignore.malformed.json"] == "true"
    assert parameters["mapping.request_time_epoch"] == "requesttimeepoch"
    function = tables["function_api"]["storage_descriptor"]
    assert function["ser_de_info"]["serialization_library"] == log_tables.OPENX_JSON
    assert {"ts", "level", "message", "correlation_id", "caller", "platform_type"} <= {
        c["name"] for c in function["columns"]
    }
    assert function["ser_de_info"]["parameters"]["mapping.ts"] == "timestamp"
    execution = tables["api_execution"]["storage_descriptor"]["ser_de_info"]
    assert execution["serialization_library"] == log_tables.REGEX
    waf = {c["name"]: c["type"] for c in tables["waf"]["storage_descriptor"]["columns"]}
    assert waf["action"] == "string" and waf["httprequest"].startswith("struct<clientip:string,country:string,")


def test_the_workgroup_enforces_its_configuration_and_encrypts_results(prod):
    (workgroup,) = resources(prod, "aws_athena_workgroup").values()
    configuration = workgroup["configuration"]
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["bytes_scanned_cutoff_per_query"] == 10 * 1024 * 1024 * 1024
    assert configuration["engine_version"] == {"selected_engine_version": ENGINE_VERSION}
    assert configuration["publish_cloudwatch_metrics_enabled"] is True
    result = configuration["result_configuration"]
    (key,) = resources(prod, "aws_kms_key")
    assert result["encryption_configuration"] == {
        "encryption_option": "SSE_KMS",
        "kms_key_arn": ref("aws_kms_key", key, "arn"),
    }
    (results_bucket,) = [n for n in resources(prod, "aws_s3_bucket") if n.startswith("log_query_results_bucket")]
    assert result["output_location"] == f"s3://{ref('aws_s3_bucket', results_bucket, 'bucket')}/results/"
    # Results expire: they are copies of archived lines.
    (lifecycle,) = [
        r
        for r in resources(prod, "aws_s3_bucket_lifecycle_configuration").values()
        if r["bucket"] == ref("aws_s3_bucket", results_bucket, "id")
    ]
    assert any(e.get("days") == 30 for rule in lifecycle["rule"] for e in rule.get("expiration", []))
    (sse,) = [
        r
        for r in resources(prod, "aws_s3_bucket_server_side_encryption_configuration").values()
        if r["bucket"] == ref("aws_s3_bucket", results_bucket, "id")
    ]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"


def test_prod_saves_every_runbook_query_in_the_workgroup(prod, local):
    named = {q["name"]: q for q in resources(prod, "aws_athena_named_query").values()}
    tables = {t["name"] for t in resources(prod, "aws_glue_catalog_table").values()}
    assert tables == {*ALL_TABLES, "function_admin", "function_release_hook"}  # two route groups and the hook
    saved = {q.name: q for q in saved_queries(tables)}
    assert sorted(named) == sorted(saved)
    (workgroup_name,) = resources(prod, "aws_athena_workgroup")
    (database_name,) = resources(prod, "aws_glue_catalog_database")
    for query in saved.values():
        assert named[query.name]["query"] == query.sql
        assert named[query.name]["workgroup"] == ref("aws_athena_workgroup", workgroup_name)
        assert named[query.name]["database"] == ref("aws_glue_catalog_database", database_name, "name")
    assert not resources(local, "aws_athena_named_query")


def test_every_alarm_runbook_entry_names_a_query_prod_has(prod):
    runbook = (PROJECT_DIR / "docs" / "RUNBOOK.md").read_text()
    sections = dict(re.findall(r"^## `([a-z0-9-]+)`\n(.*?)(?=^## |\Z)", runbook, flags=re.M | re.S))
    named = {q["name"] for q in resources(prod, "aws_athena_named_query").values()}
    tables = {t["name"] for t in resources(prod, "aws_glue_catalog_table").values()}
    for alarm in resources(prod, "aws_cloudwatch_metric_alarm").values():
        anchor = alarm["alarm_description"].rsplit("#", 1)[1]
        (first,) = re.findall(r"^Query first: (.*)$", sections[anchor], flags=re.M)
        names = re.findall(r"NAME=([a-z-]+)", first)
        own_sql = re.findall(r"FROM ([a-z_]+)", first)
        assert names or own_sql, anchor
        assert set(names) <= named and set(own_sql) <= tables, (anchor, first)


def test_results_expire_before_they_would_move_to_infrequent_access(dev):
    with pytest.raises(ValueError, match=r"expiration_days.*1\.\.3650"):
        SecureBucketConfig(name="results", expiration_days=0)
    (results_bucket,) = [n for n in resources(dev, "aws_s3_bucket") if n.startswith("log_query_results_bucket")]
    (lifecycle,) = [
        r
        for r in resources(dev, "aws_s3_bucket_lifecycle_configuration").values()
        if r["bucket"] == ref("aws_s3_bucket", results_bucket, "id")
    ]
    (rule,) = [r for r in lifecycle["rule"] if r.get("expiration")]
    # Expired after 7 days: a transition at 30 would only add a 30-day minimum charge.
    assert rule["expiration"] == [{"days": 7}] and not rule.get("transition")
