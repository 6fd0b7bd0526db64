"""Flashcard review through the pages (forms with CSRF) and the JSON API."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Card, Question, ReviewLog
from app.study import review
from app.users.service import local_user
from tests.web.conftest import MakeClient, csrf, number, soup


def review_logs(client: TestClient) -> int:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        return int(session.scalar(select(func.count(ReviewLog.id))) or 0)


def rate_form(client: TestClient, rating: int, url: str = "/review") -> tuple[str, dict[str, str]]:
    page = soup(client.get(url))
    card = page.select_one("#card")
    assert card is not None, "no card shown"
    form = {
        str(i["name"]): str(i.get("value", "")) for i in page.select("#ratings input[type=hidden]")
    }
    form["rating"] = str(rating)
    return str(card["data-question"]), form


def test_review_shows_a_card_with_four_labelled_ratings(client: TestClient) -> None:
    page = soup(client.get("/review"))
    card = page.select_one("#card")
    assert card is not None
    assert card.select_one("h1.front") is not None
    buttons = page.select("#ratings button[name=rating]")
    assert [b["value"] for b in buttons] == ["1", "2", "3", "4"]
    labels = [b.select_one(".interval").get_text() for b in buttons]  # type: ignore[union-attr]
    assert all(labels) and labels[0] != labels[3]
    assert page.select_one("section.answer") is not None  # readable without script


def test_rating_moves_to_the_next_card_and_undo_brings_it_back(client: TestClient) -> None:
    first, form = rate_form(client, 3)
    response = client.post("/review/rate", data=form, follow_redirects=False)
    assert response.status_code == 303
    page = soup(client.get(response.headers["location"]))
    assert page.select_one("#card")["data-question"] != first  # type: ignore[index]
    assert number(page, "#done-count") == 1
    assert review_logs(client) == 1

    undo = {"csrf_token": csrf(page)}
    response = client.post("/review/undo", data=undo, follow_redirects=False)
    assert response.status_code == 303
    page = soup(client.get(response.headers["location"]))
    assert page.select_one("#card")["data-question"] == first  # type: ignore[index]
    assert review_logs(client) == 0


def test_double_submission_records_one_review(client: TestClient) -> None:
    _, form = rate_form(client, 4)
    for _ in range(2):
        assert client.post("/review/rate", data=form, follow_redirects=False).status_code == 303
    assert review_logs(client) == 1


def test_form_posts_need_the_csrf_token(client: TestClient) -> None:
    _, form = rate_form(client, 3)
    form["csrf_token"] = "forged"
    response = client.post("/review/rate", data=form)
    assert response.status_code == 403
    assert review_logs(client) == 0


def test_review_can_be_limited_to_a_filter(client: TestClient) -> None:
    page = soup(client.get("/review?company=快手"))
    assert page.select_one("#card") is not None
    assert [c.get_text(strip=True).rstrip("×").strip() for c in page.select(".chip.filter")] == [
        "快手"
    ]
    question, form = rate_form(client, 3, "/review?company=快手")
    assert form["company"] == "快手"
    location = client.post("/review/rate", data=form, follow_redirects=False).headers["location"]
    assert "company=" in location
    page = soup(client.get(location))
    # 快手 asked one question; it is now in learning, due in minutes, so nothing is left.
    card = page.select_one("#card")
    assert card is None or card["data-question"] == question


def test_api_next_rate_undo(client: TestClient) -> None:
    body = client.get("/api/review/next").json()
    card = body["card"]
    assert body["counts"]["new_left_today"] == 10
    assert set(card["previews"]) == {"1", "2", "3", "4"}
    rated = client.post(
        "/api/review/rate",
        json={
            "question_id": card["question"]["id"],
            "rating": 3,
            "version": card["version"],
            "duration_ms": 4200,
        },
    )
    assert rated.status_code == 200, rated.text
    # The label did not lie: the interval applied is the one shown on the button.
    assert rated.json()["interval_seconds"] == card["previews"]["3"]["interval_seconds"]
    again = client.post(
        "/api/review/rate",
        json={"question_id": card["question"]["id"], "rating": 1, "version": card["version"]},
    )
    assert again.json()["duplicate"] is True
    assert client.get("/api/stats").json()["reviewed_today"] == 1
    assert client.post("/api/review/undo").json()["question_id"] == card["question"]["id"]
    assert client.get("/api/stats").json()["reviewed_today"] == 0


def test_api_rejects_bad_ratings_naming_the_field(client: TestClient) -> None:
    card = client.get("/api/review/next").json()["card"]
    bad = client.post(
        "/api/review/rate",
        json={"question_id": card["question"]["id"], "rating": 5, "version": 0},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rating"
    missing = client.post(
        "/api/review/rate", json={"question_id": "nope", "rating": 3, "version": 0}
    )
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_settings_page_saves_and_validates(make_client: MakeClient) -> None:
    client = make_client()
    page = soup(client.get("/settings"))
    form = {
        "csrf_token": csrf(page),
        "new_per_day": "5",
        "desired_retention": "0.85",
        "timezone": "Asia/Shanghai",
    }
    assert client.post("/settings", data=form, follow_redirects=False).status_code == 303
    # The unticked checkbox turns quizzes' feeding of the schedule off.
    assert client.get("/api/settings").json() == {
        "new_per_day": 5,
        "desired_retention": 0.85,
        "timezone": "Asia/Shanghai",
        "quiz_feeds_reviews": False,
        "leech_threshold": 8,
    }
    assert number(soup(client.get("/")), "#new-left") == 5
    form["timezone"] = "Mars/Olympus"
    response = client.post("/settings", data=form)
    assert response.status_code == 422
    assert "Mars/Olympus" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]
    bad = client.put("/api/settings", json={"desired_retention": 1.5})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "desired_retention"


# --- The review bar, the empty queue and custom study (issue 17) ---------------------


def _session(client: TestClient) -> Session:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    session: Session = factory()
    return session


def learn_ahead_of_now(client: TestClient, count: int) -> list[str]:
    """Learn ``count`` questions an hour ago: Review cards due days from now."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with _session(client) as session:
        user = local_user(session=session)
        ids = list(session.scalars(select(Question.id).order_by(Question.position).limit(count)))
        for qid in ids:
            for version, minutes in enumerate((0, 10)):
                review.rate(
                    session=session,
                    user=user,
                    question_id=qid,
                    rating=3,
                    version=version,
                    duration_ms=1000,
                    now=start + dt.timedelta(minutes=minutes),
                )
    return ids


def no_new_cards(client: TestClient) -> None:
    assert client.put("/api/settings", json={"new_per_day": 0}).status_code == 200


def test_the_rating_buttons_sit_in_the_review_bar_coloured_with_key_hints(
    client: TestClient,
) -> None:
    page = soup(client.get("/review"))
    bar = page.select_one("#review-bar")
    assert bar is not None and bar.select_one("#reveal") is not None
    buttons = bar.select("#ratings button[name=rating]")
    assert [b["class"] for b in buttons] == [["rate", f"rate-{n}"] for n in (1, 2, 3, 4)]
    assert [b.select_one("kbd").get_text() for b in buttons] == ["1", "2", "3", "4"]  # type: ignore[union-attr]
    # The bar is outside the card, so it never scrolls with a long answer.
    assert page.select_one("#card #review-bar") is None
    # The recall checklist is folded.
    recall = page.select_one("#back details#recall")
    assert recall is not None and not recall.has_attr("open")


def test_the_empty_queue_says_when_the_next_card_is_due_and_offers_practice(
    client: TestClient,
) -> None:
    [learned] = learn_ahead_of_now(client, 1)
    no_new_cards(client)
    page = soup(client.get("/review"))
    assert page.select_one("#card") is None and page.select_one("#done") is not None
    next_due = page.select_one("#next-due")
    assert next_due is not None
    assert re.fullmatch(r"Next card due in \d+ (hours|days)\.", next_due.get_text())
    # No filter is set, so none is mentioned.
    assert page.select_one("#done-filters") is None
    assert "filter" not in page.select_one("#done").get_text()  # type: ignore[union-attr]
    assert page.select_one("#new-waiting") is not None
    practise = page.select_one("a#practise")
    assert practise is not None and practise["href"] == "/review?ahead=1"

    # Practising shows the card not yet due, and the rating keeps the mode.
    page = soup(client.get(str(practise["href"])))
    assert page.select_one("#card")["data-question"] == learned  # type: ignore[index]
    assert page.select_one("#practise-note") is not None
    assert number(page, "#ahead-count") == 1
    _, form = rate_form(client, 3, "/review?ahead=1")
    # The session's start travels on, so a card comes once a session.
    started = int(form["ahead"])
    assert abs(started - dt.datetime.now(dt.UTC).timestamp()) < 60
    location = client.post("/review/rate", data=form, follow_redirects=False).headers["location"]
    assert location == f"/review?ahead={started}"
    page = soup(client.get(location))
    assert "You practised all of these today" in page.select_one("#done h1").get_text()  # type: ignore[union-attr]
    assert page.select_one("a#practise") is None
    # The new-card limit is untouched by practising ahead.
    assert client.get("/api/stats").json()["new_left_today"] == 0
    assert page.select_one("a#practise-new")["href"] == "/review?ahead=1&new=1"  # type: ignore[index]


def test_the_empty_queue_lists_the_filters_set(client: TestClient) -> None:
    no_new_cards(client)
    page = soup(client.get("/review?company=快手&tag=LoRA"))
    listed = page.select_one("#done-filters")
    assert listed is not None and "快手, LoRA" in listed.get_text()
    assert page.select_one("#next-due") is None  # no card yet under these filters
    practise_new = page.select_one("a#practise-new")
    assert practise_new is not None
    page = soup(client.get(str(practise_new["href"])))
    assert page.select_one("#card") is not None  # a new question, past the limit


def test_the_empty_queue_in_chinese(make_client: MakeClient) -> None:
    client = make_client(language="zh")
    learn_ahead_of_now(client, 1)
    no_new_cards(client)
    page = soup(client.get("/review"))
    assert "后到期" in page.select_one("#next-due").get_text()  # type: ignore[union-attr]
    assert "现在练习这些" in page.select_one("a#practise").get_text()  # type: ignore[union-attr]


def test_no_undo_is_offered_after_relearn(client: TestClient) -> None:
    question, form = rate_form(client, 3)
    client.post("/review/rate", data=form)
    with _session(client) as session:
        session.execute(
            update(Card)
            .where(Card.question_id == question)
            .values(answer_changed_at=dt.datetime.now(dt.UTC))
        )
        session.commit()
    page = soup(client.get(f"/review?show={question}"))
    assert page.select_one("#undo") is not None  # the rating can still be undone
    relearn = {"csrf_token": csrf(page), "next": "/review"}
    response = client.post(f"/cards/{question}/relearn", data=relearn, follow_redirects=False)
    assert response.status_code == 303
    page = soup(client.get("/review"))
    # Undo would fail (the card was reset since): the page does not offer it.
    assert page.select_one("#undo") is None


def test_custom_study_is_reached_from_browse_and_coverage_cells(client: TestClient) -> None:
    browse = soup(client.get("/questions?company=阿里"))
    link = browse.select_one("a#practise-these")
    assert link is not None and "ahead=1" in str(link["href"]) and "company=" in str(link["href"])
    cell = soup(client.get("/stats")).select_one(
        "#coverage-company td.cov[data-row] a.cov-practise"
    )
    assert cell is not None
    page = soup(client.get(str(cell["href"])))
    # With nothing learned yet, the cell's new questions are practised, limit or not.
    assert page.select_one("#card") is not None
    assert page.select_one("#practise-note") is not None
