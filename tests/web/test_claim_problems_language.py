"""A claim file's problems on the Sources page read in the page's language, as the
markdown's do: the level's word and the message, nested problems (a rule that does not
parse, a demo's parameter out of bounds) included, at the same ``file:line``. The CLI
keeps English."""

from __future__ import annotations

import contextvars
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.claims.files import KEYS
from app.cli import cli
from app.config import Settings
from app.i18n import set_language
from tests.web.conftest import MakeClient, soup
from tests.web.test_sources_page import post_files

# A seed question and a quote from its answer; each claim breaks one or more rules.
BAD_CLAIMS = """
- id: tiny-share
  question: llm-sft-fdc9313d
  quote: "参数量极小（通常 <0.1%）"
  demo: rank
  params: {m: 12, n: 8, r: 30}
  supported: "rank >> 1"
  explanation: {en: "rank {rank:.0f}", zh: "秩 {rank:.0f}"}
  colour: red
- id: Not-Here
  question: llm-sft-fdc9313d
  quote: "这句话不在答案里"
  kind: cited
  verdict: supported
  sources: ["QLoRA, §3"]
  explanation: "cited"
"""
ANOTHER = "# Extra\n\n### Q. What is LoRA?\n> **Company**: 美团\n\nLow rank.\n"


def write_bad_claims(content_dir: Path) -> None:
    folder = content_dir / "claims"
    folder.mkdir(exist_ok=True)
    (folder / "bad.yaml").write_text(textwrap.dedent(BAD_CLAIMS).lstrip("\n"), encoding="utf-8")


def problems(make_client: MakeClient, content_dir: Path, language: str) -> list[tuple[str, str]]:
    client = make_client(language=language)  # imports the seed first, without claims
    write_bad_claims(content_dir)
    page = soup(post_files(client, [("extra.md", ANOTHER.encode())]))
    items = page.select("#problems li")
    shown = [(str(li["class"][0]), li.get_text(strip=True)) for li in items]
    return [(level, text) for level, text in shown if "bad.yaml" in text]


def test_a_chinese_page_shows_a_claim_files_problems_in_chinese(
    make_client: MakeClient, content_dir: Path
) -> None:
    found = problems(make_client, content_dir, "zh-CN")
    where = f"{content_dir.as_posix()}/claims/bad.yaml"
    assert [(level, text.removeprefix(where)) for level, text in found] == [
        ("error", f":8：错误：未知的键 'colour'（论断可用的键：{', '.join(KEYS)}）"),
        ("error", ":5：错误：演示 'rank' 的参数：r：不能大于 min(m, n) = 8（输入为 30）"),
        ("error", ":6：错误：supported：应为数值名称或数字，实际是 '>'（第 7 列）"),
        ("error", ":9：错误：论断 id 'Not-Here' 只能包含小写的 [a-z0-9-]"),
        ("error", ":11：错误：引文 '这句话不在答案里' 不在 llm-sft-fdc9313d 的答案中"),
        ("warning", ":15：警告：explanation 没有 zh 文本（请写成 {en: ..., zh: ...}）"),
    ]


def test_an_english_page_shows_them_as_the_cli_does_in_any_language(
    make_client: MakeClient, content_dir: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = problems(make_client, content_dir, "en")
    where = f"{content_dir.as_posix()}/claims/bad.yaml"
    assert found[1:3] == [
        (
            "error",
            f"{where}:5: error: params of demo 'rank': r: must be at most min(m, n) = 8 (got 30)",
        ),
        (
            "error",
            f"{where}:6: error: supported: expected a figure or a number, found '>' (column 7)",
        ),
    ]
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def import_in_chinese() -> Result:
        set_language("zh")  # the CLI writes English whatever the language is
        return CliRunner().invoke(cli, ["import", "--dry-run", "--format", "json"])

    result = contextvars.copy_context().run(import_in_chinese)
    assert result.exit_code == 1, result.output
    printed = [
        (p["level"], f"{p['path']}:{p['line']}: {p['level']}: {p['message']}")
        for p in json.loads(result.stdout)["problems"]
    ]
    assert printed == found
