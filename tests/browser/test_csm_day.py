"""A CSM's day and a CS leader's review, in a real browser against a real server."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import Server, screenshot, sign_in, sign_out

pytestmark = pytest.mark.xdist_group("browser")


def _csm_with_tasks(server: Server) -> str:
    """A demo CSM who has open tasks (the demo runs the playbooks)."""
    from helix.platform import Platform
    from helix.playbooks.tasks import list_tasks

    with Platform.open(str(server.home)) as p, p.store.session() as s:
        for user in server.users:
            if user["role"] == "csm" and list_tasks(s, owner=user["email"], due="all"):
                return user["email"]
    raise AssertionError("no demo CSM has an open task")


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
