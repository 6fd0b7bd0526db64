"""Schemathesis against ``/openapi.json``: cases drawn from the API's own schema, valid
and invalid, sent in process to the app (local mode, and signed in with accounts; a fresh database
with the seed bank each).
No case may get a server error, and every answer must match what the schema declares."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.web.conftest import MakeClient, csrf, soup

# Bounded and derandomized: the same cases on every run (about 20 s a mode here).
EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance]
LOCAL_ADDRESS = ("127.0.0.1", 50000)


def as_local_browser(app: ASGIApp, cookie: str | None = None) -> ASGIApp:
    """``app`` as a browser on this machine reaches it (signed in with ``cookie``):
    schemathesis's in-process client names itself ``testclient``/``testserver``, which
    local mode refuses (not loopback)."""

    async def local(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k not in (b"host", b"cookie")]
            headers.append((b"host", b"127.0.0.1"))
            if cookie:
                headers.append((b"cookie", cookie.encode()))
            scope = {**scope, "client": LOCAL_ADDRESS, "headers": headers}
        await app(scope, receive, send)

    return local


def signed_in_cookie(client: TestClient) -> str:
    """Sign up an account with ``client``; its session cookie."""
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": "fuzz", "password": "a long passphrase 1"}
    client.post("/signup", data=form)
    assert client.get("/api/settings").status_code == 200, "not signed in"
    return f"il_session={client.cookies['il_session']}"


SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def call_and_validate(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=CHECKS)


def failures_of(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> list[str]:
    """The failures of ``operation`` in schemathesis's phases: the schema's examples, its
    coverage of edge values (bounds, wrong types, missing fields), then fuzzing, with
    valid and invalid input. (The builder its pytest plugin uses: the plugin's fixture
    loader, ``from_fixture``, fails under pytest 9.)"""
    test = build_operation_test(
        config=operation.schema.config,
        operation=operation,
        test_func=call_and_validate,
        given_kwargs={},
        feedback=FeedbackSources(),
        explicit_settings=SETTINGS,
    )
    try:
        test()
    except (FailureGroup, Exception) as exc:  # reported with the other operations'
        return [f"{operation.label}: {exc}"]
    return []


@pytest.mark.parametrize("accounts", [False, True], ids=["local", "accounts"])
def test_the_api_answers_as_its_schema_says(make_client: MakeClient, accounts: bool) -> None:
    client = make_client(accounts=accounts)  # a fresh database with the seed bank imported
    cookie = signed_in_cookie(client) if accounts else None
    schema = schemathesis.openapi.from_asgi("/openapi.json", as_local_browser(client.app, cookie))
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 30
    failures = [f for operation in operations for f in failures_of(operation)]
    assert not failures, "\n\n".join(failures)
