"""One contract: docs/openapi.json is what the handler declares, API Gateway and the local API are built from it,
and API Gateway's own error bodies match the shapes it documents."""

from __future__ import annotations

import json

import jsonschema
import pytest
from stack_helpers import resources

from modules.api import _GATEWAY_RESPONSES
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
    assert published["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    assert published["security"] == [{"apiKey": []}]
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


@pytest.mark.parametrize(("kind", "status", "template"), _GATEWAY_RESPONSES)
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
        assert set(routes[path]) == {m.upper() for m in item} | {"ANY"}
    (model,) = resources(local, "aws_api_gateway_model").values()
    assert routes["/events"]["POST"] == json.loads(model["schema"])
    assert routes["/health"]["GET"] is None


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
