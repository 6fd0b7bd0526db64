"""Notes and your own answer on the pages: the question page's forms (CSRF), what it
shows (yours first, the bank's folded under it), the review card's back, the JSON API
with its refusals, markup made inert, Chinese, and a signed-out visitor."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import MakeClient, csrf, soup

HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)> "
    "[x](javascript:alert(3)) $\\text{<img src=y onerror=alert(4)>}$"
)


def first_question(client: TestClient) -> str:
    return str(client.get("/api/questions?limit=1").json()["items"][0]["id"])


def post_form(client: TestClient, qid: str, **fields: str) -> object:
    token = csrf(soup(client.get(f"/questions/{qid}")))
    data: dict[str, str | list[str]] = {"csrf_token": token, "edit": list(fields), **fields}
    return client.post(f"/questions/{qid}/note", data=data, follow_redirects=False)


def test_the_question_page_offers_the_forms_with_the_banks_text(client: TestClient) -> None:
    qid = first_question(client)
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("#my-note") is None and page.select_one("#my-answer") is None
    note_form = page.select_one("form#note-form")
    assert note_form is not None and note_form["action"] == f"/questions/{qid}/note"
    assert note_form.select_one("input[name=csrf_token]") is not None
    assert note_form.select_one("textarea[name=note]").get_text() == ""  # type: ignore[union-attr]
    # Your own answer is written on a page of its own, starting from the bank's text.
    link = page.select_one("a#edit-own")
    assert link is not None and link["href"] == f"/questions/{qid}/own"
    own_page = soup(client.get(f"/questions/{qid}/own"))
    own = own_page.select_one("form#own-form")
    assert own is not None and own["action"] == f"/questions/{qid}/note"
    bank = client.get(f"/api/questions/{qid}").json()
    assert own.select_one("textarea[name=answer]").get_text() == bank["answer_md"]  # type: ignore[union-attr]
    assert own.select_one("textarea[name=takeaway]").get_text() == (bank["takeaway"] or "")  # type: ignore[union-attr]
    assert own_page.select_one("#reset-own") is None


def test_a_saved_note_shows_under_the_answer(client: TestClient) -> None:
    qid = first_question(client)
    response = post_form(client, qid, note="我的笔记：**重点** $r$")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/questions/{qid}#mine"  # type: ignore[attr-defined]
    page = soup(client.get(f"/questions/{qid}"))
    note = page.select_one("#my-note .note-body")
    assert note is not None and note.select_one("strong").get_text() == "重点"  # type: ignore[union-attr]
    assert note.select_one("math") is not None
    assert page.select_one("#edit-note summary").get_text() == "Edit your note"  # type: ignore[union-attr]
    assert page.select_one("#note-text").get_text() == "我的笔记：**重点** $r$"  # type: ignore[union-attr]
    # The bank's answer is shown as before, unfolded.
    assert page.select_one("#bank-answer") is None
    assert page.select_one("article > section.answer") is not None
    # Saved empty: gone.
    post_form(client, qid, note="")
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("#my-note") is None
    assert page.select_one("#edit-note summary").get_text() == "Add a note"  # type: ignore[union-attr]


def test_your_answer_comes_first_and_the_banks_stays_folded(client: TestClient) -> None:
    qid = first_question(client)
    bank_html = soup(client.get(f"/questions/{qid}")).select_one("section.answer")
    assert bank_html is not None
    post_form(client, qid, answer="我自己的答案", takeaway="我的要点")
    # Saving the note form with the note emptied leaves the answer alone.
    post_form(client, qid, note="")
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("#my-answer").get_text(strip=True) == "我自己的答案"  # type: ignore[union-attr]
    assert page.select_one("#my-takeaway mark").get_text() == "我的要点"  # type: ignore[union-attr]
    folded = page.select_one("details#bank-answer")
    assert folded is not None and not folded.has_attr("open")
    assert folded.select_one("section.answer").get_text() == bank_html.get_text()  # type: ignore[union-attr]
    # The form shows yours now; "use the bank's again" goes back to the bank's version.
    own_page = soup(client.get(f"/questions/{qid}/own"))
    assert own_page.select_one("#own-answer").get_text() == "我自己的答案"  # type: ignore[union-attr]
    reset = own_page.select_one("form#reset-own")
    assert reset is not None
    fields: dict[str, list[str]] = {}
    for field in reset.select("input"):
        fields.setdefault(str(field["name"]), []).append(str(field["value"]))
    assert fields["edit"] == ["answer", "takeaway"]
    assert client.post(f"/questions/{qid}/note", data=fields).status_code == 200
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("#my-answer") is None and page.select_one("#bank-answer") is None


def test_a_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    qid = first_question(client)
    data = {"note": "x", "edit": "note", "csrf_token": "forged"}
    response = client.post(f"/questions/{qid}/note", data=data)
    assert response.status_code == 403
    assert client.get(f"/api/questions/{qid}/note").json()["note"] is None


def test_markup_in_a_note_is_inert_on_the_page(client: TestClient) -> None:
    qid = first_question(client)
    post_form(client, qid, note=HOSTILE, answer=HOSTILE, takeaway=HOSTILE)
    page = soup(client.get(f"/questions/{qid}"))
    mine = page.select("#my-note, #my-answer, #my-takeaway")
    assert len(mine) == 3
    for part in mine:
        assert not part.select("script")
        for tag in part.find_all(True):
            assert not any(name.startswith("on") for name in tag.attrs), tag
            assert "javascript" not in str(tag.get("href", "")), tag
    # The textarea holds the text as text.
    assert page.select_one("#note-text").get_text() == HOSTILE  # type: ignore[union-attr]


def test_the_review_cards_back_shows_your_version(client: TestClient) -> None:
    page = soup(client.get("/review"))
    card = page.select_one("#card")
    assert card is not None
    qid = str(card["data-question"])
    client.patch(f"/api/questions/{qid}/note", json={"note": "复习时看到", "answer": "我的版本"})
    back = soup(client.get("/review")).select_one("#back")
    assert back is not None
    assert back.select_one("#my-note").get_text(" ", strip=True).endswith("复习时看到")  # type: ignore[union-attr]
    assert back.select_one("#my-answer").get_text(strip=True) == "我的版本"  # type: ignore[union-attr]
    assert back.select_one("details#bank-answer section.answer") is not None
    assert back.select_one("#edit-mine")["href"] == f"/questions/{qid}#mine"  # type: ignore[index]


def test_the_api_reads_sets_and_deletes(client: TestClient) -> None:
    qid = first_question(client)
    empty = client.get(f"/api/questions/{qid}/note").json()
    assert empty["note"] is None and empty["updated_at"] is None
    body = client.patch(f"/api/questions/{qid}/note", json={"note": "a *b*"}).json()
    assert body["note"] == "a *b*" and body["note_html"] == "<p>a <em>b</em></p>"
    body = client.patch(f"/api/questions/{qid}/note", json={"takeaway": "t"}).json()
    assert (body["note"], body["takeaway"]) == ("a *b*", "t")  # left out: kept
    body = client.patch(f"/api/questions/{qid}/note", json={"note": None}).json()
    assert (body["note"], body["takeaway"]) == (None, "t")
    assert client.delete(f"/api/questions/{qid}/note").status_code == 204
    assert client.get(f"/api/questions/{qid}/note").json()["takeaway"] is None


def test_the_api_refuses_with_the_field_and_the_reason(client: TestClient) -> None:
    qid = first_question(client)
    response = client.patch(f"/api/questions/{qid}/note", json={"note": "x" * 20_001})
    assert response.status_code == 422
    assert response.json()["field"] == "note"
    assert "20000" in response.json()["errors"][0]["reason"]
    response = client.patch(f"/api/questions/{qid}/note", json={"answer": "$x$ " * 501})
    assert response.status_code == 422 and response.json()["field"] == "answer"
    assert "500 formulas" in response.json()["detail"]
    response = client.patch("/api/questions/no-such-question/note", json={"note": "x"})
    assert response.status_code == 404
    assert client.get("/api/questions/no-such-question/note").status_code == 404
    # A browser on another site may not write.
    response = client.patch(
        f"/api/questions/{qid}/note", json={"note": "x"}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403


def test_the_page_in_chinese(make_client: MakeClient) -> None:
    client = make_client(language="zh-CN")
    qid = first_question(client)
    client.patch(f"/api/questions/{qid}/note", json={"note": "n", "answer": "a", "takeaway": "t"})
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("#my-note h2").get_text() == "你的笔记"  # type: ignore[union-attr]
    assert page.select_one("#bank-answer summary").get_text() == "题库的答案"  # type: ignore[union-attr]
    assert page.select_one("#my-takeaway h2").get_text() == "你的要点"  # type: ignore[union-attr]
    assert page.select_one("#note-form button").get_text() == "保存笔记"  # type: ignore[union-attr]


def test_a_signed_out_visitor_sees_no_forms_and_cannot_write(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    qid = first_question(client)
    page = soup(client.get(f"/questions/{qid}"))
    assert page.select_one("section.answer") is not None
    assert page.select_one("#mine") is None
    assert client.get(f"/api/questions/{qid}/note").status_code == 401
    assert client.patch(f"/api/questions/{qid}/note", json={"note": "x"}).status_code == 401
