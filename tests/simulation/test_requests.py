"""Every request AWS makes for the prod stack, evaluated against the synthesized policies with an IAM engine.

Each request states the principal AWS uses, the action, the resource ARN and the context keys AWS sends
(``kms:ViaService``, ``kms:EncryptionContext:*``, ``aws:SourceArn``, ``aws:SecureTransport``, ...). The identity
policies and the resource policy (key, bucket, topic, trust, Lambda permission, log resource policy) are the ones
in ``cdk.tf.json``. The emulator evaluates none of this; this suite is what proves it.

The table is kept by who asks: the stack's services (``requests_services``), a release (``requests_releases``), the
deploy roles (``requests_deploy``, ``requests_escalations``), the API's callers and the archive reader
(``requests_callers``), and the denials that must hold (``requests_denials``).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import ACCOUNT, Request, evaluate, explain
from requests_callers import api_callers, archive_reader
from requests_context import names
from requests_denials import denials
from requests_deploy import backend, refreshes
from requests_escalations import escalations
from requests_releases import releases
from requests_services import services


def all_requests(prod, bootstrap) -> list[Request]:
    """The whole table, in the order the suite reports it."""
    n = names(prod, bootstrap)
    return [
        *services(prod, bootstrap, n),
        *releases(prod, n),
        *backend(prod, bootstrap, n),
        *refreshes(prod, bootstrap),
        *escalations(prod, bootstrap),
        *api_callers(prod, ""),
        *archive_reader(prod),
        *denials(prod, bootstrap, n),
    ]


@pytest.fixture(scope="module")
def table(prod, bootstrap) -> tuple[list[Request], dict[str, dict]]:
    # Every service role of the stack carries the environment's boundary: its requests are evaluated with it.
    _, boundary = bootstrap.boundary("serverless-app-prod-service-boundary")
    roles = prod.role_arns()
    requests = [
        replace(r, boundary=boundary) if r.principal in roles and r.boundary is None else r
        for r in all_requests(prod, bootstrap)
    ]
    names = [r.name for r in requests]
    assert len(names) == len(set(names)), "request names must be unique"
    return requests, evaluate(requests)


def test_every_request_aws_makes_gets_the_decision_it_must(table, record_property):
    requests, results = table
    wrong = [
        explain(r, results[r.name])
        for r in requests
        if not (results[r.name].get("decision") or "").startswith(
            "Allowed" if r.expect == "Allowed" else ("ExplicitlyDenied", "ImplicitlyDenied")
        )
    ]
    allowed = sum(r.expect == "Allowed" for r in requests)
    record_property(
        "summary",
        f"request simulation: {allowed} allowed and {len(requests) - allowed} denied as "
        "required (@cloud-copilot/iam-simulate, encryption-context patch applied)",
    )
    assert not wrong, "\n\n".join(wrong)


def test_no_context_key_of_any_request_was_dropped_by_the_engine(table):
    requests, results = table
    dropped = {
        r.name: results[r.name]["ignoredContextKeys"] for r in requests if results[r.name].get("ignoredContextKeys")
    }
    assert not dropped, dropped


def test_the_table_covers_every_log_group_stream_and_role_of_the_stack(table, prod):
    requests, _ = table
    text = " ".join(f"{r.principal} {r.resource} {r.context}" for r in requests)
    for group in prod.log_group_names():
        assert prod.log_group_arn(group) in text, group
    for stream in prod.streams():
        assert stream in text, stream
    for role in prod.all("aws_iam_role").values():
        assert prod.resolve(role["name"]) in text, role["name"]


def test_the_organization_admits_its_signed_callers_and_nobody_else(prod_with_organization):
    requests = api_callers(prod_with_organization, " (organization)", org="o-a1b2c3d4e5")
    results = evaluate(requests)
    wrong = [
        explain(r, results[r.name])
        for r in requests
        if not (results[r.name].get("decision") or "").startswith(
            "Allowed" if r.expect == "Allowed" else ("ExplicitlyDenied", "ImplicitlyDenied")
        )
    ]
    assert not wrong, "\n\n".join(wrong)


@pytest.fixture(scope="module")
def prod_with_organization():
    import cdktf
    from conftest import Stack
    from stack_helpers import DEPLOYED

    from stacks import environments
    from stacks.service import ServiceStack

    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/33333333-3333-4333-8333-333333333333"
    config = environments.load({**DEPLOYED, "AWS_ACCOUNT_ID_PROD": ACCOUNT, "TF_STATE_KMS_KEY_ARN_PROD": key})["prod"]
    config = replace(config, api=replace(config.api, iam_principal_org_id="o-a1b2c3d4e5"))
    return Stack(json.loads(cdktf.Testing.synth(ServiceStack(cdktf.Testing.app(), config.stack_name, config=config))))
