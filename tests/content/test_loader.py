"""Bad files get a clear error naming the file (and line), never a crash."""

from __future__ import annotations

from pathlib import Path

from app.content.loader import discover, load_file


def test_non_utf8_names_the_line(content_dir: Path) -> None:
    path = content_dir / "gbk.md"
    path.write_bytes("# 标题\n### Q. 问题\n".encode() + "中文".encode("gbk") + b"\n")
    [error] = load_file(path, content_dir).diagnostics
    assert error.level == "error" and error.line == 3
    assert "not UTF-8" in error.message and "UTF-8" in error.message


def test_empty_and_blank_files(content_dir: Path) -> None:
    for name, data in [("empty.md", b""), ("blank.md", b"\n  \n")]:
        path = content_dir / name
        path.write_bytes(data)
        [error] = load_file(path, content_dir).diagnostics
        assert error.level == "error" and "empty file" in error.message


def test_binary_file(content_dir: Path) -> None:
    path = content_dir / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    [error] = load_file(path, content_dir).diagnostics
    assert error.level == "error" and "binary" in error.message


def test_utf8_bom_is_accepted(content_dir: Path) -> None:
    path = content_dir / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf# T\n### Q. x\n**Company**: A | **Tags**: [t]\n")
    parsed = load_file(path, content_dir)
    assert parsed.title == "T" and len(parsed.questions) == 1


def test_discover_finds_markdown_in_order_and_skips_readmes(content_dir: Path) -> None:
    for name in ["b.md", "a.md", "sub/c.md", "README.md", ".hidden/d.md", "notes.txt"]:
        (content_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (content_dir / name).write_text("# x\n")
    files, problems = discover([content_dir, content_dir / "a.md", content_dir / "missing.md"])
    names = [p.relative_to(content_dir).as_posix() for p in files]
    assert names == ["a.md", "b.md", "sub/c.md"]
    [problem] = problems
    assert problem.file.endswith("missing.md") and "no such file" in problem.message
