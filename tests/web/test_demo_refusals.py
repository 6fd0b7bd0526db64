"""A parameter set inside every field's bounds but refused by a cross-field rule (rank with
r > min(m, n)) reaches the user cleanly on the web: the API answers 422 naming the field,
and the form page comes back with that field marked and its message beside it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import csrf, soup

REFUSED = {"m": "4", "n": "4", "r": "8", "noise": "0", "seed": "0"}  # each within its bounds


def test_the_api_refuses_a_cross_field_rule_with_422_naming_the_field(
    client: TestClient,
) -> None:
    response = client.post("/api/demos/rank/runs", json={"params": REFUSED})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "r"
    assert body["detail"].startswith("r: ") and "min(m, n) = 4" in body["detail"]
    assert "\n" not in body["detail"]


def test_the_form_comes_back_with_the_refused_field_marked(client: TestClient) -> None:
    page = soup(client.get("/demos/rank"))
    response = client.post("/demos/rank/runs", data={"csrf_token": csrf(page), **REFUSED})
    assert response.status_code == 422
    form = soup(response).select_one("form.demo-form")
    assert form is not None
    r = form.select_one("input[name=r]")
    assert r is not None and r.get("aria-invalid") == "true"
    assert r["value"] == "8"  # what the user typed is kept
    message = form.select_one(f"#{r['aria-describedby']}")
    assert message is not None and "min(Rows m, Columns n) = 4" in message.get_text()
    label = r.find_parent("label")
    assert label is not None and message.find_parent("label") is label
    assert "invalid" in (label.get("class") or [])
    # Only the refused field is marked.
    assert [i["name"] for i in form.select("[aria-invalid=true]")] == ["r"]
