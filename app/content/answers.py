"""The bank's text that demos read as input (``RunContext.inputs``), loaded by whoever runs
a demo (the worker, ``demo run``) and digested into the run's version by whoever looks a
run up (``app.demos.base.run_version``). A demo itself reads no settings and no files.

No torch here, and nothing of the demos: inputs are named by plain strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from app.config import get_settings
from app.content.loader import discover, load_file

# content_dir -> (digest of its files' paths and bytes, their answers_text). Run keys
# need the text's digest for every claim check (60 on the seed bank, at every start and
# on the claims page): parsing the bank once per check cost seconds; hashing the bytes
# costs milliseconds, and any changed byte still reads the bank again.
_ANSWERS: dict[Path, tuple[str, str]] = {}


def answers_text(content_dir: Path) -> str:
    """The answers of every question under ``content_dir``, files in sorted order and
    questions in file order, each stripped, joined by blank lines."""
    files, _ = discover([content_dir])
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    cached = _ANSWERS.get(content_dir)
    if cached is not None and cached[0] == digest.hexdigest():
        return cached[1]
    text = _answers_text(files, content_dir)
    _ANSWERS[content_dir] = (digest.hexdigest(), text)
    return text


def _answers_text(files: list[Path], content_dir: Path) -> str:
    answers: list[str] = []
    for path in files:
        parsed = load_file(path, content_dir)
        for question in sorted(parsed.questions, key=lambda q: q.position):
            if question.answer_md.strip():
                answers.append(question.answer_md.strip())
    return "\n\n".join(answers)


_LOADERS = {"answers": answers_text}


def demo_inputs(names: Iterable[str], *, content_dir: Path | None = None) -> dict[str, str]:
    """The named inputs (a demo's ``inputs``), read now; ``content_dir`` defaults to the
    setting. No names, no reading."""
    wanted = list(names)
    if not wanted:
        return {}
    directory = get_settings().content_dir if content_dir is None else content_dir
    return {name: _LOADERS[name](directory) for name in wanted}
