"""The compiled catalogues: each ``.po`` is compiled once per version of its bytes and
kept in ``__pycache__`` beside it, so a start reads the compiled file; an edited
``.po`` is compiled again, and a folder that cannot be written only costs the compile."""

from __future__ import annotations

import io
import os
from gettext import GNUTranslations
from pathlib import Path

import pytest

from app.i18n import LOCALE_DIR, compiled_catalogue

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Home"
msgstr "{home}"

msgid "%(num)d day"
msgid_plural "%(num)d days"
msgstr[0] "%(num)d 天"
"""


def _po(folder: Path, home: str = "首页") -> Path:
    po = folder / "messages.po"
    po.write_text(PO.format(home=home), encoding="utf-8")
    return po


def _catalogue(po: Path) -> GNUTranslations:
    return GNUTranslations(io.BytesIO(compiled_catalogue(po, "zh")))


def test_a_catalogue_is_compiled_once_and_read_from_its_cache(tmp_path: Path) -> None:
    po = _po(tmp_path)
    assert _catalogue(po).gettext("Home") == "首页"
    (cached,) = (tmp_path / "__pycache__").glob("messages.*.mo")
    assert cached.stat().st_mode & 0o777 == po.stat().st_mode & 0o666
    cached.write_bytes(cached.read_bytes().replace("首页".encode(), "主页".encode()))
    # The cache is read, not the .po (same bytes, same name): the planted change shows.
    assert _catalogue(po).gettext("Home") == "主页"
    assert _catalogue(po).ngettext("%(num)d day", "%(num)d days", 3) == "%(num)d 天"


def test_an_edited_po_is_compiled_again_whatever_its_size_and_time(tmp_path: Path) -> None:
    po = _po(tmp_path, home="首页")
    before = po.stat()
    assert _catalogue(po).gettext("Home") == "首页"
    _po(tmp_path, home="主页")  # the same size
    os.utime(po, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    assert _catalogue(po).gettext("Home") == "主页"
    # The old version's file is gone: one compiled file per .po.
    assert len(list((tmp_path / "__pycache__").glob("messages.*.mo"))) == 1


def test_a_folder_that_cannot_be_written_still_gives_the_catalogue(tmp_path: Path) -> None:
    po = _po(tmp_path)
    (tmp_path / "__pycache__").write_text("a file where the folder would be")
    assert _catalogue(po).gettext("Home") == "首页"


@pytest.mark.parametrize("language", ["zh"])
def test_the_shipped_catalogue_compiles_as_babel_compiles_it(language: str) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert compiled_catalogue(po, language) == buffer.getvalue()
