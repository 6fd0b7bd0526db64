"""Your notes and your own answer and takeaway (``app.study.notes``): saving, clearing,
the bank's version untouched and still compared by "the answer changed", bounds, and
markup made inert."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import NotFound, Unprocessable
from app.models import Question, QuestionNote, User
from app.study import notes
from app.study.relearn import answer_changed_at
from tests.conftest import WriteMd
from tests.study.conftest import CHAPTER_A, DAY, T0, card_row, load, qid, rate


def save(
    session: Session, user: User, question_id: str, **texts: str | None
) -> notes.NoteView | None:
    return notes.save_note(
        session=session,
        user=user,
        question_id=question_id,
        texts=texts,  # type: ignore[arg-type]
        now=T0,
    )


def test_a_note_is_rendered_and_kept_beside_the_bank(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    view = save(session, user, q, note="记住 **秩** $r \\ll d$\r\n\r\n- 第一点")
    assert view is not None and view.note == "记住 **秩** $r \\ll d$\n\n- 第一点"
    html = BeautifulSoup(str(view.note_html), "html.parser")
    assert html.select_one("strong").get_text() == "秩"  # type: ignore[union-attr]
    assert html.select_one("math") is not None and html.select_one("ul li") is not None
    # The bank's question is untouched; nothing else was set.
    bank = session.get(Question, q)
    assert bank is not None and bank.answer_md == "答案一"
    assert (view.answer, view.takeaway) == (None, None)
    assert notes.get_note(session=session, user=user, question_id=q) == view


def test_texts_not_given_stay_and_an_empty_one_clears(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    save(session, user, q, note="笔记", answer="我的答案")
    view = save(session, user, q, takeaway="我的要点")
    assert view is not None and (view.note, view.answer, view.takeaway) == (
        "笔记",
        "我的答案",
        "我的要点",
    )
    assert str(view.takeaway_html) == "我的要点"  # one line, no <p>
    view = save(session, user, q, answer="", note="  ")
    assert view is not None and (view.note, view.answer, view.takeaway) == (None, None, "我的要点")
    # All three empty: the row goes.
    assert save(session, user, q, takeaway=None) is None
    assert session.scalars(select(QuestionNote)).all() == []


def test_an_answer_saved_as_the_bank_has_it_is_no_override(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    assert save(session, user, q, answer=" 答案一\n") is None
    view = save(session, user, q, answer="答案一，加上我的补充", note="n")
    assert view is not None and view.answer == "答案一，加上我的补充"


def test_notes_are_per_user(session: Session, user: User) -> None:
    other = User(username="bob")
    session.add(other)
    session.commit()
    q = qid(session, "问题一")
    save(session, user, q, note="mine")
    assert notes.get_note(session=session, user=other, question_id=q) is None
    assert notes.notes_by_question(session=session, user=other) == {}
    assert set(notes.notes_by_question(session=session, user=user)) == {q}
    assert notes.clear_note(session=session, user=other, question_id=q) is False
    assert notes.clear_note(session=session, user=user, question_id=q) is True
    assert notes.get_note(session=session, user=user, question_id=q) is None


def test_a_question_that_does_not_exist_is_not_found(session: Session, user: User) -> None:
    with pytest.raises(NotFound):
        save(session, user, "no-such-question", note="x")


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("note", "x" * 20_001, "the note is 20,001 characters long; at most 20,000"),
        ("answer", "y" * 50_001, "your answer is 50,001 characters long; at most 50,000"),
        ("takeaway", "z" * 2_001, "your takeaway is 2,001 characters long; at most 2,000"),
        ("note", "a\x00b", "NUL character"),
        ("note", "$x$ " * 501, "over 500 formulas"),
    ],
)
def test_refusals_name_the_field_and_the_reason(
    session: Session, user: User, name: str, text: str, words: str
) -> None:
    q = qid(session, "问题一")
    with pytest.raises(Unprocessable) as exc:
        save(session, user, q, **{name: text})
    assert exc.value.field == name and words in exc.value.message
    assert notes.get_note(session=session, user=user, question_id=q) is None


def test_the_limits_themselves_are_accepted(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    view = save(session, user, q, note="x" * 20_000, takeaway="z" * 2_000)
    assert view is not None and len(view.note or "") == 20_000


def test_markup_in_a_note_is_inert(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    hostile = (
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
        "[link](javascript:alert(3)) <a href='javascript:alert(4)'>a</a> "
        "$\\text{<img src=y onerror=alert(5)>}$ <iframe src=//evil></iframe>"
    )
    view = save(session, user, q, note=hostile, answer=hostile, takeaway=hostile)
    assert view is not None
    for html in (view.note_html, view.answer_html, view.takeaway_html):
        page = BeautifulSoup(str(html), "html.parser")
        assert not page.select("script, iframe")
        for tag in page.find_all(True):
            assert not any(attr.startswith("on") for attr in tag.attrs), tag
            assert "javascript" not in str(tag.get("href", "")).lower(), tag


def test_notes_and_overrides_survive_a_reimport_that_changes_the_bank(
    session: Session,
    user: User,
    session_factory: sessionmaker[Session],
    write_md: WriteMd,
    content_dir: Path,
) -> None:
    q = qid(session, "问题一")
    rate(session, user, q, 3, T0)
    save(session, user, q, note="我的笔记", answer="我自己的答案", takeaway="我的要点")

    write_md("a.md", CHAPTER_A.replace("答案一", "完全改写之后的新答案，内容和原来的没有关系"))
    load(session_factory, content_dir, now=T0 + DAY)
    session.expire_all()

    bank = session.get(Question, q)
    assert bank is not None and bank.answer_md.startswith("完全改写之后的新答案")
    view = notes.get_note(session=session, user=user, question_id=q)
    assert view is not None and (view.note, view.answer, view.takeaway) == (
        "我的笔记",
        "我自己的答案",
        "我的要点",
    )
    # "The answer changed" compares the bank with the bank: the card is stamped.
    assert answer_changed_at(session=session, user=user, question_id=q) == T0 + DAY
    card = card_row(session, q)
    assert card is not None and card.answer_changed_at is not None


def test_a_question_removed_from_the_bank_keeps_its_note(
    session: Session,
    user: User,
    session_factory: sessionmaker[Session],
    write_md: WriteMd,
    content_dir: Path,
) -> None:
    q = qid(session, "问题三")
    save(session, user, q, note="还留着")
    write_md("a.md", CHAPTER_A.split("### Q. 问题三")[0])
    load(session_factory, content_dir, now=T0 + DAY)
    session.expire_all()
    bank = session.get(Question, q)
    assert bank is not None and bank.archived_at is not None
    view = notes.get_note(session=session, user=user, question_id=q)
    assert view is not None and view.note == "还留着"
