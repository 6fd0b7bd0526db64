"""In a real browser with the content security policy on: every page works and breaks
no rule (the ``browser`` fixture fails a test on any CSP message in the console), and
no other site can frame a page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.e2e.conftest import Server

QUESTION = "/questions/llm-sft-2e76f170"
PAGES = (
    "/",
    "/questions",
    QUESTION,
    "/review",
    "/stats",
    "/quizzes",
    "/demos",
    "/demos/rank",
    "/claims",
    "/settings",
    "/data",
    "/interviews",
)

# Records what the policy refused, as the page sees it (beside the console).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def test_every_page_loads_under_the_policy(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 900, "height": 1000})
    page.add_init_script(WATCH)
    for path in PAGES:
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
        assert page.evaluate("window.__csp") == [], path
    # The stats charts are drawn by script (Chart.js from static/vendor).
    page.goto(server.url + "/stats")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas.stats-chart')]"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    assert page.evaluate("window.__csp") == []


def test_browse_filters_apply_on_pick(server: Server, browser: Any) -> None:
    """The facet select's script moved out of the page into static/browse.js."""
    page = browser.new_page(locale="en-US")
    page.goto(server.url + "/questions")
    select = page.locator("select[data-facet]").first
    facet = select.get_attribute("name")
    value = select.locator("option").nth(1).get_attribute("value")
    with page.expect_navigation():
        select.select_option(value)
    assert f"{facet}=" in page.url


def test_the_api_docs_run_their_script(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1200, "height": 1000})
    page.add_init_script(WATCH)
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body")
    assert page.evaluate("window.__csp") == []


def test_another_site_cannot_frame_a_page(server: Server, browser: Any) -> None:
    """A page on another port (another origin) frames /data: the browser shows nothing,
    so the form and its CSRF token stay out of reach."""
    html = f'<iframe id="f" src="{server.url}/data" width="600" height="400"></iframe>'
    with evil_site(html) as evil:
        # A page of its own context: the refusal logged there is the expected outcome.
        page = browser.new_context().new_page()
        page.goto(evil)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed, "no frame was created"
        for frame in framed:
            assert frame.query_selector("input[name=csrf_token]") is None, frame.url


@contextmanager
def evil_site(html: str) -> Iterator[str]:
    """Another origin: a plain HTTP server on another loopback port serving ``html``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
