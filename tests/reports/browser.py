"""Headless Chromium for the report tests, driven by Playwright (a maintained driver).

Playwright for Python (the ``[dev]`` extra, pinned in ``constraints.txt``) drives the system's
Chromium (Debian's ``chromium``, which ``.ci/run`` installs with apt): ``executable_path`` points
at it, so no browser is ever downloaded. The session fixture ``browser`` (``conftest.py``)
launches it once per test session; each test opens its own page with :func:`open_page`, which
records what the page logged, threw and asked the network for (and refuses every such request).

:func:`axe_violations` injects the vendored axe-core (``tests/assets/axe-core``, checked against
its SHA-256) into a page and runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE = Path(__file__).parents[1] / "assets" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (the public sector's duty), and axe's best practices
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice")
LOCAL = ("file:", "data:", "about:", "blob:")


def find_chromium() -> str | None:
    """The system's Chromium: ``$NEEDSKIT_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on the
    PATH, else ``/usr/bin/chromium``; None when there is none."""
    candidates = (
        os.environ.get("NEEDSKIT_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    )
    return next((p for p in candidates if p and os.path.exists(p)), None)


CHROMIUM = find_chromium()
NO_CHROMIUM = "no Chromium here (Debian: apt-get install chromium; .ci/run installs it for CI)"
NO_PLAYWRIGHT = "Playwright for Python is not installed (pip install -c constraints.txt -e '.[dev]')"


def browser_session() -> Iterator[Any]:
    """Launch the system Chromium once through Playwright; skips the test when either is missing."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(NO_PLAYWRIGHT)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--disable-gpu", "--disable-quic", "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page did: console errors and assertions, uncaught exceptions, network requests."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_page(browser: Any, path: Path, *, width: int = 1280, height: int = 900) -> tuple[Any, PageLog]:
    """``path`` (a local HTML file) in a new page of ``browser``, loaded; and its :class:`PageLog`.

    Every request that is not ``file:``, ``data:``, ``about:`` or ``blob:`` is recorded and
    aborted, so a report that would reach the network is seen, and never reaches it. Close the
    page's context (``page.context.close()``) when done.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    log = PageLog()

    def refuse(route: Any) -> None:
        log.requests.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(LOCAL), refuse)
    page = context.new_page()
    page.on("pageerror", lambda error: log.errors.append(f"exception: {error}"))
    page.on(
        "console",
        lambda message: (
            log.errors.append(f"console.{message.type}: {message.text}")
            if message.type in ("error", "assert")
            else None
        ),
    )
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, log


def axe_source() -> str:
    """The vendored ``axe.min.js``, after checking it is the recorded release."""
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core {AXE_VERSION} (sha256 {digest}); see its README"
    return data.decode("utf-8")


def axe_violations(
    page: Any, *, impacts: Sequence[str] = ("serious", "critical"), tags: Sequence[str] = AXE_TAGS
) -> list[dict]:
    """axe-core's violations on ``page`` of the given impacts: ``id``, ``impact``, ``help`` and the
    first offending elements (``targets``: CSS selector, the element's HTML, axe's summary)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                    resultTypes: ['violations']});
            return {version: axe.version, violations: result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                targets: v.nodes.slice(0, 5).map(n => [n.target.join(' '), n.html.slice(0, 200),
                                                        (n.failureSummary || '').slice(0, 300)])}))};
        }""",
        list(tags),
    )
    assert found["version"] == AXE_VERSION, found["version"]
    return [v for v in found["violations"] if v["impact"] in impacts]


def describe(violations: Sequence[dict]) -> str:
    """Violations as readable lines for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']} x{v['count']}: {v['help']}")
        lines += [f"    {target} :: {html} :: {summary}" for target, html, summary in v["targets"]]
    return "\n".join(lines)
