"""From a tap on "Good" to the next card's question on screen, on a phone-sized page.

The review page's script brings the next card in without a page load (``static/review.js``:
the rating is posted with ``fetch`` and the review section swapped). This bench measures
what a user feels, against the plain form post and page load the page falls back to, in
one run: one server (a generated bank of new cards, demo workers off), Chromium at
390 × 844 with touch, the two ways taking turns card by card, each first with the CPU at
full speed and then slowed 4× (CDP ``Emulation.setCPUThrottlingRate``, a phone stand-in).
The time is the tap's to the new question's element timing (its first paint).

    .venv/bin/python bench/review_tap_bench.py            # 24 cards per way and speed
    .venv/bin/python bench/review_tap_bench.py --cards 8  # quicker

Needs Chromium (``/usr/bin/chromium``) and Playwright's Python package (the test extras).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from import_bench import generate  # noqa: E402
from review_bench import free_socket  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the brief's flags)

# Logs each tap on a rating and each first paint of a question (element timing), in
# sessionStorage, so the log survives the page load of the plain way.
TIMING = r"""
(() => {
  const question = "#card h1.front";
  const mark = (n) => {
    if (n.matches && n.matches(question)) n.setAttribute("elementtiming", "q");
  };
  const added = (records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      mark(n);
      n.querySelectorAll(question).forEach(mark);
    }
  };
  new MutationObserver(added).observe(document, { childList: true, subtree: true });
  const log = (key, value) => {
    const all = JSON.parse(sessionStorage.getItem(key) || "[]");
    all.push(value);
    sessionStorage.setItem(key, JSON.stringify(all));
  };
  const painted = (list) => {
    for (const e of list.getEntries()) {
      if (e.identifier !== "q") continue;
      const card = document.querySelector("#card");
      log("paints", { t: performance.timeOrigin + (e.renderTime || e.loadTime),
                      q: card && card.dataset.question });
    }
  };
  new PerformanceObserver(painted).observe({ type: "element", buffered: true });
  const tapped = (e) => {
    if (e.target.closest("#ratings .rate")) log("taps", performance.timeOrigin + performance.now());
  };
  document.addEventListener("click", tapped, true);
})();
"""

# The plain way: the tap posts the form as the page does without its script.
PLAIN = r"""
document.addEventListener('click', (e) => {
  const b = e.target.closest('#ratings .rate');
  if (!b) return;
  e.preventDefault(); e.stopImmediatePropagation();
  const i = document.createElement('input');
  i.type = 'hidden'; i.name = b.name; i.value = b.value; b.form.append(i);
  HTMLFormElement.prototype.submit.call(b.form);
}, true);
"""


def serve(data_dir: Path, content_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = os.environ | {
        "IL_DATA_DIR": str(data_dir),
        "IL_CONTENT_DIR": str(content_dir),
        "IL_PORT": str(port),
        "IL_WORKERS": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/api/settings", timeout=1)  # noqa: S310
            return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def allow_new_cards(url: str, per_day: int) -> None:
    request = urllib.request.Request(  # noqa: S310
        url + "/api/settings",
        data=json.dumps({"new_per_day": per_day}).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    urllib.request.urlopen(request, timeout=10)  # noqa: S310


def tap_to_paint(page: Any, plain: bool) -> float:
    """Reveal, read a moment, tap Good; the milliseconds to the next question's paint."""
    page.evaluate("window.__kept = 1")
    if plain:
        page.evaluate(PLAIN)
    page.locator("#reveal").tap()
    page.evaluate("window.scrollTo(0, 400)")
    page.wait_for_timeout(150)
    shown = page.locator("#card").get_attribute("data-question")
    page.locator("#ratings .rate-3").tap()
    page.wait_for_function(
        "q => document.querySelector('#card')?.dataset.question !== q"
        " && JSON.parse(sessionStorage.getItem('paints') || '[]').some(p => p.q && p.q !== q)",
        arg=shown,
    )
    page.wait_for_timeout(100)
    if plain == bool(page.evaluate("window.__kept === 1")):
        raise SystemExit("the way taken is not the one asked for (page load or swap)")
    taps = json.loads(page.evaluate("sessionStorage.getItem('taps')"))
    paints = json.loads(page.evaluate("sessionStorage.getItem('paints')"))
    paint = next(p for p in paints if p["q"] and p["q"] != shown and p["t"] > taps[-1])
    return float(paint["t"] - taps[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=24, help="cards per way and CPU speed")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="review-tap-") as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        generate(content, total=4 * args.cards + 20, per_file=50)
        server, url = serve(Path(tmp) / "data", content)
        try:
            allow_new_cards(url, 9999)
            times: dict[tuple[float, str], list[float]] = {}
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                for rate in (1.0, 4.0):
                    context = browser.new_context(
                        viewport={"width": 390, "height": 844},
                        is_mobile=True,
                        has_touch=True,
                        device_scale_factor=2,
                        locale="en-US",
                    )
                    context.add_init_script(TIMING)
                    page = context.new_page()
                    page.goto(url + "/review")
                    cdp = context.new_cdp_session(page)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                    for i in range(2 * args.cards):
                        way = "page load" if i % 2 else "swap"
                        ms = tap_to_paint(page, plain=way == "page load")
                        times.setdefault((rate, way), []).append(ms)
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} after")
    print("tap on Good -> next question painted (median, p90; ms)")
    for rate in (1.0, 4.0):
        label = "CPU at full speed" if rate == 1 else f"CPU slowed {rate:g}x"
        row = {way: times[(rate, way)] for way in ("page load", "swap")}
        med = {way: statistics.median(v) for way, v in row.items()}
        p90 = {way: statistics.quantiles(v, n=10)[-1] for way, v in row.items()}
        print(
            f"  {label:18}  page load {med['page load']:6.0f} ({p90['page load']:.0f})"
            f"   swap {med['swap']:6.0f} ({p90['swap']:.0f})"
            f"   swap / page load {med['swap'] / med['page load']:.2f}"
        )


if __name__ == "__main__":
    main()
