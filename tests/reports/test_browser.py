"""The HTML report in a real browser: headless Chromium, driven over the DevTools protocol.

Checks that the Leaflet map draws its polygons (SVG ``path.leaflet-interactive``), that the page
logs no console error and throws no exception, and that it asks the network for nothing. Needs
Debian's ``chromium`` (``.ci/run`` installs it); skipped with a message where there is none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = Path(__file__).parents[1] / "data" / "notebooks"
CHROMIUM = next(
    (
        p
        for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
        if p and os.path.exists(p)
    ),
    None,
)

websocket = pytest.importorskip(
    "websocket", reason="websocket-client (installed with jupyter_server) is needed to drive Chromium"
)


class DevTools:
    """A minimal Chrome DevTools Protocol client for one page."""

    def __init__(self, url: str) -> None:
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.socket.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def close(self) -> None:
        self.socket.close()


def _start_chromium(profile: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if active.exists() and len(active.read_text().splitlines()) >= 2:
            port = active.read_text().splitlines()[0].strip()
            return process, port
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail("Chromium did not open its DevTools port")


def _page_socket(port: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
        targets = json.loads(response.read())
    return next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory, shipped_store) -> Path:
    from needskit.reports import run_report

    out = tmp_path_factory.mktemp("browser-reports")
    result = run_report(
        NOTEBOOKS / "report_small.ipynb",
        area="E07000078",
        period="2025-H1",
        formats="html",
        out=out,
        store=shipped_store.path,
        project=shipped_store.root,
    )
    return result.files["html"]


def test_map_draws_offline_without_console_errors(report_html, tmp_path):
    if CHROMIUM is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium; .ci/run installs it for CI)")
    process, port = _start_chromium(tmp_path / "profile")
    try:
        page = DevTools(_page_socket(port))
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Page.navigate", url=report_html.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        paths = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # Leaflet draws after load; give it a moment
            paths = page.send(
                "Runtime.evaluate",
                expression="document.querySelectorAll('svg path.leaflet-interactive').length",
                returnByValue=True,
            )["result"]["value"]
            if paths >= 6:
                break
            time.sleep(0.2)
        legend = page.send(
            "Runtime.evaluate",
            expression="(document.querySelector('.needskit-legend') || {}).innerText || ''",
            returnByValue=True,
        )["result"]["value"]
        size = page.send(
            "Runtime.evaluate",
            expression="JSON.stringify(document.querySelector('.folium-map').getBoundingClientRect())",
            returnByValue=True,
        )["result"]["value"]
        page.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    assert paths == 6, f"expected the 6 district polygons as Leaflet SVG paths, found {paths}"
    assert "km\u00b2" in legend and "(2)" in legend
    box = json.loads(size)
    assert box["width"] > 300 and box["height"] >= 400
    errors = [
        e["params"]
        for e in page.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert"))
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")
    ]
    assert errors == [], errors
    requests = [
        e["params"]["request"]["url"]
        for e in page.events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith(("file:", "data:", "about:"))
    ]
    assert requests == [], f"the page asked the network for {requests}"
