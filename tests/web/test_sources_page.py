"""The Sources page (issue 18): upload, the report before confirming, import, the list
with re-import and remove; CSRF on every form; refused archives and bounds."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from tests.sources.test_identity import CHAPTER
from tests.web.conftest import MakeClient, csrf, soup
from tests.web.test_accounts import sign_up

BROKEN = "# Broken\n\n## Q. What is RLHF?\n\nNot read.\n"


def post_files(client: TestClient, files: list[tuple[str, bytes]], name: str = "") -> Any:
    token = csrf(soup(client.get("/sources")))
    return client.post(
        "/sources/upload",
        data={"csrf_token": token, "name": name},
        files=[("files", (n, data, "text/markdown")) for n, data in files],
    )


def confirm_report(client: TestClient, report: Any) -> Any:
    """Press "Import these questions" on a report page."""
    form = report.select_one("form[action='/sources/confirm']")
    assert form is not None
    data = {str(i["name"]): str(i["value"]) for i in form.select("input[type=hidden]")}
    return client.post("/sources/confirm", data=data)


def test_upload_shows_the_report_then_imports_and_lists_the_source(client: TestClient) -> None:
    page = soup(client.get("/sources"))
    assert page.select_one("nav a[href='/sources']") is not None
    # Before any source, the page says the bank is the content folder's, not "no sources".
    empty = page.select_one("#no-sources").get_text()  # type: ignore[union-attr]
    assert "the bank holds the content folder's 10 questions" in empty
    response = post_files(
        client,
        [
            ("1.3 RLs.md", CHAPTER.encode()),
            ("more.md", CHAPTER.replace("RLs", "M").replace("上海AI Lab", "上海 AI Lab").encode()),
        ],
        name="my notes",
    )
    assert response.status_code == 200
    page = soup(response)
    files = [li.get_text(" ", strip=True) for li in page.select(".source-files li")]
    assert files == ["my-notes/1.3 RLs.md : 2 questions", "my-notes/more.md : 2 questions"]
    assert "上海AI Lab 2" in page.select_one("#counts").get_text(" ")  # type: ignore[union-attr]
    assert "上海 AI Lab -> 上海AI Lab" in page.select_one("#merges").get_text()  # type: ignore[union-attr]
    page = soup(confirm_report(client, page))
    assert "4 new" in page.select_one("#source-done").get_text()  # type: ignore[union-attr]
    listed = page.select_one("#source-list").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert "my-notes" in listed and "4 questions" in listed and "2 chapters" in listed
    # Browse shows them; remove archives them; re-import restores.
    assert "What is PPO?" in client.get("/questions").text
    token = csrf(page)
    page = soup(client.post("/sources/my-notes/remove", data={"csrf_token": token}))
    assert page.select_one("#source-done") is not None
    assert "0 questions" in page.select_one("#source-list").get_text(" ")  # type: ignore[union-attr]
    page = soup(client.post("/sources/my-notes/reimport", data={"csrf_token": token}))
    done = page.select_one("#source-done")
    assert done is not None and "4 restored" in done.get_text()


def test_errors_are_file_line_messages_and_nothing_can_be_confirmed(client: TestClient) -> None:
    page = soup(post_files(client, [("broken.md", BROKEN.encode())]))
    problems = page.select_one("#problems").get_text(" ")  # type: ignore[union-attr]
    assert "uploaded/broken.md:1 : error: format not recognised" in problems
    assert "nearest: line 3" in problems
    assert page.select_one("form[action='/sources/confirm']") is None


def test_a_refused_archive_and_a_missing_token(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../evil.md", CHAPTER)
    response = post_files(client, [("bank.zip", buffer.getvalue())])
    assert response.status_code == 400
    assert "points outside the archive: refused" in response.text
    response = client.post(
        "/sources/upload", files=[("files", ("a.md", CHAPTER.encode(), "text/markdown"))]
    )
    assert response.status_code == 403
    response = post_files(client, [("a.txt", b"hello")])
    assert response.status_code == 400 and "only .md files" in response.text


def test_with_accounts_on_the_page_only_lists(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    sign_up(client, "alice")
    page = soup(client.get("/sources"))
    assert page.select_one("form[action='/sources/upload']") is None
    assert page.select_one("#server-only") is not None
    response = post_files(client, [("a.md", CHAPTER.encode())])
    assert response.status_code == 403
    assert "interview-lab import" in response.text


def test_an_unconfirmed_upload_is_removed_after_a_day(client: TestClient, settings: Any) -> None:
    import os
    import time

    post_files(client, [("a.md", CHAPTER.encode())])
    uploads = settings.data_dir / "uploads"
    [old] = list(uploads.iterdir())
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    post_files(client, [("b.md", CHAPTER.encode())])
    assert old.name not in [p.name for p in uploads.iterdir()]
    assert len(list(uploads.iterdir())) == 1


def _archive(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def test_a_refused_archive_gives_its_reason_in_the_page_language(
    make_client: MakeClient,
) -> None:
    client = make_client(language="zh-CN")
    response = post_files(client, [("bank.zip", _archive({"../evil.md": CHAPTER}))])
    assert response.status_code == 400
    error = soup(response).select_one("#source-error")
    assert error is not None
    assert error.get_text() == "压缩包成员 '../evil.md' 指向压缩包之外：已拒绝"
    response = post_files(client, [("a.txt", b"hello")])
    assert soup(response).select_one("#source-error").get_text() == (  # type: ignore[union-attr]
        "只接受 .md 文件，或一个 .zip 或 .tar.gz 压缩包"
    )


def test_an_english_page_gives_the_reason_in_english(client: TestClient) -> None:
    response = post_files(client, [("bank.zip", _archive({"/etc/evil.md": CHAPTER}))])
    error = soup(response).select_one("#source-error")
    assert error is not None
    assert error.get_text() == "archive member '/etc/evil.md' points outside the archive: refused"


def test_the_report_lists_names_kept_apart(make_client: MakeClient, content_dir: Any) -> None:
    (content_dir / "aliases.yaml").write_text("keep_apart:\n  tags: [RL, rl]\n", encoding="utf-8")
    client = make_client(language="zh-CN")
    text = CHAPTER.replace("[RL]", "[rl]", 1)
    page = soup(post_files(client, [("a.md", text.encode())]))
    kept = page.select_one("#kept-apart")
    assert kept is not None
    assert kept.get_text(" ", strip=True) == (
        "分开保留（aliases.yaml）： tag RL (not rl) , tag rl (not RL)"
    )


def _confirm(client: TestClient, files: list[tuple[str, bytes]], name: str) -> Any:
    return confirm_report(client, soup(post_files(client, files, name=name)))


SLOPPY = (
    CHAPTER
    + "\n###Q. What is KL?\n> **Company**: 美团 | **Round**: 二面 | **Tags**: [RL]\n\nA divergence.\n"
)


def test_an_import_redirects_so_a_reload_only_reads_its_report(client: TestClient) -> None:
    response = _confirm(client, [("a.md", SLOPPY.encode())], name="notes")
    assert [r.status_code for r in response.history] == [303]
    assert response.url.path == "/sources" and response.url.query == b"report=notes"
    first = soup(response)
    assert "3 new" in first.select_one("#source-done").get_text()  # type: ignore[union-attr]
    # Reloading is a GET: the same report, and nothing imported again.
    again = soup(client.get("/sources?report=notes"))
    assert "3 new" in again.select_one("#source-done").get_text()  # type: ignore[union-attr]
    assert again.select_one("#report-of") is not None
    problems = again.select_one("#problems").get_text(" ")  # type: ignore[union-attr]
    assert "notes/a.md:" in problems and "###Q." in problems
    # The list links each source to its last report; a re-import replaces it.
    link = again.select_one("#source-list a.source-report")
    assert link is not None and link["href"] == "/sources?report=notes#report"
    token = csrf(again)
    page = soup(client.post("/sources/notes/reimport", data={"csrf_token": token}))
    assert "3 unchanged" in page.select_one("#source-done").get_text()  # type: ignore[union-attr]
    # A removal redirects too; its notice stays on reload.
    response = client.post("/sources/notes/remove", data={"csrf_token": token})
    assert [r.status_code for r in response.history] == [303]
    assert soup(response).select_one("#source-done") is not None
    assert "0 questions" in soup(response).select_one("#source-list").get_text(" ")  # type: ignore[union-attr]


def test_a_kept_report_reads_in_the_reader_s_language(make_client: MakeClient) -> None:
    _confirm(make_client(), [("a.md", SLOPPY.encode())], name="notes")
    zh = make_client(language="zh-CN")
    page = soup(zh.get("/sources?report=notes"))
    [warning] = page.select("#problems li")
    assert warning.get_text().startswith("notes/a.md:") and "警告" in warning.get_text()
    assert "###Q." in warning.get_text() and "warning" not in warning.get_text()
    assert "导入" in page.select_one("#source-done").get_text()  # type: ignore[union-attr]


def test_a_report_of_no_source_says_so(client: TestClient) -> None:
    response = client.get("/sources?report=nothing-here")
    assert response.status_code == 400
    error = soup(response).select_one("#source-error")
    assert error is not None and "no source is named 'nothing-here'" in error.get_text()


def test_a_question_with_no_round_counts_as_unknown_in_the_page_s_language(
    make_client: MakeClient,
) -> None:
    text = CHAPTER.replace(" | **Round**: 二面", "")
    zh = soup(post_files(make_client(language="zh-CN"), [("a.md", text.encode())]))
    en = soup(post_files(make_client(), [("a.md", text.encode())]))
    assert "（未知） 1" in zh.select_one("#counts").get_text(" ")  # type: ignore[union-attr]
    assert "(unknown) 1" in en.select_one("#counts").get_text(" ")  # type: ignore[union-attr]


def test_a_whole_folder_keeps_its_layout_names_the_source_and_leaves_out_the_rest(
    client: TestClient,
) -> None:
    # A browser sends each file of a chosen folder by its path inside it.
    page = soup(
        post_files(
            client,
            [
                ("rl-notes/1.3 RLs.md", CHAPTER.encode()),
                ("rl-notes/more/m.md", CHAPTER.replace("RLs", "M").encode()),
                ("rl-notes/img/ppo.png", b"\x89PNG not markdown"),
            ],
        )
    )
    files = [li.get_text(" ", strip=True) for li in page.select(".source-files li")]
    assert files == ["rl-notes/1.3 RLs.md : 2 questions", "rl-notes/more/m.md : 2 questions"]
    assert "1 file of the folder is not markdown" in page.select_one("#left-out").get_text()  # type: ignore[union-attr]
    page = soup(confirm_report(client, page))
    assert "4 new" in page.select_one("#source-done").get_text()  # type: ignore[union-attr]
    assert "rl-notes" in page.select_one("#source-list").get_text()  # type: ignore[union-attr]


def test_a_folder_upload_refuses_paths_out_of_it_and_a_folder_without_markdown(
    client: TestClient,
) -> None:
    response = post_files(client, [("notes/../../evil.md", CHAPTER.encode())])
    assert response.status_code == 400 and "is not allowed" in response.text
    response = post_files(client, [("a/x.md", b"# A"), ("b/y.md", b"# B")])
    assert "upload one folder at a time" in response.text
    response = post_files(client, [("pics/a.png", b"png")])
    assert "the folder holds no .md files" in response.text
    # An input left empty (the other one used) is no file.
    token = csrf(soup(client.get("/sources")))
    response = client.post(
        "/sources/upload",
        data={"csrf_token": token},
        files=[
            ("files", ("", b"", "application/octet-stream")),
            ("files", ("notes/a.md", CHAPTER.encode(), "text/markdown")),
        ],
    )
    assert response.status_code == 200 and "notes/a.md" in response.text
