"""The Anki deck's safety and cache: TeX links with unsafe targets are stripped; old
cached versions are pruned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.export import anki, anki_cache
from app.export.anki_links import strip_unsafe_links
from tests.conftest import WriteMd
from tests.export.test_anki import read_apkg

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
LINKS = """
# 链接
### Q. 链接
> **Company**: 阿里 | **Tags**: [LoRA]
见 $\\href{javascript:alert(1)}{点我}$ 和 $\\url{ DATA:text/html,<b>x</b>}$，
还有 $\\href{jav&#x61;script:alert(2)}{二}$、$\\href{vbscript:x}{三}$、
$\\let\\h=\\href \\h{javascript:alert(3)}{四}$，
但 $\\href{https://arxiv.org/abs/2106.09685}{LoRA}$ 和 $\\url{mailto:a@b.c}$ 留下。
"""


@pytest.mark.parametrize(
    ("field", "kept"),
    [
        (r"\(\href{javascript:alert(1)}{x}\)", r"\({x}\)"),
        (r"\(\href {JavaScript:alert(1)}{x}\)", r"\({x}\)"),
        (r"\(\href{java	script:alert(1)}{x}\)", r"\({x}\)"),
        (r"\(\href{java&#x73;cript:alert({})}{x}\)", r"\({x}\)"),
        (r"\(\url{data:text/html,x}\)", r"\(\)"),
        (r"\(\url{vbscript:x}\)", r"\(\)"),
        (r"\(\def\h{\href}\h{javascript:x}{y}\)", r"\(\def\h{}\h{javascript:x}{y}\)"),
        (r"\(\href{https://a.b/c?d=1&amp;e=2}{x}\)", r"\(\href{https://a.b/c?d=1&amp;e=2}{x}\)"),
        (r"\(\href{#sec}{x} \url{mailto:a@b.c}\)", r"\(\href{#sec}{x} \url{mailto:a@b.c}\)"),
        (r"\(\hrefx{javascript:x}\)", r"\(\hrefx{javascript:x}\)"),
    ],
)
def test_unsafe_tex_links_are_stripped_and_safe_ones_kept(field: str, kept: str) -> None:
    assert strip_unsafe_links(field) == kept


def test_the_deck_holds_no_unsafe_link(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path, tmp_path: Path
) -> None:
    write_md("links.md", LINKS)
    with session_factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0).ok
    with session_factory() as session:
        data, count = anki.export_anki(session=session, flt=QuestionFilter(), now=T0)
    (note,) = read_apkg(data, tmp_path).notes.values()
    back = note.fields[1]
    for unsafe in (r"\href{jav", r"\url{ DATA", r"\href{vbscript", r"\let\h=\href"):
        assert unsafe not in back, unsafe
    assert back.count(r"\href") == 1 and back.count(r"\url") == 1
    assert r"\href{https://arxiv.org/abs/2106.09685}{LoRA}" in back
    assert r"\url{mailto:a@b.c}" in back
    assert "点我" in back and "四" in back


def test_old_versions_are_pruned(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path, tmp_path: Path
) -> None:
    write_md("links.md", LINKS)
    with session_factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0).ok
    folder = tmp_path / "decks"
    with session_factory() as session:
        (question_id,) = anki.deck_ids(session=session, flt=QuestionFilter())
        for n in range(anki_cache.CACHE_KEEP + 3):
            # Each filter is another version (the same question, listed n + 1 times).
            flt = QuestionFilter(ids=(question_id,) * (n + 1))
            handle, count = anki_cache.open_deck(session=session, flt=flt, folder=folder, now=T0)
            handle.close()
            assert count == 1
    assert len(list(folder.glob("deck-*.apkg"))) == anki_cache.CACHE_KEEP
