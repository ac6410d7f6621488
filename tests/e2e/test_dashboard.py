"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real `coordinator run`."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from playwright.sync_api import expect

from tests.e2e.browser_support import browser as browser  # pytest fixture
from tests.e2e.browser_support import open_live
from tests.e2e.browser_support import page as page  # pytest fixture
from tests.e2e.http_support import crisis, post, serve
from tests.e2e.service_support import FileClock, Run, Services, notifications, stamp
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import clock as clock  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture
from tests.waiting import wait_for

TOKEN = "dashboard-token-for-tests"


def card(page: Any, column: str, task: str) -> Any:
    """The card of `task` in `column` (a level, or `done`)."""
    quoted = '"' + task.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return page.locator(f'.cards[data-column="{column}"] .card[data-task={quoted}]')


def stream_ids(url: str, after: str, quiet: float = 1.5) -> list[str]:
    """The ids of every event the stream sends after `after`, until it has been quiet for `quiet` seconds."""
    ids: list[str] = []
    timeout = httpx.Timeout(10.0, read=quiet)
    try:
        with httpx.stream("GET", f"{url}/api/v1/events/stream?after={after}", timeout=timeout) as response:
            for line in response.iter_lines():
                if line.startswith("id:"):
                    ids.append(line.removeprefix("id:").strip())
    except httpx.ReadTimeout:
        pass
    return ids


def test_the_board_shows_a_red_task_after_an_alert_is_posted(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment)).status_code == 202
    page.goto(f"{url}/")
    shown = card(page, "RED", "task-1")
    expect(shown).to_be_visible()
    expect(shown.locator(".badge")).to_have_text("RED")
    expect(shown.locator(".meta")).to_have_text(re.compile(r"^agent-1 · \d+s in RED · no deadline$"))
    expect(page.locator("#col-RED .count")).to_have_text("1")


def test_a_second_alert_moves_the_card_live_within_two_seconds(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment, level="yellow"))
    open_live(page, f"{url}/")
    expect(card(page, "YELLOW", "task-1")).to_be_visible()

    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment + timedelta(minutes=1))).status_code == 202
    expect(card(page, "RED", "task-1")).to_be_visible(timeout=2_000)
    expect(card(page, "YELLOW", "task-1")).to_have_count(0)
    expect(page.locator("#col-YELLOW .count")).to_have_text("0")
    expect(page.locator("#activity")).to_contain_text("task task-1: YELLOW → RED")


def test_the_task_page_timeline_and_history_match_task_show(
    services: Services, alerts: Path, clock: FileClock, coordinator: Run, page: Any,
) -> None:
    _, url = serve(services, alerts)
    for minutes, level in ((0, "yellow"), (5, "orange"), (9, "red")):
        post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment + timedelta(minutes=minutes), level=level))
    wait_for(lambda: len(notifications(services.home)) >= 4, "the notifications to be delivered")
    requested = [row for row in httpx.get(f"{url}/api/v1/notifications?limit=1000").json()
                 if row["key"].startswith("task:task-1#")]
    wait_for(lambda: all(row["status"] == "delivered" for row in httpx.get(
        f"{url}/api/v1/notifications?limit=1000").json()), "every notification to be delivered")
    shown = coordinator("task", "show", "task-1", "--json").json()
    page.goto(f"{url}/tasks/task-1")

    rows = page.locator("#history tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.at, r.dataset.from, r.dataset.to, r.dataset.emergency === 'true'])")
    assert rows == [[h["at"], h["from"], h["to"], h["emergency"]] for h in shown["history"]]
    assert len(rows) == 3
    segments = page.locator("#timeline-chart line.segment").evaluate_all(
        "lines => lines.map(l => [l.dataset.at, l.dataset.stage])")
    assert segments == [["", "GREEN"]] + [[h["at"], "EMERGENCY" if h["emergency"] else h["to"]]
                                          for h in shown["history"]]
    expect(page.locator('#timeline-chart .mark[data-kind="alert"]')).to_have_count(3)
    expect(page.locator('#timeline-chart .mark[data-kind="notification"]')).to_have_count(len(requested))
    expect(page.locator('#timeline-chart .mark[data-outcome="delivered"]')).to_have_count(len(requested))
    expect(page.locator("#task-level")).to_have_text("RED")
    expect(page.locator(".episodes tbody tr")).to_have_count(1)


def test_clicking_ack_records_the_acknowledgement(
    services: Services, alerts: Path, clock: FileClock, coordinator: Run, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    open_live(page, f"{url}/tasks/task-1")
    expect(page.locator("#task-ack")).to_have_text("no")
    page.locator('form[data-action="ack"] input[name="by"]').fill("alice")
    page.get_by_role("button", name="Ack").click()
    expect(page.locator("#action-result")).to_have_text("Acknowledged by alice.")
    shown = coordinator("task", "show", "task-1", "--json").json()
    assert shown["acknowledged_by"] == "alice"
    assert shown["acknowledged_at"] is not None
    expect(page.locator("#task-ack")).to_contain_text("by alice")
    page.goto(f"{url}/")
    expect(card(page, "RED", "task-1").locator(".ack")).to_have_text("✓ acknowledged by alice")


def test_clicking_resolve_with_a_note_closes_the_task_and_the_board_lists_it_as_done_today(
    services: Services, alerts: Path, clock: FileClock, coordinator: Run, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    page.goto(f"{url}/tasks/task-1")
    page.locator('form[data-action="resolve"] input[name="by"]').fill("bob")
    page.locator('form[data-action="resolve"] input[name="note"]').fill("fixed by hand")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#action-result")).to_have_text("Resolved by bob.")
    shown = coordinator("task", "show", "task-1", "--json").json()
    assert (shown["status"], shown["level"]) == ("completed", "GREEN")
    expect(page.locator("#task-status")).to_have_text("completed")
    page.goto(f"{url}/")
    expect(card(page, "RED", "task-1")).to_have_count(0)
    page.get_by_text("Done today").click()
    expect(card(page, "done", "task-1")).to_be_visible()


def test_untrusted_text_renders_as_text_and_never_runs(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    task = '<img src=x onerror="window.__pwned=1">'
    script = "<script>window.__pwned=2</script>"
    open_live(page, f"{url}/")
    alert = {**crisis(task, clock.moment), "description": script, "agent_id": "<b>agent</b>"}
    assert post(f"{url}/api/v1/alerts", alert).status_code == 202
    shown = card(page, "RED", task)
    expect(shown.locator(".title")).to_have_text(task)
    expect(shown.locator(".meta")).to_contain_text("<b>agent</b> · ")
    expect(page.locator("#activity")).to_contain_text(script)

    page.goto(f"{url}/tasks/{quote(task, safe='')}")
    expect(page.locator("h1")).to_have_text(f"Task {task}")
    page.get_by_text("The timeline as a table").click()
    expect(page.locator("#timeline-table")).to_contain_text(f"COORDINATION_CRISIS: {script}")
    page.goto(f"{url}/crisis")
    expect(page.locator(".episodes")).to_contain_text(task)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img, b").count() == 0
    assert page.locator("script").evaluate_all("scripts => scripts.map(s => s.getAttribute('src'))") == [
        "/static/live.js"]
    page.goto(f"{url}/")
    expect(card(page, "RED", task)).to_be_visible()
    assert page.locator("script:not([type='application/json'])").evaluate_all(
        "scripts => scripts.map(s => s.getAttribute('src'))") == ["/static/live.js"]
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".board img, .board b").count() == 0


def test_after_a_dropped_connection_the_page_resumes_from_the_last_event_seen(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment, level="orange"))
    open_live(page, f"{url}/")
    start = page.locator("body").get_attribute("data-position")
    page.evaluate("window.dashboard.stream.drop()")
    post(f"{url}/api/v1/alerts", crisis("task-2", clock.moment))
    expect(card(page, "RED", "task-2")).to_be_visible()
    page.wait_for_selector("body[data-live='open']")
    page.evaluate("window.dashboard.stream.drop()")
    post(f"{url}/api/v1/alerts", crisis("task-3", clock.moment))
    expect(card(page, "RED", "task-3")).to_be_visible()
    wait_for(lambda: len(notifications(services.home)) >= 6, "every notification to be delivered")

    sent = stream_ids(url, str(start))
    expect(page.locator("body")).to_have_attribute("data-last-event", sent[-1])
    shown = page.locator("#activity li").evaluate_all("items => items.map(i => i.dataset.id)")
    assert list(reversed(shown)) == sent, "the page shows every event once, in order"
    expect(card(page, "ORANGE", "task-1")).to_be_visible()


def test_with_protected_reads_the_browser_signs_in_with_the_token_then_follows_and_acts(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts, env={"COORDINATOR_HTTP__TOKEN": TOKEN, "COORDINATOR_HTTP__PROTECT_READS": "true"})
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment, level="orange"), token=TOKEN)
    assert httpx.get(f"{url}/", follow_redirects=False).status_code == 303
    assert httpx.post(f"{url}/fragments/cards", json={"ids": ["task-1"]}).status_code == 401
    page.goto(f"{url}/tasks/task-1")
    expect(page).to_have_url(f"{url}/login?next=%2Ftasks%2Ftask-1")
    page.get_by_label("Token").fill("not the token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".problem")).to_have_text("That token is not right.")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/tasks/task-1")
    page.wait_for_selector("body[data-live='open']")
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment + timedelta(minutes=1)), token=TOKEN)
    expect(page.locator("#task-level")).to_have_text("RED")
    page.locator('form[data-action="ack"] input[name="by"]').fill("carol")
    page.get_by_role("button", name="Ack").click()
    expect(page.locator("#action-result")).to_have_text("Acknowledged by carol.")
    expect(page.locator("#task-ack")).to_contain_text("by carol")


def test_the_rules_page_draws_every_transition_the_rulebook_holds(
    services: Services, alerts: Path, page: Any,
) -> None:
    from domain.rulebook import RULEBOOK

    _, url = serve(services, alerts)
    page.goto(f"{url}/rules")
    drawn = page.locator(".machine path.arc").evaluate_all(
        "arcs => arcs.map(a => [a.dataset.trigger, a.dataset.source, a.dataset.dest])")
    held = [[trigger, source, t.dest] for trigger, event in RULEBOOK.events.items()
            for source, transitions in event.transitions.items() for t in transitions]
    assert sorted(drawn) == sorted(held)
    states = page.locator(".machine .state").evaluate_all("nodes => nodes.map(n => n.dataset.state)")
    assert states == list(RULEBOOK.states)


def test_the_crisis_log_filters_by_time_and_exports_the_seed_lines_and_health_shows_the_indicators(
    services: Services, alerts: Path, clock: FileClock, coordinator: Run, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    post(f"{url}/api/v1/alerts", crisis("task-2", clock.moment + timedelta(hours=2)))
    page.goto(f"{url}/crisis")
    expect(page.locator(".episodes tbody tr")).to_have_count(2)
    since = stamp(clock.moment + timedelta(hours=1)).removesuffix("Z")
    page.get_by_label("From").fill(since)
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".episodes tbody tr")).to_have_count(1)
    expect(page.locator(".episodes tbody tr")).to_contain_text("task-2")
    with page.expect_download() as download:
        page.get_by_text("Export coordination_crisis_log.json").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported == coordinator("export", "crisis-log").out

    page.goto(f"{url}/health")
    status = httpx.get(f"{url}/api/v1/status").json()
    expect(page.locator(".indicators")).to_contain_text(f"Events processed{status['events_processed']:,}")
    expect(page.get_by_role("heading", name="Response time against the SLA")).to_be_visible()


def test_the_board_is_keyboard_reachable_and_fits_a_phone(
    services: Services, alerts: Path, clock: FileClock, page: Any,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("a-task-with-a-rather-long-identifier-" * 3, clock.moment))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.card') !== null"):
            break
    assert page.evaluate("document.activeElement.closest('.card')?.dataset.task") is not None
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
