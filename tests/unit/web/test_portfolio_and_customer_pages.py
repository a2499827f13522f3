"""The portfolio and Customer 360 pages over a small demo company: what they show equals
the warehouse, the CSV equals the API's list, forms respect roles, books and CSRF."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from helix.config import Settings
from helix.platform import Platform

from ...helpers import cli_json
from ..customer.demo import Demo, client, csrf_of, demo, login


@pytest.fixture(scope="module")
def d() -> Demo:
    return demo()


def _summary(d: Demo) -> Any:
    with Platform(Settings.load(d.home)) as p:
        s = p.warehouse.table("account_summary").to_pandas()
    return s[s.active == 1].set_index("account_id")


def _rows(html: str) -> list[str]:
    """The account ids of the portfolio table's rows, in order."""
    return re.findall(r'<td><a href="/accounts/([^"]+)"><strong>', html)


def test_portfolio_shows_accounts_by_arr_with_links(d: Demo) -> None:
    c = client(d)
    login(c, d.email("leader"), d.password)
    html = c.get("/accounts").text
    summary = _summary(d)
    top = summary.sort_values(["arr"], ascending=False).index[0]
    assert _rows(html)[0] == top
    assert f"${float(summary.arr[top]):,.0f}" in html
    assert summary.name[top] in html
    assert f"{len(summary):,} active accounts" in html
    assert 'href="/accounts.csv"' in html


def test_filter_red_and_sort_by_risk_match_the_api(d: Demo) -> None:
    c = client(d)
    login(c, d.email("admin"), d.password)
    for params in (
        {"color": "red"},
        {"sort": "risk"},
        {"view": "at_risk", "sort": "risk"},
        {"color": "yellow", "sort": "health"},
    ):
        html = c.get("/accounts", params=params).text
        api = {k: v for k, v in params.items() if k != "view"} | (
            {"at_risk": "true"} if params.get("view") == "at_risk" else {}
        )
        items = c.get("/api/v1/accounts", params=api | {"limit": 50}).json()["items"]
        assert _rows(html) == [r["account_id"] for r in items], params
    red = c.get("/accounts", params={"color": "red"}).text
    assert (
        "pill-green" not in red.split("<tbody>")[1] and "pill-yellow" not in red.split("<tbody>")[1]
    )


def test_csv_export_has_every_account_of_the_filter(d: Demo) -> None:
    c = client(d)
    login(c, d.email("admin"), d.password)
    for params in ({}, {"view": "at_risk", "sort": "risk"}, {"color": "yellow"}):
        r = c.get("/accounts.csv", params=params)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        api = {k: v for k, v in params.items() if k != "view"} | (
            {"at_risk": "true"} if params.get("view") == "at_risk" else {}
        )
        items = c.get("/api/v1/accounts", params=api | {"limit": 500}).json()["items"]
        assert [x["account_id"] for x in rows] == [x["account_id"] for x in items]
        for x, y in zip(rows, items, strict=True):
            assert float(x["arr"]) == y["arr"]
            assert x["health_color"] == (y["health_color"] or "")
            assert int(x["open_tasks"]) == y["open_tasks"]
            assert (float(x["churn_probability"]) if x["churn_probability"] else None) == y[
                "churn_probability"
            ]


def test_csv_and_page_of_a_csm_hold_their_book_only(d: Demo) -> None:
    summary = _summary(d)
    csm = next(e for e in d.csms() if (summary.owner_email.str.lower() == e).any())
    c = client(d)
    login(c, csm, d.password)
    rows = list(csv.DictReader(io.StringIO(c.get("/accounts.csv").text)))
    assert rows and {r["owner_email"].lower() for r in rows} == {csm}
    assert len(rows) == int((summary.owner_email.str.lower() == csm).sum())
    assert "Owner <select" not in c.get("/accounts").text  # no owner filter for a CSM


def test_customer_360_shows_the_warehouse_numbers(d: Demo) -> None:
    c = client(d)
    login(c, d.email("leader"), d.password)
    api = c.get("/api/v1/accounts", params={"sort": "risk", "limit": 1}).json()["items"][0]
    a = api["account_id"]
    html = c.get(f"/accounts/{a}").text
    detail = c.get(f"/api/v1/accounts/{a}").json()
    assert detail["name"] in html and f"${detail['arr']:,.0f}" in html
    assert f"{detail['health']['color']} · {detail['health']['score']:.0f}" in html
    assert f"{detail['churn']['probability'] * 100:.0f}%" in html
    assert detail["next_renewal"] in html
    for plan in detail["plans"]:
        assert plan in html
    people = c.get(f"/api/v1/accounts/{a}/contacts").json()["items"]
    for p in people:
        assert p["name"] in html
    assert 'data-chart="chart-health"' in html and 'data-chart="chart-usage"' in html
    assert "vega-embed" in html  # the chart scripts are loaded on this page
    subs = c.get(f"/api/v1/accounts/{a}/subscriptions").json()["items"]
    assert f"{subs[0]['mrr']:,.2f}" in html
    first = c.get(f"/api/v1/accounts/{a}/timeline", params={"limit": 30}).json()
    assert first["items"][0]["title"] in html.replace("&#34;", '"').replace("&#39;", "'")
    if first["next_cursor"]:  # the "Older" link loads the next page
        more = c.get(f"/accounts/{a}/timeline", params={"cursor": first["next_cursor"]}).text
        nxt = c.get(
            f"/api/v1/accounts/{a}/timeline", params={"limit": 30, "cursor": first["next_cursor"]}
        ).json()["items"]
        assert more.count('<li class="tl ') == len(nxt)


def _book(d: Demo) -> tuple[str, str, str]:
    summary = _summary(d)
    owners = summary.owner_email.str.lower()
    csm = next(e for e in d.csms() if (owners == e).any())
    return csm, summary.index[owners == csm][0], summary.index[owners != csm][0]


def test_note_form_roles_books_and_csrf(d: Demo) -> None:
    csm, mine, theirs = _book(d)
    c = client(d)
    login(c, csm, d.password)
    page = c.get(f"/accounts/{mine}")
    assert page.status_code == 200 and "Add note" in page.text
    token = csrf_of(page.text)
    r = c.post(
        f"/accounts/{mine}/notes",
        data={"text": "Spoke to the sponsor <b>today</b>", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/accounts/{mine}?message=")
    html = c.get(f"/accounts/{mine}").text
    assert "Spoke to the sponsor &lt;b&gt;today&lt;/b&gt;" in html  # escaped, shown
    assert c.get(f"/accounts/{theirs}").status_code == 404
    assert c.get("/accounts/no-such-account").status_code == 404
    assert c.post(f"/accounts/{theirs}/notes", data={"text": "x", "csrf": token}).status_code == 404
    assert (
        c.post(f"/accounts/{mine}/notes", data={"text": "x", "csrf": "forged"}).status_code == 403
    )
    viewer = client(d)
    login(viewer, d.email("viewer"), d.password)
    vpage = viewer.get(f"/accounts/{mine}").text
    assert "Add note" not in vpage and "Add goal" not in vpage
    r = viewer.post(f"/accounts/{mine}/notes", data={"text": "x", "csrf": csrf_of(vpage)})
    assert r.status_code == 403


def test_success_plan_forms_and_a_stale_form(d: Demo) -> None:
    csm, mine, _ = _book(d)
    c = client(d)
    login(c, csm, d.password)
    token = csrf_of(c.get(f"/accounts/{mine}").text)
    c.post(
        f"/accounts/{mine}/goals",
        data={"title": "Launch the API integration", "target_date": "2026-05-01", "csrf": token},
    )
    plan = c.get(f"/api/v1/accounts/{mine}/success-plan").json()
    goal = next(g for g in plan["goals"] if g["title"] == "Launch the API integration")
    c.post(
        f"/accounts/{mine}/goals/{goal['id']}/milestones",
        data={"title": "Sandbox keys issued", "due_date": "2026-03-01", "csrf": token},
    )
    plan = c.get(f"/api/v1/accounts/{mine}/success-plan").json()
    m = next(g for g in plan["goals"] if g["id"] == goal["id"])["milestones"][0]
    html = c.get(f"/accounts/{mine}").text
    assert "Launch the API integration" in html and "Sandbox keys issued" in html
    r = c.post(
        f"/accounts/{mine}/milestones/{m['id']}/done",
        data={"version": m["version"], "csrf": token},
        follow_redirects=False,
    )
    assert "Milestone+done" in r.headers["location"] or "Milestone%20done" in r.headers["location"]
    stale = c.post(
        f"/accounts/{mine}/milestones/{m['id']}/done",
        data={"version": m["version"], "csrf": token},
        follow_redirects=True,
    )
    assert "Someone changed the success plan meanwhile" in stale.text
    r = c.post(
        f"/accounts/{mine}/plan",
        data={"objective": "Grow", "version": plan["version"] - 1, "csrf": token},
        follow_redirects=True,
    )
    assert "Someone changed the success plan meanwhile" in r.text


def test_cli_notes_and_plans(d: Demo) -> None:
    _, mine, _ = _book(d)
    note = cli_json(d.home, "notes", "add", mine, "--text", "From the shell")
    listed = cli_json(d.home, "notes", "list", mine)
    assert listed[0]["id"] == note["id"] and listed[0]["body"] == "From the shell"
    edited = cli_json(
        d.home, "notes", "edit", str(note["id"]), "--text", "Edited", "--version", "1"
    )
    assert edited["version"] == 2
    plan = cli_json(
        d.home, "plans", "add-goal", mine, "--title", "Shell goal", "--target-date", "2026-04-01"
    )
    goal = next(g for g in plan["goals"] if g["title"] == "Shell goal")
    plan = cli_json(
        d.home, "plans", "add-milestone", str(goal["id"]), "--title", "Step", "--due", "2026-03-10"
    )
    ms = next(g for g in plan["goals"] if g["id"] == goal["id"])["milestones"][0]
    plan = cli_json(
        d.home, "plans", "complete", "milestone", str(ms["id"]), "--version", str(ms["version"])
    )
    assert (
        next(g for g in plan["goals"] if g["id"] == goal["id"])["milestones"][0]["status"] == "done"
    )
    from typer.testing import CliRunner

    from helix.cli.main import app

    r = CliRunner().invoke(
        app,
        [
            "--home",
            str(d.home),
            "notes",
            "edit",
            str(note["id"]),
            "--text",
            "stale",
            "--version",
            "1",
        ],
    )
    assert r.exit_code != 0 and "changed since you read it" in str(r.exception)
    r = CliRunner().invoke(app, ["--home", str(d.home), "notes", "list", "no-such-account"])
    assert r.exit_code != 0

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow


def test_health_drivers_in_words_even_with_a_missing_measure() -> None:
    from helix.web.customer import health_driver

    d = {"signal": "champion_present", "group": "relationship", "delta": -18.04,
         "points_from": 100.0, "points_to": 0.0}
    assert health_driver(d) == "champion present (relationship): -18.0 points, measure 100 → 0"
    # a measure without data on one side (the score redistributed its weight)
    gone = {**d, "points_from": None}
    assert health_driver(gone).endswith("measure missing → 0")
    assert health_driver({"signal": "nps", "group": "sentiment", "delta": None}) == (
        "nps (sentiment): moved"
    )


def test_every_customer_360_of_the_demo_renders(d: Demo) -> None:
    c = client(d)
    login(c, d.email("admin"), d.password)
    for account_id in _summary(d).index:
        assert c.get(f"/accounts/{account_id}").status_code == 200, account_id


def _page_rows(html: str) -> str:
    """The page without what differs between two renders (the CSRF token)."""
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


def test_pages_read_side_by_side_as_they_do_one_at_a_time(d: Demo) -> None:
    """A serving app (holding the warehouse) answers the portfolio and Customer 360
    pages concurrently, each request on its own cursor, with what it answers alone."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from helix.api.app import create_app

    app = create_app(Settings.load(d.home), hold_warehouse_s=30)
    with TestClient(app) as c:
        login(c, d.email("leader"), d.password)
        ids = list(_summary(d).index[:6])
        paths = ["/accounts?sort=risk", "/accounts?color=red", *[f"/accounts/{a}" for a in ids]]
        alone = {p: _page_rows(c.get(p).text) for p in paths}
        with ThreadPoolExecutor(max_workers=8) as pool:
            together = list(pool.map(lambda p: (p, c.get(p)), paths * 4))
        for path, response in together:
            assert response.status_code == 200, path
            assert _page_rows(response.text) == alone[path], path
        wh = app.state.platform.warehouse
        assert wh.concurrent_reads and len(wh._cursors) >= 2  # read on several cursors


def test_the_read_write_lock_shares_reads_and_excludes_writes() -> None:
    import threading
    import time

    from helix.api.lease import ReadWriteLock

    lock = ReadWriteLock()
    inside, most = 0, 0
    guard = threading.Lock()

    def reader() -> None:
        nonlocal inside, most
        with lock.shared():
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.2)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert not lock.acquire(timeout=0.01)  # readers inside: no writer
    for t in threads:
        t.join()
    assert most > 1  # the readers were inside together
    assert lock.acquire(timeout=1)
    done = threading.Event()

    def blocked_reader() -> None:
        with lock.shared():
            done.set()

    t = threading.Thread(target=blocked_reader)
    t.start()
    assert not done.wait(0.1)  # a writer inside: no reader
    lock.release()
    assert done.wait(2)
    t.join()


def test_one_read_of_the_events_gives_what_the_separate_reads_give(d: Demo) -> None:
    """The Customer 360 reads the weekly chart and the timeline's usage days in one
    query; both equal what `usage_weekly` and the timeline's own reads return."""
    from datetime import date

    from helix.customer import timeline, usage_summary, usage_weekly

    with Platform(Settings.load(d.home)) as p:
        wh = p.warehouse
        as_of = date.fromisoformat(str(_summary(d).as_of.iloc[0])[:10])
        checked = 0
        for account_id in _summary(d).index[:12]:
            got = usage_summary(wh, account_id, as_of, days=31)
            assert got.weeks == usage_weekly(wh, account_id, as_of)
            with p.store.session() as s:
                alone = timeline(wh, s, account_id, limit=30)
                given = timeline(wh, s, account_id, limit=30, usage=(got.days, got.types))
                # the first page may be all CS work (a year of replayed playbook tasks):
                # the usage days alone, too
                used = timeline(wh, s, account_id, limit=30, kinds={"usage"})
                used_given = timeline(wh, s, account_id, limit=30, kinds={"usage"},
                                      usage=(got.days, got.types))
            assert given == alone and used_given == used
            checked += bool(used["items"])
        assert checked >= 10  # the accounts had usage to compare


def test_the_portfolio_table_gives_the_live_join_rows(d: Demo, monkeypatch: Any) -> None:
    """`helix run` writes portfolio_accounts; the portfolio reads it while it is current
    and gives exactly the rows of the live join; a change to an input makes it join
    live again."""
    import helix.portfolio as portfolio

    with Platform(Settings.load(d.home)) as p:
        wh = p.warehouse
        assert portfolio._prejoined(wh)
        queries = [
            {"sort": "risk"}, {"sort": "arr"}, {"color": "red"}, {"at_risk": True},
            {"risk": "high", "sort": "health"}, {"owner_email": d.csms()[0]},
            {"sort": "renewal", "offset": 5, "limit": 7},
        ]  # fmt: skip
        first = portfolio.list_accounts(wh, sort="risk", limit=10)
        assert first.next_cursor
        queries.append({"sort": "risk", "limit": 10, "cursor": first.next_cursor})
        pre = [portfolio.list_accounts(wh, **q) for q in queries]
        monkeypatch.setattr(portfolio, "_prejoined", lambda wh: False)
        live = [portfolio.list_accounts(wh, **q) for q in queries]
        assert [asdict_page(x) for x in pre] == [asdict_page(x) for x in live]
        assert pre[0].items and pre[1].items and pre[-1].items
        monkeypatch.undo()
        wh.record_change("account_summary", note="test: an input changed")
        assert not portfolio._prejoined(wh)


def asdict_page(page: Any) -> Any:
    from dataclasses import asdict

    return asdict(page)


def test_the_header_health_is_the_latest_score_of_the_history(d: Demo) -> None:
    """health_latest holds each account's latest row of health_scores."""
    from helix.customer import customer_header, find_account

    with Platform(Settings.load(d.home)) as p:
        wh = p.warehouse
        hs = wh.table("health_scores").to_pandas()
        latest = hs.sort_values("score_date").groupby("account_id").tail(1).set_index("account_id")
        assert wh.count("health_latest") == len(latest)
        for account_id in list(latest.index[:10]):
            h = customer_header(wh, find_account(wh, account_id, None))["health"]
            row = latest.loc[account_id]
            assert h["score_date"] == row.score_date.isoformat()[:10]
            assert h["score"] == round(float(row.score), 1) and h["color"] == row.color
