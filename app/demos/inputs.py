"""The data a demo reads besides its params, loaded by whoever runs it (the worker, the
CLI) and handed in through ``RunContext.inputs``; a demo itself reads no settings and no
files. ``run_version_now`` is the cache key's version of a run started now: the code
version plus the digest of these inputs (``app.demos.base.run_version``).

No torch here: the web process computes the version when it queues a run.
"""

from __future__ import annotations

from pathlib import Path

from app.demos.base import Demo, InputName, run_version


def answers_text(content_dir: Path) -> str:
    """The answers of every question under ``content_dir``, files in sorted order and
    questions in file order, each stripped, joined by blank lines."""
    from app.content.loader import discover, load_file

    files, _ = discover([content_dir])
    answers: list[str] = []
    for path in files:
        parsed = load_file(path, content_dir)
        for question in sorted(parsed.questions, key=lambda q: q.position):
            if question.answer_md.strip():
                answers.append(question.answer_md.strip())
    return "\n\n".join(answers)


_LOADERS = {"answers": answers_text}


def load_inputs(demo: Demo, *, content_dir: Path | None = None) -> dict[str, str]:
    """The inputs ``demo`` declares, read now (``content_dir`` defaults to the setting)."""
    if not demo.inputs:
        return {}
    if content_dir is None:
        from app.config import get_settings

        content_dir = get_settings().content_dir
    names: tuple[InputName, ...] = demo.inputs
    return {name: _LOADERS[name](content_dir) for name in names}


def run_version_now(demo: Demo, *, content_dir: Path | None = None) -> str:
    """The version a run of ``demo`` started now is stored and looked up under."""
    if not demo.inputs:
        return demo.code_version
    return run_version(demo, load_inputs(demo, content_dir=content_dir))
