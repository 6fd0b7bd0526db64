"""A form field that applies only while another field holds a value (``show_if``), when
that other field is a checkbox: the server must read the checkbox as the browser sends it
("true", or nothing), not compare it with Python's ``True``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import Field

import app.demos
from app.demos.base import Demo, DemoParams, DemoResult, RunContext
from app.demos.text import field_extra
from tests.web.conftest import csrf, soup


class ToggleParams(DemoParams):
    shuffle: bool = Field(default=False, json_schema_extra=field_extra("method", "Shuffle"))
    # Applies only with shuffle ticked: a boolean rule value, as a demo writes it.
    passes: int = Field(
        default=1,
        ge=1,
        le=5,
        json_schema_extra=field_extra("method", "Passes", show_if={"shuffle": [True]}),
    )


def _toggle(params: Any, ctx: RunContext) -> DemoResult:
    return DemoResult(figures={"passes": params.passes}, conclusion="done")


TOGGLE = Demo(
    name="toggle",
    title="toggle",
    summary="a field shown by a checkbox",
    claims=(),
    params=ToggleParams,
    run=_toggle,
    uses_gpu=False,
)


@pytest.fixture(autouse=True)
def toggle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.demos._REGISTRY, "toggle", TOGGLE)


def submit(client: TestClient, **fields: str) -> dict[str, Any]:
    """Post the form as a browser would and return the created run's parameters."""
    page = soup(client.get("/demos/toggle"))
    label = page.select_one("label[data-show-if]:has(input[name=passes])")
    assert label is not None and label["data-show-if"] == '{"shuffle": [true]}'
    form = {"csrf_token": csrf(page), "seed": "0"} | fields
    created = client.post("/demos/toggle/runs", data=form, follow_redirects=False)
    assert created.status_code == 303, soup(created).select_one("#run-error")
    run = client.get("/api" + created.headers["location"].split("?")[0]).json()
    return dict(run["params"])


def test_a_field_shown_by_a_ticked_checkbox_is_read(client: TestClient) -> None:
    assert submit(client, shuffle="true", passes="3")["passes"] == 3


def test_a_field_hidden_by_an_unticked_checkbox_is_ignored(client: TestClient) -> None:
    # An unticked checkbox sends nothing; the hidden field's value (even a bad one) is
    # ignored and the run gets the default.
    params = submit(client, passes="99")
    assert params["shuffle"] is False and params["passes"] == 1


def test_a_refused_value_of_a_shown_field_is_an_error(client: TestClient) -> None:
    page = soup(client.get("/demos/toggle"))
    form = {"csrf_token": csrf(page), "seed": "0", "shuffle": "true", "passes": "99"}
    refused = client.post("/demos/toggle/runs", data=form)
    assert refused.status_code == 422
    marked = soup(refused).select_one("label.invalid input")
    assert marked is not None and marked["name"] == "passes"
