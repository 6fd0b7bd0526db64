"""Only this machine, under this app's own name, may talk to the local mode; no other
site may frame or script the pages (app.web.security)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import free_port
from tests.web.conftest import LOCAL_URL, MakeClient, soup

REBIND = {"Host": "rebind.evil.example:8812", "Origin": "http://rebind.evil.example:8812"}


def test_a_dns_rebinding_page_reads_and_changes_nothing(client: TestClient) -> None:
    before = client.get("/api/settings").json()
    response = client.get("/api/export/data", headers=REBIND)
    assert response.status_code == 400
    assert response.json()["field"] == "host"
    assert "rebind.evil.example:8812" in response.json()["detail"]
    assert "user" not in response.text and "reviews" not in response.text
    changed = {**before, "new_per_day": before["new_per_day"] + 7}
    assert client.put("/api/settings", json=changed, headers=REBIND).status_code == 400
    assert client.get("/api/settings").json() == before
    for path in ("/", "/data", "/settings", "/questions", "/docs", "/openapi.json"):
        page = client.get(path, headers=REBIND)
        assert page.status_code == 400, path
        assert "csrf_token" not in page.text, path
    assert "rebind.evil.example" in client.get("/data", headers=REBIND).text


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:8812", "[::1]", "[::1]:9"]
)
def test_the_loopback_names_work_on_any_port(client: TestClient, host: str) -> None:
    assert client.get("/api/settings", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["", "127.0.0.1.evil.example", "localhost.evil.example", "[::1", "localhost:x", "10.0.0.5"],
)
def test_other_or_malformed_hosts_are_refused(client: TestClient, host: str) -> None:
    assert client.get("/", headers={"Host": host}).status_code == 400


def test_with_accounts_the_configured_hosts_are_trusted(
    settings: Settings, make_client: MakeClient
) -> None:
    make_client(accounts=True)  # imports the seed bank once
    app = create_app(
        settings.model_copy(
            update={"accounts": True, "trusted_hosts": "lab.example.com, *.corp.example"}
        )
    )
    with TestClient(app, base_url=LOCAL_URL, client=("203.0.113.9", 4000)) as remote:
        assert remote.get("/login", headers={"Host": "lab.example.com"}).status_code == 200
        assert remote.get("/login", headers={"Host": "a.b.corp.example:443"}).status_code == 200
        refused = remote.get("/api/questions", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert "IL_TRUSTED_HOSTS" in refused.json()["detail"]
        assert remote.get("/login", headers={"Host": "corp.example.evil"}).status_code == 400
    # The default list: the loopback names, so a fresh install with accounts still opens.
    default = make_client(accounts=True)
    assert default.get("/login").status_code == 200
    assert default.get("/login", headers={"Host": "evil.example"}).status_code == 400


def test_a_bad_trusted_hosts_entry_stops_the_app_naming_it(settings: Settings) -> None:
    bad = settings.model_copy(update={"accounts": True, "trusted_hosts": "https://lab.example/"})
    with pytest.raises(ValueError, match=r"IL_TRUSTED_HOSTS: 'https://lab.example/'"):
        create_app(bad)


@pytest.mark.parametrize("address", ["203.0.113.5", "192.168.1.20", "::ffff:10.0.0.1", "fe80::1"])
def test_local_mode_refuses_other_machines(settings: Settings, address: str) -> None:
    with TestClient(create_app(settings), base_url=LOCAL_URL, client=(address, 4000)) as remote:
        for path in ("/", "/api/export/data", "/static/app.css"):
            response = remote.get(path)
            assert response.status_code == 403, path
            assert address in response.text and "IL_ACCOUNTS=true" in response.text, path


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_local_mode_answers_this_machine(settings: Settings, address: str) -> None:
    with TestClient(create_app(settings), base_url=LOCAL_URL, client=(address, 1)) as client:
        assert client.get("/api/healthz").status_code == 200


def test_the_refusal_speaks_the_interface_language(make_client: MakeClient) -> None:
    client = make_client(language="zh")
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    text = response.text
    assert "evil.example" in text and re.search(r"[\u4e00-\u9fff]", text), text


def test_pages_refuse_framing_and_foreign_scripts(client: TestClient) -> None:
    nonces = set()
    for path in ("/", "/questions", "/data", "/api/settings", "/static/app.css", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        policy = dict(
            part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
        )
        assert policy["frame-ancestors"] == "'none'", path
        assert policy["default-src"] == "'self'", path
        assert policy["object-src"] == "'none'", path
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert "unsafe-eval" not in headers["content-security-policy"], path
        nonce = re.search(r"'nonce-([^']+)'", policy["script-src"])
        assert nonce is not None, path
        nonces.add(nonce.group(1))
    assert len(nonces) == 6  # a fresh nonce per response


def test_the_docs_page_scripts_carry_the_nonce(client: TestClient) -> None:
    response = client.get("/docs")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert nonce is not None
    scripts = soup(response).select("script")
    assert scripts and all(s.get("nonce") == nonce.group(1) for s in scripts)


def test_no_template_has_inline_script_style_or_handler() -> None:
    """The policy runs no inline script (except JSON data) and no inline style."""
    for path in sorted((REPO_ROOT / "templates").glob("*.html")):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for script in page.select("script"):
            assert script.get("src") or script.get("type") == "application/json", path.name
        assert not page.select("style"), path.name
        for tag in page.find_all(True):
            for attribute in tag.attrs:
                assert attribute != "style" and not attribute.startswith("on"), (path.name, tag)


def own_lan_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: picks a route, sends nothing
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@contextmanager
def plain_uvicorn(tmp_path: Path, host: str) -> Iterator[int]:
    """``uvicorn app.main:app`` as the README shows it, on a fresh data folder."""
    port = free_port()
    env = dict(os.environ, IL_DATA_DIR=str(tmp_path / "data"), IL_WORKERS="0")
    env.pop("DATABASE_URL", None)
    env.pop("IL_ACCOUNTS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", host, "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise AssertionError(proc.stdout.read() if proc.stdout else "") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_plain_uvicorn_on_a_fresh_data_folder_serves_and_guards(tmp_path: Path) -> None:
    """The documented ASGI entry migrates a fresh database and keeps the rules, even
    listening on every interface."""
    with plain_uvicorn(tmp_path, "0.0.0.0") as port:
        url = f"http://127.0.0.1:{port}"
        for path in ("/", "/questions", "/review", "/api/stats"):
            assert status_of(url + path) == 200, path
        assert status_of(url + "/", {"Host": "rebind.evil.example"}) == 400
        lan = own_lan_address()
        if lan is not None:  # another machine's view: the request comes from a LAN address
            assert status_of(f"http://{lan}:{port}/api/stats", {"Host": "localhost"}) == 403


def test_serve_stops_on_a_bad_trusted_hosts_entry(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_ACCOUNTS", "true")
    monkeypatch.setenv("IL_TRUSTED_HOSTS", "lab.example.com,https://lab.example.com/")
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli, ["serve", "--no-import"])
    assert result.exit_code == 2
    assert "IL_TRUSTED_HOSTS: 'https://lab.example.com/' is not a host name" in result.output
