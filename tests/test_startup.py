"""Start-up (issue 19, item 4): what the web process loads, and the schema check that lets
a start on an up-to-date database skip alembic. Behaviour, not timing: the timing is
``bench/startup_bench.py``'s."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.cli import import_content, run_import, run_sources
from app.config import Settings
from app.db import alembic_config, make_engine, migrate
from app.schema import current_revisions, ensure_schema, head_revisions, is_current
from app.startup import files_fingerprint
from tests.conftest import REPO_ROOT, SEED

# Each of these is a second or more to import and only some commands or routes need it.
HEAVY = ("torch", "celery", "kombu", "alembic", "mako", "genanki")


def _loaded(script: str, **env: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after ``script`` ran in a fresh
    interpreter (printed one a line by the script's last statement)."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    return set(out.stdout.split())


SHOW = "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))"


def test_importing_the_web_app_loads_no_torch_celery_alembic_or_genanki() -> None:
    loaded = _loaded(f"import sys\nimport app.main\n{SHOW}")
    assert "app" in loaded  # the script did run
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_demo_catalogue_loads_on_first_use_not_at_start() -> None:
    script = """
        import sys
        import app.main
        print(*sorted(m for m in sys.modules if m.startswith("app.demos.")))
        from app.demos import get_demo, registry
        assert get_demo("lora").name == "lora" and "rank" in registry()
        print("lora" if "app.demos.lora" in sys.modules else "")
        """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    assert out == ["", "lora"]  # no app.demos module at all before the first use


def test_building_the_app_with_the_local_queue_loads_no_celery(tmp_path: Path) -> None:
    script = f"""
        import sys
        from app.config import Settings
        from app.main import create_app
        create_app(Settings(data_dir={str(tmp_path)!r}, database_url=""))
        {SHOW}
        """
    loaded = _loaded(script)
    assert "fastapi" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_home_page_is_served_before_the_other_routers_load(tmp_path: Path) -> None:
    """The home page needs only the eager routers; any other page, or the API schema,
    loads the rest on its first request and is served as before."""
    script = f"""
        import sys
        from fastapi.testclient import TestClient
        from app.config import Settings
        from app.main import LAZY_ROUTERS, create_app
        from app.schema import ensure_schema
        app = create_app(Settings(data_dir={str(tmp_path)!r}, database_url=""))
        ensure_schema(app.state.engine)
        lazy = [f"app.web.{{name}}" for name in LAZY_ROUTERS]
        # Stacks only other pages use: markdown and math, YAML, the claims, the demos, and
        # pydantic.v1 (FastAPI's check of a route's first parameter; the home page has none).
        lazy += ["markdown_it", "latex2mathml", "nh3", "yaml", "app.claims", "app.demos"]
        lazy += ["pydantic.v1"]
        with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
            assert client.get("/").status_code == 200
            print(sorted(set(lazy) & set(sys.modules)))
            assert client.get("/mock").status_code == 200
            print(sorted(m for m in set(lazy) - set(sys.modules) if m.startswith("app.web")))
            assert client.get("/api/healthz").status_code == 200
        other = create_app(Settings(data_dir={str(tmp_path)!r}, database_url=""))
        print("/api/stats" in other.openapi()["paths"])
        """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    # The home page imports none of the other pages' modules (app.web.home, plan_view).
    assert out == ["[]", "[]", "True"]


def test_the_head_revision_read_from_the_files_is_alembics(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert head_revisions() == frozenset(heads)


def test_a_fresh_database_is_migrated_then_left_alone(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=""))
    assert current_revisions(engine) is None
    assert not is_current(engine)
    assert ensure_schema(engine) is True  # alembic ran
    assert is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM questions")).scalar() == 0
    assert ensure_schema(engine) is False  # nothing to do the second time
    engine.dispose()


def test_a_database_behind_the_code_is_upgraded(tmp_path: Path) -> None:
    from alembic import command

    engine = make_engine(Settings(data_dir=tmp_path, database_url=""))
    command.upgrade(alembic_config(engine), "0012")
    assert current_revisions(engine) == frozenset({"0012"})
    assert not is_current(engine)
    assert ensure_schema(engine) is True
    assert current_revisions(engine) == head_revisions()
    engine.dispose()


def test_an_up_to_date_database_starts_without_importing_alembic(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=""))
    migrate(engine)
    engine.dispose()
    script = f"""
        import sys
        from app.config import Settings
        from app.db import make_engine
        from app.schema import ensure_schema
        assert ensure_schema(make_engine(Settings(data_dir={str(tmp_path)!r}, database_url=""))) is False
        {SHOW}
        """
    loaded = _loaded(script)
    assert "sqlalchemy" in loaded
    assert "alembic" not in loaded


def test_revisions_it_cannot_read_go_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "0001_a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision = "0002"\ndown_revision = "0001"\n')
    assert head_revisions(tmp_path) == frozenset({"0002"})
    (tmp_path / "0003_c.py").write_text("revision = make_id()\ndown_revision = '0002'\n")
    assert head_revisions(tmp_path) is None  # so is_current is False: alembic decides


def test_serve_runs_its_demo_workers_below_the_web_process_priority(tmp_path: Path) -> None:
    from app.worker.pool import WORKER_NICE, LocalPool, engine_for
    from tests.worker.fake_demos import FIND

    url = f"sqlite:///{(tmp_path / 'pool.sqlite3').as_posix()}"
    engine = engine_for(url)
    migrate(engine)
    engine.dispose()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    with LocalPool(url, processes=1, find_demo=FIND, poll_interval=0.1) as pool:
        (worker,) = pool._workers
        assert worker.process.pid is not None
        nice = os.getpriority(os.PRIO_PROCESS, worker.process.pid)
    assert nice == min(19, mine + WORKER_NICE)


# --- serve's import of content/: skipped only when nothing it reads changed -------------


def _seed(content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    (content_dir / "claims").mkdir()
    claims = REPO_ROOT / "content" / "claims" / "llm-sft.yaml"
    (content_dir / "claims" / "llm-sft.yaml").write_bytes(claims.read_bytes())


def _answers(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, title || ' ' || answer_md FROM questions WHERE archived_at IS NULL")
        )
        answers = {str(r[0]): str(r[1]) for r in rows}
    engine.dispose()
    return answers


def test_serve_reimports_only_what_changed_and_never_serves_stale_content(
    settings: Settings, content_dir: Path
) -> None:
    _seed(content_dir)
    first = import_content(settings)  # a fresh database: migrated and imported
    assert first is not None and first.ok and first.written
    assert import_content(settings) is None  # nothing changed: skipped

    # One character replaced by another of the same size, the file's time put back: the
    # bytes are hashed, so the edit is still seen.
    md = content_dir / "llm-sft.md"
    before = md.stat()
    data = md.read_bytes()
    assert data.count("断点排查".encode()) == 1
    md.write_bytes(data.replace("断点排查".encode(), "断点调试".encode()))
    os.utime(md, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert md.stat().st_size == before.st_size
    report = import_content(settings)
    assert report is not None and report.ok
    assert any("断点调试" in a for a in _answers(settings).values())
    assert import_content(settings) is None

    # A changed claim file is read again: its claim's new explanation is stored.
    claims = content_dir / "claims" / "llm-sft.yaml"
    claims.write_text(
        claims.read_text(encoding="utf-8").replace("A count, not a measurement", "Counted"),
        encoding="utf-8",
    )
    assert import_content(settings) is not None
    engine = make_engine(settings)
    with engine.connect() as conn:
        explanation = conn.execute(
            text("SELECT explanation FROM claims WHERE id = 'prompt-tuning-under-0-1-percent'")
        ).scalar_one()
    engine.dispose()
    assert "Counted" in explanation

    # A new file is imported; a removed one is archived.
    (content_dir / "extra.md").write_text("# E\n### Q. 新问题\n答案\n", encoding="utf-8")
    assert import_content(settings) is not None
    assert any(a.endswith(" 答案") for a in _answers(settings).values())
    (content_dir / "extra.md").unlink()
    assert import_content(settings) is not None
    assert not any(a.endswith(" 答案") for a in _answers(settings).values())
    assert import_content(settings) is None


def test_a_database_changed_by_another_command_is_imported_again(
    settings: Settings, content_dir: Path, tmp_path: Path
) -> None:
    _seed(content_dir)
    assert import_content(settings) is not None
    other = tmp_path / "other.md"
    other.write_text("# O\n### Q. 另一个来源\n另一个答案\n", encoding="utf-8")
    assert run_sources(settings, [str(other)]).ok  # `interview-lab import other.md`
    assert import_content(settings) is not None
    assert import_content(settings) is None


def test_a_failed_import_is_tried_again_at_the_next_start(
    settings: Settings, content_dir: Path
) -> None:
    _seed(content_dir)
    assert import_content(settings) is not None
    broken = content_dir / "broken.md"
    broken.write_text("# B\n### Q. \n\n", encoding="utf-8")
    report = import_content(settings)
    assert report is not None and not report.ok and not report.written
    again = import_content(settings)
    assert again is not None and not again.ok  # the errors are shown at every start
    broken.unlink()  # back to the folder the database holds: nothing to do
    assert import_content(settings) is None


def test_the_fingerprint_counts_every_file_but_git_and_bytecode(content_dir: Path) -> None:
    first = files_fingerprint(content_dir)
    for skipped in (".git/HEAD", "__pycache__/a.pyc", "sub/__pycache__/b.pyc", "sub/.git"):
        (content_dir / skipped).parent.mkdir(parents=True, exist_ok=True)
        (content_dir / skipped).write_text("x")
    assert files_fingerprint(content_dir) == first
    (content_dir / "sub" / "deep").mkdir()
    (content_dir / "sub" / "deep" / "c.md").write_text("# C\n")
    assert files_fingerprint(content_dir) != first


def test_a_code_change_changes_the_fingerprint(tmp_path: Path, content_dir: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    module = code / "parser.py"
    module.write_text("X = 1\n")
    first = files_fingerprint(content_dir, code_dir=code)
    assert files_fingerprint(content_dir, code_dir=code) == first
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 1_000_000))
    assert files_fingerprint(content_dir, code_dir=code) != first


def test_the_import_command_records_what_serve_then_skips(
    settings: Settings, content_dir: Path
) -> None:
    _seed(content_dir)
    assert run_import(settings, [content_dir]).written  # `interview-lab import`
    assert import_content(settings) is None


def test_the_answers_demos_read_are_parsed_once_and_never_stale(content_dir: Path) -> None:
    from app.content.answers import answers_text

    md = content_dir / "a.md"
    md.write_text("# A\n### Q. 一\n第一版答案\n", encoding="utf-8")
    assert answers_text(content_dir) == "第一版答案"
    assert answers_text(content_dir) == "第一版答案"  # from the cache: same bytes
    before = md.stat()
    md.write_text("# A\n### Q. 一\n第二版答案\n", encoding="utf-8")  # same size
    os.utime(md, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    assert answers_text(content_dir) == "第二版答案"


@pytest.mark.parametrize("warm_up", [True, False])
def test_a_serving_app_loads_its_other_routers_soon_after_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    """Served, the other routers load on the event loop shortly after the start, before
    anyone asks for those pages (so the second page does not pay for them); in tests
    (no warm-up) they wait for their first request."""
    import app.main as main

    monkeypatch.setattr(main, "ROUTES_WARM_UP_S", 0.05)
    application = main.create_app(
        Settings(data_dir=tmp_path, database_url=""), warm_up_routes=warm_up
    )
    ensure_schema(application.state.engine)
    with TestClient(application, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)):
        deadline = time.monotonic() + 30
        while warm_up and not gc.get_freeze_count() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        assert (not application.state.routes.pending) is warm_up
        # Settled, start-up's objects are frozen out of the collector's full passes.
        assert (gc.get_freeze_count() > 0) is warm_up
    gc.unfreeze()  # this test process keeps collecting them
