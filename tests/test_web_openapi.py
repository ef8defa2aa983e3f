"""A property-based run against the published OpenAPI document (schemathesis): no 5xx.

Every operation gets generated requests, valid and not, as a logged-in Camat of
Kecamatan Purbalingga with a running case; whatever comes in, the answer is a typed
refusal or a result, never a server error. Bounded (SOPFLOW_OPENAPI_EXAMPLES, default 15
per operation) so it stays part of ``make test``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from tests._web import CAMAT, PROCESS, make_web  # noqa: E402

from sopflow.web import WebSettings  # noqa: E402

#: the Camat is an operator too, so the message, external-task and incident calls are
#: driven past the operator rule into the engine, and an evaluator (peran camat counts
#: here), so evaluations are driven past the evaluator rule into the store
WEB = make_web(
    WebSettings(
        failure_delay=0,
        operators=frozenset({CAMAT}),
        evaluator_roles=frozenset({"organisasi", "camat"}),
    )
)
CASE = WEB.to_step(4)
_CLIENT = WEB.client(CAMAT)
#: the session cookie and its CSRF token (a password check per request would cost an
#: argon2 verification each time: that is the point of argon2, and too slow here)
HEADERS = {
    "Cookie": f"sopflow_session={_CLIENT.cookies['sopflow_session']}",
    "X-CSRF-Token": _CLIENT.csrf,  # type: ignore[attr-defined]
}
# logging out would end the run's session; its own test is in test_web_api.py
schema = schemathesis.openapi.from_asgi("/api/openapi.json", WEB.app).exclude(
    method="DELETE", path="/api/v1/session"
)
EXAMPLES = int(os.environ.get("SOPFLOW_OPENAPI_EXAMPLES", "10"))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_the_server_fail(case) -> None:  # type: ignore[no-untyped-def]
    if (
        case.path_parameters
        and "instance_id" in case.path_parameters
        and case.path_parameters["instance_id"].startswith("-")
    ):
        case.path_parameters["instance_id"] = CASE
    if case.path.endswith("/evaluations") and case.method == "POST":
        # a real SOP, so the bodies reach the library's checks and the store
        case.path_parameters["process_id"] = PROCESS
    response = case.call(headers=HEADERS)
    case.validate_response(response, checks=[not_a_server_error])
