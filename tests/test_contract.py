"""One contract: docs/openapi.json is what the handler declares, API Gateway and the local API are built from it,
and API Gateway's own error bodies match the shapes it documents."""

from __future__ import annotations

import json

import jsonschema
import pytest
from stack_helpers import resources

from modules.api_responses import GATEWAY_RESPONSES
from stacks import contract
from tools.local_api import match_route, read_routes


def test_the_checked_in_document_is_current(capsys):
    assert contract.main(["--check"]) == 0, "docs/openapi.json is stale: run `make openapi`"


def test_a_stale_document_is_reported(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(contract, "DOCUMENT", stale)
    assert contract.main(["--check"]) == 1
    assert "is stale: run `make openapi`" in capsys.readouterr().err


def test_the_document_carries_the_key_scheme_and_every_environments_limits():
    published = json.loads(contract.DOCUMENT.read_text())
    assert published["openapi"].startswith("3.1")
    schemes = published["components"]["securitySchemes"]
    assert {k: v for k, v in schemes["apiKey"].items() if k != "description"} == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    assert schemes["cognito"]["type"] == "oauth2"
    assert schemes["cognito"]["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert set(schemes["cognito"]["flows"]["clientCredentials"]["scopes"]) == {"events/read", "events/write"}
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    # Each operation says who may call it; there is no document-wide default.
    assert "security" not in published
    security = {
        f"{method.upper()} {path}": operation["security"]
        for path, item in published["paths"].items()
        for method, operation in item.items()
    }
    assert security == {
        "GET /health": [{"apiKey": []}],
        "POST /events": [{"cognito": ["events/write"], "apiKey": []}],
        "GET /whoami": [{"cognito": ["events/read", "events/write"], "apiKey": []}],
        "POST /internal/events": [{"sigv4": []}],
        "GET /admin/deployment": [{"sigv4": []}],
    }
    description = published["info"]["description"]
    assert "| prod | 1000/s / 2,000 | 500/s / 1,000 / 50,000,000 | 150,000 per 5 minutes |" in description
    assert "| local |" in description and "| dev |" in description
    for item in published["paths"].values():
        for operation in item.values():
            assert {"403", "429", "500"} <= set(operation["responses"]), operation["operationId"]
    # Powertools' own 422 body is replaced by the handler's, declared where input is validated.
    assert "HTTPValidationError" not in json.dumps(published)
    assert published["paths"]["/events"]["post"]["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationFailed"
    }


@pytest.mark.parametrize(("kind", "status", "template"), GATEWAY_RESPONSES)
def test_api_gateways_error_bodies_are_json_of_the_documented_shape(kind, status, template):
    # Gateway response templates get plain substitution, not VTL: $context.error.messageString arrives quoted.
    assert "$util" not in template and "#" not in template
    body = json.loads(template.replace("$context.error.messageString", json.dumps('Invalid "request" body')))
    published = json.loads(contract.DOCUMENT.read_text())
    name = "ValidationFailed" if kind == "BAD_REQUEST_BODY" else "Error"
    schema = {"$ref": f"#/components/schemas/{name}", "components": published["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_the_local_api_routes_by_the_stacks_resources(local):
    routes = read_routes(local["resource"])
    documented = json.loads(contract.DOCUMENT.read_text())["paths"]
    assert set(routes) == {*documented, "/", "/{proxy+}"}
    for path, item in documented.items():
        # local allows a browser origin: every path a browser may call also answers its preflight.
        signed = all(op["security"] == [{"sigv4": []}] for op in item.values())
        preflight = set() if signed else {"OPTIONS"}  # a browser never signs with SigV4
        assert set(routes[path]) == {m.upper() for m in item} | {"ANY"} | preflight
    (model,) = resources(local, "aws_api_gateway_model").values()
    assert routes["/events"]["POST"].model == json.loads(model["schema"])
    assert routes["/events"]["POST"].scopes == ("events/write",) and routes["/events"]["POST"].api_key_required
    assert routes["/health"]["GET"].model is None and routes["/health"]["GET"].authorization == "NONE"
    assert routes["/internal/events"]["POST"].authorization == "AWS_IAM"
    assert routes["/events"]["OPTIONS"].mock_headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/events", ("/events", {})),
        ("/events/", ("/events", {})),
        ("/events/42", ("/events/{id}", {"id": "42"})),
        ("/events/42/x", ("/{proxy+}", {"proxy": "events/42/x"})),
        ("/health", ("/health", {})),
        ("/", ("/", {})),
        ("/nope", ("/{proxy+}", {"proxy": "nope"})),
    ],
)
def test_routes_match_as_api_gateway_matches_them(path, expected):
    # Literal segments win over {param}, which wins over {greedy+}.
    assert match_route(["/", "/events", "/events/{id}", "/health", "/{proxy+}"], path) == expected


def test_no_route_without_a_greedy_resource():
    assert match_route(["/events"], "/other") is None
    assert match_route(["/events/{id}"], "/events") is None
