"""Property tests: arbitrary bodies, headers, paths and methods never raise and never produce a 5xx."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.lambda_runtime import LambdaContext, proxy_event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
bodies = st.one_of(
    st.none(),
    st.text(max_size=500),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.text(max_size=80), "payload": json_values}, optional={"timestamp": st.text(max_size=40)}
    ).map(json.dumps),
)
paths = st.one_of(
    st.sampled_from(["/health", "/events", "/", "/events/", "/health/x"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60).map(lambda s: "/" + s),
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
headers = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20), st.text(max_size=50), max_size=5
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=methods, path=paths, body=bodies, headers=headers)
def test_no_input_escapes_as_an_exception_or_a_5xx(handler, method, path, body, headers):
    response = handler.lambda_handler(proxy_event(method, path, body, headers=headers), LambdaContext())
    assert 200 <= response["statusCode"] < 500
    assert isinstance(json.loads(response["body"]), dict)


@settings(max_examples=200, deadline=None)
@given(body=json_values)
def test_any_json_to_events_is_202_or_422(handler, body):
    response = handler.lambda_handler(proxy_event("POST", "/events", json.dumps(body)), LambdaContext())
    assert response["statusCode"] in (202, 422)
