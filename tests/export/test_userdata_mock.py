"""Mock interviews in the user-data file: older versions still import (as having none),
each refusal names its field, replacing clears the user's mocks, and a failed import
changes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import Engine

from app.db import make_sessionmaker
from app.errors import Conflict, Unprocessable
from app.export import userdata, userdata_mock
from app.mock.service import MAX_TEXT
from app.users.service import local_user
from tests.export.test_userdata import as_file, export, import_into, user_snapshot


def test_a_version_2_file_still_imports_with_no_mock_interviews(
    source: Engine, fresh: Engine
) -> None:
    data = export(source)
    older = {k: v for k, v in data.items() if k != "mock_interviews"} | {"version": 2}

    summary = import_into(fresh, as_file(older))

    assert summary.mock_interviews == 0 and summary.cards == len(data["cards"])
    assert export(fresh)["mock_interviews"] == []
    after, before = user_snapshot(fresh), user_snapshot(source)
    assert after["cards"] == before["cards"] and after["mocks"] == []
    # A version 1 file (no notes either) reads too; neither may carry mock interviews.
    oldest = {k: v for k, v in older.items() if k != "notes"} | {"version": 1}
    assert import_into(fresh, oldest, replace=True).mock_interviews == 0
    for version in (1, 2):
        with pytest.raises(Unprocessable) as exc:
            import_into(fresh, {**oldest, "version": version, "mock_interviews": []})
        assert exc.value.field == "mock_interviews"
        assert f"a version {version} file has no mock_interviews" in exc.value.message


def _set(path: str, value: object) -> Any:
    """A change to the exported file: ``value`` at ``path`` (dots; ``-`` deletes)."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key: Any = int(last) if last.isdigit() else last
        if value == "-":
            del node[key]
        else:
            node[key] = value

    return change


BAD_MOCKS = [
    ("mock_interviews.0.attempts.2.rating", 5, "mock_interviews.0.attempts.2.rating"),
    ("mock_interviews.0.attempts.2.rating", 0, "mock_interviews.0.attempts.2.rating"),
    ("mock_interviews.0.attempts.1.matched", [True], "mock_interviews.0.attempts.1.matched"),
    ("mock_interviews.0.attempts.0.covered", [], "mock_interviews.0.attempts.0.covered"),
    (
        "mock_interviews.0.attempts.0.text",
        "x" * (MAX_TEXT + 1),
        "mock_interviews.0.attempts.0.text",
    ),
    (
        "mock_interviews.0.attempts.1.answered_at",
        "2026-03-08T01:00:00",  # no time zone
        "mock_interviews.0.attempts.1.answered_at",
    ),
    ("mock_interviews.1.created_at", "2026-03-09", "mock_interviews.1.created_at"),
    ("mock_interviews.0.attempts.0.bogus", 1, "mock_interviews.0.attempts.0.bogus"),
    ("mock_interviews.1.interview_id", 1, "mock_interviews.1.interview_id"),
    ("mock_interviews.0.interview_index", 1, "mock_interviews.0.interview_index"),
    ("mock_interviews.0.interview_index", -1, "mock_interviews.0.interview_index"),
    ("mock_interviews.0.attempts.1.position", 0, "mock_interviews.0.attempts.1.position"),
    ("mock_interviews.0.attempts.0.tier", 5, "mock_interviews.0.attempts.0.tier"),
    ("mock_interviews.1.count", 0, "mock_interviews.1.count"),
    ("mock_interviews.1.attempts.1.answered_at", "-", None),  # still valid: not answered
    ("mock_interviews.0.attempts.0.answered_at", None, "mock_interviews.0.attempts.0.rating"),
    ("mock_interviews.0.attempts", "many", "mock_interviews.0.attempts"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_MOCKS)
def test_each_bad_mock_record_is_refused_naming_its_field_and_nothing_changes(
    source: Engine, fresh: Engine, path: str, value: object, field: str | None
) -> None:
    data = export(source)
    import_into(fresh, data)
    mine = export(fresh)
    broken = copy.deepcopy(data)
    _set(path, value)(broken)
    if field is None:
        userdata.parse_user_data(broken)  # the control: the change alone is fine
        return
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, broken, replace=True)
    assert exc.value.field == field
    assert exc.value.message.startswith(field)
    assert export(fresh) == mine


def test_a_failed_write_rolls_back_everything(
    source: Engine, fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mocks are written last: a failure there leaves the cards, quizzes and the
    previous mocks as they were (one transaction)."""
    data = export(source)
    import_into(fresh, data)
    before = user_snapshot(fresh)
    written = userdata_mock.write_mocks

    def fails(*args: Any, **kwargs: Any) -> tuple[int, int]:
        written(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(userdata, "write_mocks", fails)
    smaller = copy.deepcopy(data) | {"cards": [], "review_logs": [], "quizzes": []}
    with pytest.raises(RuntimeError):
        import_into(fresh, smaller, replace=True)
    assert user_snapshot(fresh) == before


def test_mocks_count_as_study_data_and_replacing_clears_them(source: Engine, fresh: Engine) -> None:
    data = export(source)
    only_mocks = {**data, "cards": [], "review_logs": [], "quizzes": [], "notes": []}
    only_mocks["mock_interviews"] = [
        m | {"interview_index": None, "feeds_reviews": False} for m in data["mock_interviews"]
    ]
    only_mocks["interviews"] = []
    assert import_into(fresh, only_mocks).mock_interviews == 2
    with make_sessionmaker(fresh)() as session:
        counts = userdata.existing_counts(session=session, user=local_user(session=session))
    assert counts["mock_interviews"] == 2 and counts["cards"] == 0
    with pytest.raises(Conflict) as exc:
        import_into(fresh, data)
    assert "0 notes, 2 mock interviews)" in exc.value.message

    empty = {**only_mocks, "mock_interviews": []}
    assert import_into(fresh, empty, replace=True).replaced
    assert export(fresh)["mock_interviews"] == []
