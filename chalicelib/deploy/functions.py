"""The functions Chalice deploys for the app, with their deployed names and logical ids.

One answer for both ways of running: ``make package`` pins each function's ``FunctionName`` to
``yuqing-<stage>[-<name>]`` (Chalice's SAM output would otherwise let CloudFormation invent
names), and local mode registers the same names in moto.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Chalice
from chalice.constants import DEFAULT_HANDLER_NAME
from chalice.utils import to_cfn_resource_name


@dataclass(frozen=True)
class FunctionSpec:
    """One deployable function of the app."""

    name: str  # deployed name, yuqing-<stage>[-<function>]
    function: str  # Chalice's name: ``api_handler`` or the decorator's; config.json keys on it
    logical_id: str  # CloudFormation logical id chalice package gives it
    handler: Callable[[Any, Any], Any]
    handler_string: str
    source: Any = None  # the chalice event source config, if any


def function_specs(app: Chalice, stage: str) -> list[FunctionSpec]:
    prefix = f"{app.app_name}-{stage}"
    specs: list[FunctionSpec] = []
    if app.routes:
        specs.append(FunctionSpec(prefix, DEFAULT_HANDLER_NAME, "APIHandler", app, "app.app"))
    # A pure ``@lambda_function`` has no event source; every other kind is its own source.
    sources = [(f, None) for f in app.pure_lambda_functions] + [(e, e) for e in app.event_sources]
    for function, source in sources:
        specs.append(
            FunctionSpec(
                f"{prefix}-{function.name}",
                function.name,
                to_cfn_resource_name(function.name),
                app.handler_map[function.name],
                function.handler_string,
                source,
            )
        )
    return specs
