"""In a real browser (issue 18): upload two chapters on the Sources page, read the report,
confirm, find the questions in the bank; the page fits a 390 px phone, in both languages,
under the strict CSP (the ``browser`` fixture fails on any violation)."""

from __future__ import annotations

from typing import Any

from tests.e2e.checks import assert_fits
from tests.e2e.conftest import Server, screenshot
from tests.sources.test_identity import CHAPTER


def test_upload_check_confirm_on_a_phone(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    page.goto(server.url + "/sources")
    assert_fits(page, "sources page")
    page.set_input_files(
        "input[name=files]",
        [
            {"name": "1.3 RLs.md", "mimeType": "text/markdown", "buffer": CHAPTER.encode()},
            {
                "name": "more.md",
                "mimeType": "text/markdown",
                "buffer": CHAPTER.replace("# RLs", "# More").encode(),
            },
        ],
    )
    page.fill("input[name=name]", "rl-notes")
    page.click("form[action='/sources/upload'] button[type=submit]")
    page.wait_for_selector("#report")
    files = page.locator(".source-files li").all_inner_texts()
    assert files == ["rl-notes/1.3 RLs.md: 2 questions", "rl-notes/more.md: 2 questions"]
    assert "上海AI Lab 2" in page.locator("#counts").inner_text()
    assert_fits(page, "sources report")
    screenshot(page, "sources-report-phone")
    page.click("#confirm")
    page.wait_for_selector("#source-done")
    assert "4 new" in page.locator("#source-done").inner_text()
    assert "rl-notes" in page.locator("#source-list").inner_text()
    assert_fits(page, "sources list")
    page.goto(server.url + "/questions?q=PPO")
    assert "What is PPO?" in page.content()
    zh = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    zh.goto(server.url + "/sources")
    assert "你的题库来源" in zh.content() and "重新导入" in zh.content()
    assert_fits(zh, "sources page (zh)")
    screenshot(zh, "sources-list-zh-phone")


def test_a_whole_folder_chosen_in_the_browser(server: Server, browser: Any, tmp_path: Any) -> None:
    notes = tmp_path / "interview-notes"
    (notes / "more").mkdir(parents=True)
    (notes / "rl.md").write_text(CHAPTER.replace("PPO", "GRPO"), encoding="utf-8")
    (notes / "more" / "m.md").write_text(CHAPTER.replace("DPO", "KTO"), encoding="utf-8")
    (notes / "cover.png").write_bytes(b"\x89PNG")
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(server.url + "/sources")
    page.set_input_files("#folder-input", str(notes))
    page.click("form[action='/sources/upload'] button[type=submit]")
    page.wait_for_selector("#report")
    files = page.locator(".source-files li").all_inner_texts()
    assert files == ["interview-notes/more/m.md: 2 道题", "interview-notes/rl.md: 2 道题"]
    assert "1 个文件不是 markdown" in page.locator("#left-out").inner_text()
    assert_fits(page, "sources folder report (zh)")
    page.click("#confirm")
    page.wait_for_selector("#source-done")
    assert "interview-notes" in page.locator("#source-list").inner_text()
