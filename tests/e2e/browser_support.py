"""A real browser for the dashboard tests: Debian's Chromium driven by Playwright (never Playwright's own download).

The tests skip, saying why, only when no Chromium can be found (`.ci/run` installs it with apt when missing).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT = 15_000
"""Milliseconds a test waits for what the page should show (generous: two shared cores)."""


def chromium_path() -> str | None:
    """Chromium's executable: `$CHROMIUM`, Debian's `/usr/bin/chromium`, or `chromium` on the PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def launch(playwright: Any) -> Any:
    """A headless Chromium from `playwright` (its sync API)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no Chromium found: install Debian's package (apt-get install chromium) or set CHROMIUM")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for a test module. Playwright's synchronous API holds an event loop while it runs, so it is
    stopped when the module ends, before tests that start event loops of their own."""
    if chromium_path() is None:
        pytest.skip("the browser tests need Chromium: apt-get install chromium (it could not be found)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser tests need the playwright package (uv sync installs it)")
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at 1280 x 800, failing the test on any script error it reports."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"the page reported script errors: {errors}"


def open_live(page: Any, url: str) -> None:
    """Go to `url` and wait until the page follows the event stream."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='yes'][data-live='open']", timeout=TIMEOUT)
