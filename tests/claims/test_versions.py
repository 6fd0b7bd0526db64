"""The run version a claim's evidence is looked up under: a demo that reads the bank's
answers (``loss_spikes``) gets a new version as soon as a file under the content folder
changes, is added or removed, though the digest is kept between pages (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.claims.evidence import demo_versions
from app.content.answers import demo_inputs
from app.demos import get_demo
from app.demos.base import run_version
from tests.conftest import WriteMd


@pytest.fixture
def content(content_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IL_CONTENT_DIR", str(content_dir))
    return content_dir


def fresh(content_dir: Path) -> str:
    """The version as computed without any cache: the digest of the files read now."""
    spikes = get_demo("loss_spikes")
    return run_version(spikes, demo_inputs(spikes.inputs, content_dir=content_dir))


QUESTION = """
# Chapter
### Q. The question
- {answer}
"""


def test_a_changed_added_or_removed_file_changes_the_version_at_once(
    content: Path, write_md: WriteMd
) -> None:
    write_md("a.md", QUESTION.format(answer="First answer."))
    first = demo_versions(["loss_spikes", "rank"])
    assert first == {"loss_spikes": fresh(content), "rank": get_demo("rank").code_version}
    assert demo_versions(["loss_spikes"]) == {"loss_spikes": first["loss_spikes"]}

    # Same size, so only the content and the modification time differ.
    write_md("a.md", QUESTION.format(answer="Other answer."))
    changed = demo_versions(["loss_spikes"])["loss_spikes"]
    assert changed == fresh(content) != first["loss_spikes"]

    write_md("b.md", QUESTION.format(answer="A second file."))
    added = demo_versions(["loss_spikes"])["loss_spikes"]
    assert added == fresh(content) not in (changed, first["loss_spikes"])

    (content / "b.md").unlink()
    assert demo_versions(["loss_spikes"])["loss_spikes"] == changed == fresh(content)


def test_an_unknown_demo_has_no_version(content: Path) -> None:
    assert demo_versions(["no_such_demo"]) == {"no_such_demo": None}
