"""A CSM's day and a CS leader's review, in a real browser against a real server."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import Server, screenshot, sign_in, sign_out

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


def _csm_with_tasks(server: Server) -> str:
    """A demo CSM who has open tasks (the demo runs the playbooks)."""
    from helix.platform import Platform
    from helix.playbooks.tasks import list_tasks

    with Platform.open(str(server.home)) as p, p.store.session() as s:
        for user in server.users:
            if user["role"] == "csm" and list_tasks(s, owner=user["email"], due="all"):
                return user["email"]
    raise AssertionError("no demo CSM has an open task")


def _csm_with_unhealthy_accounts(server: Server) -> tuple[str, str]:
    """A demo CSM whose book holds a red account on the last scored day (else a yellow
    one: a small demo company may have no red account at all), and that colour."""
    from helix.platform import Platform
    from helix.portfolio import list_accounts

    with Platform.open(str(server.home)) as p:
        for color in ("red", "yellow"):
            for user in server.users:
                if user["role"] == "csm" and list_accounts(
                    p.warehouse, owner_email=user["email"], color=color
                ).total:
                    return user["email"], color
    raise AssertionError("no demo CSM has a red or yellow account")


def test_a_csm_completes_a_task_and_signs_out(server: Server, page: Any) -> None:
    email = _csm_with_tasks(server)
    sign_in(page, server, email)
    screenshot(page, "portfolio")
    page.get_by_role("link", name="Tasks").click()
    page.get_by_role("link", name="All open").click()
    rows = page.locator("table.grid tbody tr")
    before = rows.count()
    assert before > 0
    first = rows.first
    first.get_by_label(re.compile("Outcome for task")).fill("Called the champion; adoption plan agreed")
    screenshot(page, "tasks")
    first.get_by_role("button", name="Done").click()
    page.get_by_role("status").wait_for()
    assert "done" in page.get_by_role("status").inner_text().lower()
    assert page.locator("table.grid tbody tr").count() == before - 1
    sign_out(page, server)
    page.goto(f"{server.url}/tasks")
    assert page.url.endswith("/login")


def test_a_csm_filters_to_red_accounts_opens_a_customer_360_and_adds_a_note(
    server: Server, page: Any
) -> None:
    email, color = _csm_with_unhealthy_accounts(server)
    sign_in(page, server, email)
    page.locator("select[name=color]").select_option(color)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(f".*color={color}.*"))
    rows = page.locator("table.portfolio tbody tr")
    health = rows.locator("td:nth-child(4)").all_inner_texts()
    assert health and all(h.startswith(color) for h in health), health
    link = rows.first.locator("a").first
    name = link.inner_text()
    link.click()
    page.get_by_role("heading", level=1).wait_for()
    assert name in page.get_by_role("heading", level=1).inner_text()
    page.locator("#chart-health svg").wait_for()  # the vendored Vega-Lite drew the history
    screenshot(page, "customer-360")
    page.get_by_label("Add a note").fill("QBR booked for next Tuesday")
    page.get_by_role("button", name="Add note").click()
    page.locator("#notes").get_by_text("QBR booked for next Tuesday").wait_for()


def test_a_leader_reviews_renewals_and_metrics_and_accepts_a_health_proposal(
    server: Server, page: Any
) -> None:
    sign_in(page, server, server.email("leader"))
    page.get_by_role("link", name="Renewals").click()
    page.get_by_role("heading", level=1).wait_for()
    screenshot(page, "renewals")
    page.get_by_role("link", name="Metrics").click()
    page.locator("svg.marks >> visible=true").first.wait_for()
    screenshot(page, "metrics")
    page.get_by_role("link", name="Health").click()
    page.get_by_role("button", name=re.compile("Compute (a proposal|again)")).click()
    page.locator("#accept-proposal").wait_for(timeout=120_000)
    screenshot(page, "health")
    page.locator("#accept-proposal").click()
    page.get_by_text(re.compile("Accepted .* by")).wait_for()
    sign_out(page, server)


def test_a_viewer_reads_but_cannot_edit(server: Server, page: Any) -> None:
    sign_in(page, server, server.email("viewer"))
    page.get_by_role("link", name="Tasks").click()
    assert page.locator("form[action$='/close']").count() == 0
    # and the server refuses the form even when it is posted by hand
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    html = page.content()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    r = httpx.post(f"{server.url}/tasks/1/close", cookies=cookies, follow_redirects=False,
                   data={"csrf": csrf, "status": "done", "outcome": "x"})
    assert r.status_code == 403
