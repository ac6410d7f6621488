"""The dashboard in a real browser (Debian's Chromium through Playwright) under its content security policy: what
an action did is said as the API answered it, and a token is kept only once the service has taken it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser_support import browser as browser  # pytest fixture
from tests.e2e.browser_support import open_live
from tests.e2e.browser_support import page as page  # pytest fixture
from tests.e2e.http_support import crisis, post, serve
from tests.e2e.service_support import FileClock, Services, assigned
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import clock as clock  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture

TOKEN = "hardening-dashboard-token"
TOKEN_KEY = "coordinator-token"


def green(task: str, clock: FileClock) -> dict[str, Any]:
    """A task assigned with a day to go: no crisis to acknowledge."""
    found: dict[str, Any] = json.loads(assigned(task, clock.moment, clock.moment + timedelta(days=1)))
    return found


def test_acking_a_task_with_no_open_crisis_says_why_nothing_was_recorded(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    assert post(f"{url}/api/v1/alerts", green("task-1", clock)).status_code == 202
    open_live(page, f"{url}/tasks/task-1")
    page.locator('form[data-action="ack"] input[name="by"]').fill("alice")
    page.get_by_role("button", name="Ack").click()
    expect(page.locator("#action-result")).to_have_text(
        "Nothing recorded: task-1 has no open crisis (it is at GREEN): nothing to acknowledge.")
    expect(page.locator("#task-ack")).not_to_contain_text("alice")


def test_a_wrong_token_is_never_kept_and_the_right_one_is_kept_once_the_service_took_it(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts, env={"COORDINATOR_HTTP__TOKEN": TOKEN})
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment), token=TOKEN)
    page.goto(f"{url}/login?next=%2Ftasks%2Ftask-1")
    page.get_by_label("Token").fill("not the token at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".problem")).to_have_text("That token is not right.")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/tasks/task-1")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == TOKEN
    page.wait_for_selector("body[data-live='open']")
    page.locator('form[data-action="ack"] input[name="by"]').fill("carol")
    page.get_by_role("button", name="Ack").click()
    expect(page.locator("#action-result")).to_have_text("Acknowledged by carol.")


def test_every_page_works_under_its_content_security_policy(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", [crisis("task-1", clock.moment), green("task-2", clock)])
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    for path in ("/", "/agents", "/tasks/task-1", "/crisis", "/health", "/rules", "/login"):
        answered = page.goto(f"{url}{path}")
        assert "frame-ancestors 'none'" in answered.headers["content-security-policy"], path
        page.wait_for_selector("body[data-ready='yes']")
    open_live(page, f"{url}/")
    post(f"{url}/api/v1/alerts", crisis("task-3", clock.moment + timedelta(minutes=1)))
    expect(page.locator('.cards[data-column="RED"] .card[data-task="task-3"]')).to_be_visible()
    assert refused == []
