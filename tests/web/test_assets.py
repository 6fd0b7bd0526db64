"""Vendored front-end files (static/vendor/) and the offline /docs page: every URL in
``app.web.assets`` is a real, licensed, documented file, and /docs loads nothing from
outside the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from app.config import REPO_ROOT, Settings
from app.web import assets, docs
from tests.web.conftest import local_client

STATIC_DIR = REPO_ROOT / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
VENDOR_README = VENDOR_DIR / "README.md"
# "<npm name>-<version>", e.g. "htmx.org-2.0.11" or "swagger-ui-dist-5.35.0".
FOLDER_RE = re.compile(r"^(?P<name>.+)-(?P<version>\d+\.\d+\.\d+)$")


def static_file(url: str) -> Path:
    assert url.startswith(assets.STATIC_URL + "/"), url
    return STATIC_DIR / url.removeprefix(assets.STATIC_URL + "/")


def vendor_folders() -> list[Path]:
    return sorted(p for p in VENDOR_DIR.iterdir() if p.is_dir())


def local_urls(html: str) -> list[str]:
    """Every <script src> and <link href> on the page."""
    soup = BeautifulSoup(html, "html.parser")
    urls = [str(tag["src"]) for tag in soup.find_all("script", src=True)]
    urls += [str(tag["href"]) for tag in soup.find_all("link", href=True)]
    return urls


def docs_app() -> FastAPI:
    """What create_app does for /docs: no built-in docs, the router, /static mounted."""
    app = FastAPI(title="Docs check", docs_url=None, redoc_url=None)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# -- (a) the vendored files ------------------------------------------------------------


def test_asset_constants_are_listed() -> None:
    named = {
        value
        for key, value in vars(assets).items()
        if key.isupper() and isinstance(value, str) and key not in {"STATIC_URL", "VENDOR_URL"}
    }
    assert named == set(assets.ALL)


@pytest.mark.parametrize("url", assets.ALL)
def test_asset_file_exists_and_is_vendored(url: str) -> None:
    assert url.startswith(assets.VENDOR_URL + "/"), url
    path = static_file(url)
    assert path.is_file(), f"{url}: no file {path}"
    assert path.stat().st_size > 0, f"{url}: {path} is empty"
    folder = path.relative_to(VENDOR_DIR).parts[0]
    assert FOLDER_RE.match(folder), f"{url}: folder {folder!r} is not <name>-<version>"


def test_every_vendor_folder_is_licensed_and_documented() -> None:
    folders = vendor_folders()
    assert folders, "static/vendor/ has no packages"
    readme = VENDOR_README.read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("|")]
    for folder in folders:
        match = FOLDER_RE.match(folder.name)
        assert match, f"{folder.name} is not <name>-<version>"
        licenses = [p for p in folder.iterdir() if p.is_file() and p.name.startswith("LICENSE")]
        assert licenses, f"{folder.name} has no LICENSE file"
        assert all(p.stat().st_size > 0 for p in licenses)
        name, version = match["name"], match["version"]
        cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
        assert any(c[:2] == [name, version] for c in cells), (
            f"static/vendor/README.md has no table row for {name} {version}"
        )


def test_every_vendor_folder_is_used() -> None:
    used = {static_file(url).relative_to(VENDOR_DIR).parts[0] for url in assets.ALL}
    assert {p.name for p in vendor_folders()} == used


def test_vendor_tree_holds_no_package_leftovers() -> None:
    leftovers = [
        p.relative_to(VENDOR_DIR).as_posix()
        for p in VENDOR_DIR.rglob("*")
        if p.name in {"node_modules", "package.json", "package-lock.json"}
        or p.name.endswith((".tgz", ".map"))
    ]
    assert leftovers == []
    total = sum(p.stat().st_size for p in VENDOR_DIR.rglob("*") if p.is_file())
    assert total < 4 * 1024 * 1024, f"static/vendor/ is {total} bytes"


# -- (c) htmx is the 2.0 line -------------------------------------------------------------


def test_htmx_is_version_2_0() -> None:
    assert "/htmx.org-2.0." in assets.HTMX_JS
    # The minified build has no comment header; its version sits in the first object.
    head = static_file(assets.HTMX_JS).read_bytes()[:4096].decode("utf-8")
    match = re.search(r'version:"(\d+\.\d+\.\d+)"', head)
    assert match, "no version in the first 4 kB of htmx.min.js"
    assert match[1].startswith("2.0.")
    assert f"/htmx.org-{match[1]}/" in assets.HTMX_JS


# -- (b) /docs loads only local files ---------------------------------------------------


# What /docs loads: Swagger UI from static/vendor/, and our own theme and icon.
DOCS_URLS = {assets.SWAGGER_JS, assets.SWAGGER_CSS, docs.DOCS_CSS_URL, docs.FAVICON_URL}


def is_vendored_or_ours(url: str) -> bool:
    """A vendored file, or one of the app's own files at the top of static/."""
    if url.startswith(assets.VENDOR_URL + "/"):
        return True
    rest = url.removeprefix(assets.STATIC_URL + "/")
    return url.startswith(assets.STATIC_URL + "/") and "/" not in rest


def check_docs_page(client: TestClient, root_path: str = "") -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    urls = local_urls(html)
    assert set(urls) == {root_path + url for url in DOCS_URLS}
    for url in urls:
        assert url.startswith(root_path + "/static/"), url
        local = url.removeprefix(root_path)
        assert is_vendored_or_ours(local), url
        served = client.get(url)
        assert served.status_code == 200, url
        assert served.content == static_file(local).read_bytes(), url
        if local.endswith(".css") and not local.startswith(assets.VENDOR_URL):
            # Our stylesheet imports nothing and points at nothing outside the app.
            assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", served.text), url
    assert not re.search(r"https?://", html), "the /docs page names an outside URL"
    assert '"validatorUrl": null' in html
    assert client.get(docs.OAUTH2_REDIRECT_PATH).status_code == 200
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/docs" not in schema.json()["paths"]


def test_docs_page_uses_only_vendored_files() -> None:
    with TestClient(docs_app()) as client:
        check_docs_page(client)


def test_docs_page_honours_root_path_and_disabled_schema() -> None:
    with TestClient(docs_app(), root_path="/lab") as client:
        check_docs_page(client, root_path="/lab")
        html = client.get("/docs").text
    assert "'/lab/openapi.json'" in html
    assert 'href="/lab/"' in html  # the link back to the app

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(docs.router)
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404


def test_create_app_serves_offline_docs(settings: Settings) -> None:
    from app.main import create_app

    with local_client(create_app(settings)) as client:
        check_docs_page(client)
