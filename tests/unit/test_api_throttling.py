"""The API stage's throttling, as ``make package`` merges it into Chalice's template.

Without it, one runaway client (a script retrying in a loop, a dashboard left polling in a
hundred tabs) can take all of the account's Lambda concurrency from the workflow and the crawl
on the worst night. The numbers are parameters of ``infra/resources.yaml`` (raised at deploy
time with ``--parameter-overrides``); every method shares them.
"""

from __future__ import annotations

import json

import pytest

from chalicelib.core.errors import ThrottledError
from chalicelib.deploy.package import THROTTLED_BODY, merge_template
from chalicelib.deploy.template import load_source


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_method_of_the_stage_is_throttled_by_the_parameters(stage: str) -> None:
    merged = merge_template(stage)
    (settings,) = merged["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings == {
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
    }
    parameters = merged["Parameters"]
    assert parameters["ApiThrottleRate"]["Type"] == "Number"
    assert (
        1 <= parameters["ApiThrottleRate"]["Default"] <= parameters["ApiThrottleBurst"]["Default"]
    )


def test_a_throttled_client_gets_429_in_the_apis_error_shape_with_retry_after() -> None:
    body = merge_template("dev")["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    throttled = body["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert throttled["statusCode"] == ThrottledError.status == 429
    answer = json.loads(throttled["responseTemplates"]["application/json"])
    assert answer == json.loads(THROTTLED_BODY)
    assert answer["error"] == ThrottledError.code
    assert set(answer) == {"error", "message"}  # like every other error the API answers
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'5'"


def test_the_parameters_live_in_infra_for_the_operator_to_find() -> None:
    parameters = load_source()["Parameters"]
    assert {"ApiThrottleRate", "ApiThrottleBurst"} <= set(parameters)
