"""A user's data as JSON: the round trip into a fresh database, the refusals, replacing,
questions the bank lacks, and the command line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db import make_engine, make_sessionmaker, migrate
from app.errors import Conflict, Unprocessable
from app.export import userdata
from app.jobs.fsrs_fit.params import DEFAULTS
from app.models import Card, ReviewLog
from app.users.service import local_user
from tests.export.history import T0, bank_ids, rate, snapshot
from tests.web.conftest import import_seed


def export(engine: Engine) -> dict[str, Any]:
    with make_sessionmaker(engine)() as session:
        user = local_user(session=session)
        return userdata.export_user_data(session=session, user=user, now=T0)


def import_into(engine: Engine, data: object, *, replace: bool = False) -> userdata.ImportSummary:
    with make_sessionmaker(engine)() as session:
        user = local_user(session=session)
        parsed = userdata.parse_user_data(data)
        return userdata.import_user_data(session=session, user=user, data=parsed, replace=replace)


def user_snapshot(engine: Engine) -> dict[str, Any]:
    with make_sessionmaker(engine)() as session:
        return snapshot(session, local_user(session=session))


def as_file(data: dict[str, Any]) -> object:
    """Through the file's text, as a download and an upload would carry it."""
    return userdata.loads(userdata.dumps(data).encode("utf-8"))


def test_round_trip_gives_the_same_due_dates_reviews_quizzes_and_queue(
    source: Engine, fresh: Engine
) -> None:
    data = export(source)
    assert (data["format"], data["version"]) == ("interview-lab-userdata", 3)
    assert len(data["cards"]) >= 5 and len(data["quizzes"]) == 1 and len(data["interviews"]) == 1
    # The planned mock names the file's interview by its index; the other names none.
    assert [m["interview_index"] for m in data["mock_interviews"]] == [0, None]
    assert data["review_logs"][0]["reviewed_at"] == "2026-03-02T01:00:00+00:00"

    summary = import_into(fresh, as_file(data))

    assert (summary.cards, summary.review_logs, summary.quizzes, summary.interviews) == (
        len(data["cards"]),
        len(data["review_logs"]),
        1,
        1,
    )
    assert summary.mock_interviews == 2
    assert not summary.replaced and not summary.unknown_questions
    before, after = user_snapshot(source), user_snapshot(fresh)
    assert after["cards"] == before["cards"]  # the same due dates, states and counts
    assert after["logs"] == before["logs"]
    assert after["queue"] == before["queue"]
    assert after["quizzes"] == before["quizzes"]
    assert after["mocks"] == before["mocks"]  # reports, attempts, timings, grades, history
    assert after == before
    # Exporting the copy gives the same file.
    assert export(fresh) == data


def test_the_history_is_real(source: Engine) -> None:
    """The round trip compares something: lapses, quiz and mock reviews, a due queue,
    a finished mock interview for the planned interview and an unfinished one."""
    shot = user_snapshot(source)
    assert any(card[4] for card in shot["cards"].values())  # a lapse
    assert {log[8] for log in shot["logs"]} == {"review", "quiz", "mock"}
    planned, other = shot["mocks"]
    assert planned[2] is not None and planned[8] is not None  # its interview; finished
    assert [i.rating for i in planned[9]] == [3, 1, 4] and planned[10] == 40 + 110 + 180
    assert other[2] is None and other[8] is None and [i.seconds for i in other[9]] == [95, None]
    assert any(q.due_today for q in shot["queue"]) and shot["quizzes"][0][2] == 2


def test_a_newer_version_is_refused_with_a_clear_message(fresh: Engine) -> None:
    data = export(fresh) | {"version": 4, "something_new": []}
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, data)
    assert exc.value.message == (
        "this file is from a newer Interview Lab (version 4); this one reads version 3"
    )
    assert exc.value.field == "version"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"format": "anki"}, "format", "not an Interview Lab data file"),
        ({"format": None}, "format", "it has no format"),
        ({"version": 0}, "version", "unknown file version 0"),
        ({"version": "1"}, "version", "is not a version number"),
        ({"cards": "many"}, "cards", "valid list"),
        ({"user": {"timezone": "UTC"}}, "user.new_per_day", "required"),
    ],
)
def test_files_that_are_not_ours_or_unknown_versions_are_refused(
    fresh: Engine, change: dict[str, Any], field: str, words: str
) -> None:
    data = export(fresh) | change
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, data)
    assert exc.value.field == field and words in exc.value.message


def test_a_list_or_invalid_json_is_refused() -> None:
    with pytest.raises(Unprocessable, match="not an Interview Lab data file"):
        userdata.parse_user_data([1, 2])
    with pytest.raises(Unprocessable, match=r"not valid JSON \(line 1, column 2"):
        userdata.loads(b"{format")
    with pytest.raises(Unprocessable, match="not UTF-8"):
        userdata.loads(b"\xff\xfe{")


def test_a_bad_record_names_its_place_and_nothing_is_written(source: Engine, fresh: Engine) -> None:
    data = export(source)
    broken = copy.deepcopy(data)
    broken["cards"][1]["due"] = "2026-03-05T10:00:00"  # no time zone
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, broken)
    assert exc.value.field == "cards.1.due"
    orphan = copy.deepcopy(data)
    orphan["cards"] = orphan["cards"][1:]
    first = data["cards"][0]["question_id"]
    with pytest.raises(Unprocessable, match=f"question '{first}' has no card in the file"):
        import_into(fresh, orphan)
    bad_state = copy.deepcopy(data)
    del bad_state["cards"][0]["fsrs"]["stability"]
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, bad_state)
    assert exc.value.field == "cards.0.fsrs"
    bad_log = copy.deepcopy(data)
    bad_log["review_logs"][2]["card_after"] = {"state": 9}
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, bad_log)
    assert exc.value.field == "review_logs.2.card_after"
    assert export(fresh)["cards"] == []


def test_existing_data_is_kept_unless_replace_is_confirmed(source: Engine, fresh: Engine) -> None:
    data = export(source)
    with make_sessionmaker(fresh)() as session:
        user = local_user(session=session)
        rate(session, user, bank_ids(session)[-1], 3, T0)
    mine = export(fresh)
    with pytest.raises(Conflict, match=r"you already have study data \(1 cards, 1 reviews"):
        import_into(fresh, data)
    assert export(fresh) == mine

    summary = import_into(fresh, data, replace=True)

    assert summary.replaced
    assert export(fresh) == data  # the card reviewed here is gone, the file's are in
    # A refused replace leaves the data as it was.
    with pytest.raises(Unprocessable):
        import_into(fresh, data | {"version": 4}, replace=True)
    assert export(fresh) == data


def test_questions_the_bank_lacks_are_skipped_and_counted(source: Engine, fresh: Engine) -> None:
    data = export(source)
    known = data["cards"][0]
    data["cards"].append(known | {"question_id": "gone-1"})
    data["review_logs"].append(data["review_logs"][0] | {"question_id": "gone-1"})
    quiz = data["quizzes"][0]
    quiz["items"].insert(0, quiz["items"][0] | {"question_id": "gone-2", "position": 99})
    quiz["items"] = [item | {"position": n} for n, item in enumerate(quiz["items"])]
    empty = quiz | {"items": [quiz["items"][0]]}  # only the unknown question
    data["quizzes"].append(empty)
    mock = data["mock_interviews"][0]
    attempts = mock["attempts"]
    attempts.insert(1, attempts[1] | {"question_id": "gone-3"})
    mock["attempts"] = [a | {"position": n} for n, a in enumerate(attempts)]
    data["mock_interviews"].append(mock | {"attempts": [mock["attempts"][1]]})

    summary = import_into(fresh, data)

    assert summary.unknown_questions == ("gone-1", "gone-2", "gone-3")
    # The card, its review, two quiz items and the quiz left empty; two mock attempts
    # and the mock left empty.
    assert summary.skipped_records == 8
    assert summary.cards == len(data["cards"]) - 1 and summary.quizzes == 1
    assert summary.mock_interviews == 2
    copied = export(fresh)
    assert [i["position"] for i in copied["quizzes"][0]["items"]] == [0, 1, 2]
    assert [a["position"] for a in copied["mock_interviews"][0]["attempts"]] == [0, 1, 2]
    assert user_snapshot(fresh) == user_snapshot(source)


@pytest.mark.postgres
def test_round_trip_from_sqlite_into_postgresql(
    source: Engine, settings: Settings, pg_url: str, tmp_path: Path, content_dir: Path
) -> None:
    engine = make_engine(settings.model_copy(update={"database_url": pg_url}))
    try:
        migrate(engine)
        import_seed(engine, content_dir)
        import_into(engine, as_file(export(source)))
        assert user_snapshot(engine) == user_snapshot(source)
        import_into(engine, as_file(export(source)), replace=True)
        assert user_snapshot(engine) == user_snapshot(source)
        assert export(engine) == export(source)
    finally:
        engine.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    with make_sessionmaker(engine)() as session:
        return _counts(session)


def _counts(session: Session) -> tuple[int, int]:
    cards = session.scalar(select(func.count(Card.id))) or 0
    logs = session.scalar(select(func.count(ReviewLog.id))) or 0
    return int(cards), int(logs)


def use_db(monkeypatch: pytest.MonkeyPatch, data_dir: Path, content_dir: Path) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps long lines at the terminal width


def test_command_line_export_and_import(
    source: Engine,
    fresh: Engine,
    tmp_path: Path,
    content_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    out = tmp_path / "mine.json"
    cards = len(export(source)["cards"])
    use_db(monkeypatch, tmp_path / "source", content_dir)
    result = runner.invoke(cli, ["export", "data", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {cards} cards" in result.output and "and 2 mock interviews" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["cards"] == export(source)["cards"]

    use_db(monkeypatch, tmp_path / "fresh", content_dir)
    result = runner.invoke(cli, ["export", "import-data", str(out)])
    assert result.exit_code == 0, result.output
    assert f"imported {cards} cards" in result.output and "and 2 mock interviews" in result.output
    assert user_snapshot(fresh) == user_snapshot(source)

    result = runner.invoke(cli, ["export", "import-data", str(out)])
    assert result.exit_code == 1 and "pass --replace" in result.output
    assert runner.invoke(cli, ["export", "import-data", str(out), "--replace"]).exit_code == 0
    assert counts(fresh) == counts(source)

    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(export(source) | {"version": 4}), encoding="utf-8")
    result = runner.invoke(cli, ["export", "import-data", str(newer), "--replace"])
    assert result.exit_code == 1
    assert "newer Interview Lab (version 4)" in result.output
    result = runner.invoke(cli, ["export", "data", "--user", "nobody"])
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output


def test_the_fitted_fsrs_parameters_travel_with_the_file(source: Engine, fresh: Engine) -> None:
    fitted = list(DEFAULTS)
    fitted[0] += 0.25  # a fit moved the first initial stability
    with make_sessionmaker(source)() as session:
        local_user(session=session).fsrs_parameters = fitted
        session.commit()
    data = as_file(export(source))
    assert isinstance(data, dict) and data["user"]["fsrs_parameters"] == fitted

    def in_use() -> list[float] | None:
        with make_sessionmaker(fresh)() as session:
            return local_user(session=session).fsrs_parameters

    import_into(fresh, data)
    assert in_use() == fitted
    # A file written before the parameters were exported leaves them as they are.
    older = copy.deepcopy(data)
    del older["user"]["fsrs_parameters"]
    import_into(fresh, older, replace=True)
    assert in_use() == fitted
    # null: fsrs's own parameters.
    reset = copy.deepcopy(data)
    reset["user"]["fsrs_parameters"] = None
    import_into(fresh, reset, replace=True)
    assert in_use() is None
    # Not 21 numbers within fsrs's bounds: refused, naming the field; nothing changes.
    for bad in (fitted[:20], [*fitted[:-1], 1e9]):
        broken = copy.deepcopy(data)
        broken["user"]["fsrs_parameters"] = bad
        with pytest.raises(Unprocessable) as exc:
            import_into(fresh, broken, replace=True)
        assert exc.value.field == "user.fsrs_parameters"
    assert in_use() is None
