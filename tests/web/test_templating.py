"""The templates' bytecode cache: a template compiled once is loaded by the next start;
an edited one is compiled again; a cache folder that cannot be written costs only the
compile."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from jinja2 import Environment

from app.web.templating import make_templates


def _render(folder: Path) -> str:
    return make_templates(folder).get_template("page.html").render(name="LoRA")


def test_templates_compile_once_and_load_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "page.html").write_text("<p>{{ name }}</p>", encoding="utf-8")
    assert _render(tmp_path) == "<p>LoRA</p>"
    assert len(list((tmp_path / "__pycache__").iterdir())) == 1

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(Environment, "compile", no_compile)
    assert _render(tmp_path) == "<p>LoRA</p>"  # a new environment: from the cache


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ name }}</p>", encoding="utf-8")
    before = page.stat()
    assert _render(tmp_path) == "<p>LoRA</p>"
    page.write_text("<b>{{ name }}</b>", encoding="utf-8")  # the same size
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    assert _render(tmp_path) == "<b>LoRA</b>"


def test_a_cache_folder_that_cannot_be_written_still_renders(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>{{ name }}</p>", encoding="utf-8")
    (tmp_path / "__pycache__").write_text("a file where the folder would be")
    assert _render(tmp_path) == "<p>LoRA</p>"


def test_the_demo_text_filters_work_through_their_first_call_import(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{{ name | translate }}", encoding="utf-8")
    assert _render(tmp_path) == "LoRA"
    assert "app.web.demo_text" in sys.modules
