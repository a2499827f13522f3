"""Renewals, Metrics and Health pages: who may see and change what, and that each page
shows the numbers the CLI and the library compute."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from helix.health.active import active_model
from helix.health.service import run_backtest, run_fit
from helix.predict.service import forecast_renewals
from helix.store import Scope
from helix.store.models import RenewalOverride

from ...helpers import cli_json
from .conftest import ADMIN, END, LEADER, VIEWER, Company, login

PAGES = ["/renewals", "/metrics", "/health", "/health/backtest"]


def _chart(page: str, element: str) -> dict[str, Any]:
    found = re.search(
        rf'<script type="application/json" data-chart="{element}">(.*?)</script>', page, re.S
    )
    assert found, f"no chart {element}"
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_callers_are_sent_to_the_login(company: Company, path: str) -> None:
    login(company.client, None)
    r = company.client.get(path, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")


@pytest.mark.parametrize("path", PAGES)
def test_every_role_reads_the_leader_pages(company: Company, path: str) -> None:
    for email in (ADMIN, LEADER, company.csm, VIEWER):
        login(company.client, email)
        assert company.client.get(path).status_code == 200, (email, path)


# -- renewals ---------------------------------------------------------------------------


def _forecast(company: Company, owner: str | None) -> dict[str, Any]:
    from helix.metrics.periods import add_months

    p = company.platform()
    try:
        return forecast_renewals(p, END, add_months(END, 9), owner=owner)
    finally:
        p.release_warehouse()


def test_renewals_show_the_forecast_and_its_weighted_total(company: Company) -> None:
    login(company.client, LEADER)
    page = company.client.get("/renewals").text
    doc = _forecast(company, None)
    assert doc["renewals"] > 5
    total = re.search(r'id="weighted-total">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert total == f"{doc['expected_arr']:,.0f}"
    for name, b in doc["buckets"].items():
        row = re.search(rf'<tr data-bucket="{name}">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
        assert f'<td class="num">{b["renewals"]}</td>' in row
        assert f"{b['expected_arr']:,.0f}" in row
    for item in doc["items"]:
        assert f'href="/accounts/{item["account_id"]}"' in page
    chart = _chart(page, "renewals-chart")
    assert round(sum(v["arr"] for v in chart["data"]["values"]), 0) == round(doc["arr"], 0)


def test_a_csm_sees_the_renewals_of_their_book_only(company: Company) -> None:
    login(company.client, company.csm)
    page = company.client.get("/renewals").text
    mine, everyone = _forecast(company, company.csm), _forecast(company, None)
    assert 0 < mine["renewals"] < everyone["renewals"]
    table = page.split('id="renewals"', 1)[1]
    shown = set(re.findall(r'href="/accounts/([^"]+)"', table))
    assert shown == {i["account_id"] for i in mine["items"]}


def _override(company: Company, csrf: str, item: dict[str, Any], reason: str) -> Any:
    return company.client.post(
        "/renewals/override",
        data={
            "account_id": item["account_id"],
            "renewal_date": item["renewal_date"],
            "bucket": "critical",
            "reason": reason,
            "csrf": csrf,
        },
        follow_redirects=False,
    )


def test_overrides_need_a_reason_and_respect_the_book(company: Company) -> None:
    mine = _forecast(company, company.csm)["items"][0]
    other = next(
        i
        for i in _forecast(company, None)["items"]
        if (i["owner_email"] or "").lower() != company.csm
    )
    csrf = login(company.client, VIEWER)
    assert _override(company, csrf, mine, "no").status_code == 403
    csrf = login(company.client, company.csm)
    assert _override(company, csrf, other, "not mine").status_code == 403
    assert _override(company, "forged", mine, "forged").status_code == 403
    empty = company.client.post(
        "/renewals/override",
        data={
            "account_id": mine["account_id"],
            "renewal_date": mine["renewal_date"],
            "bucket": "critical",
            "reason": "",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert empty.status_code == 422
    r = _override(company, csrf, mine, "champion left in March")
    assert r.status_code == 303 and r.headers["location"].startswith("/renewals?message=")
    page = company.client.get("/renewals").text
    assert "champion left in March" in page
    assert (
        next(i for i in _forecast(company, None)["items"] if i["account_id"] == mine["account_id"])[
            "bucket"
        ]
        == "critical"
    )
    csrf = login(company.client, LEADER)
    assert _override(company, csrf, other, "leader call").status_code == 303
    with company.platform().store.session() as s:
        rows = s.query(RenewalOverride).filter_by(reason="leader call").all()
        assert [(r.account_id, r.actor) for r in rows] == [(other["account_id"], LEADER)]


# -- metrics ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"series": "monthly", "from": "2024-03-01", "to": "2025-02-01"},
        {"series": "quarterly", "from": "2024-01-01", "to": "2024-12-31", "segment": "smb"},
    ],
)
def test_metrics_equal_the_cli(company: Company, query: dict[str, str]) -> None:
    login(company.client, VIEWER)
    page = company.client.get("/metrics", params=query).text
    args = [
        "metrics",
        "retention",
        "--series",
        query["series"],
        "--from",
        query["from"],
        "--to",
        query["to"],
    ] + (["--segment", query["segment"]] if "segment" in query else [])
    cli = cli_json(company.home, *args)
    assert len(cli["windows"]) >= 4
    rows = dict(re.findall(r'<tr data-period="([^"]+)">(.*?)</tr>', page, re.S))
    assert list(rows) == [w["period"] for w in cli["windows"]]
    lines = _chart(page, "retention-chart")["layer"][1]["data"]["values"]
    for w in cli["windows"]:
        row = rows[w["period"]]
        for key in ("nrr", "grr"):
            shown = re.search(rf'data-{key}="([^"]+)"', row).group(1)  # type: ignore[union-attr]
            assert (None if shown == "None" else float(shown)) == w[key], (w["period"], key)
        assert f"{w['start_mrr']:,.2f}" in row and f"{w['end_mrr']:,.2f}" in row
        assert f'<td class="num">{w["accounts_start"]}</td>' in row
        charted = {v["measure"]: v["value"] for v in lines if v["period"] == w["period"]}
        assert charted == {"NRR": w["nrr"], "GRR": w["grr"], "logo retention": w["logo_retention"]}
    composition = _chart(page, "composition-chart")["data"]["values"]
    for w in cli["windows"]:
        got = {v["kind"]: v["mrr"] for v in composition if v["period"] == w["period"]}
        assert got["churn: voluntary"] == -w["churn_by_type"]["voluntary"]
        assert got["downgrade"] == -w["churn_by_type"]["downgrade"]
        assert got["expansion: seats"] == w["expansion_by_type"]["seats"]


def test_metrics_show_cohorts_and_benchmark_bands(company: Company) -> None:
    login(company.client, VIEWER)
    page = company.client.get(
        "/metrics", params={"cohort_by": "quarter", "cohort_measure": "nrr"}
    ).text
    cli = cli_json(
        company.home,
        "metrics",
        "cohorts",
        "--by",
        "quarter",
        "--measure",
        "nrr",
        "--as-of",
        END.isoformat(),
    )
    cells = _chart(page, "cohort-chart")["data"]["values"]
    expected = [
        (r["cohort"], k, v) for r in cli["rows"] for k, v in enumerate(r["values"]) if v is not None
    ]
    assert [(c["cohort"], c["month"], c["value"]) for c in cells] == expected
    assert "best in class" in html.unescape(page).replace("_", " ")
    bench = page.split('id="benchmarks"', 1)[1]
    assert "grr" in bench and "nrr" in bench


def test_a_bad_range_is_a_message_not_a_crash(company: Company) -> None:
    login(company.client, VIEWER)
    r = company.client.get("/metrics", params={"from": "2025-01-01", "to": "2024-01-01"})
    assert r.status_code == 400 and 'role="alert"' in r.text


# -- health -----------------------------------------------------------------------------


def test_the_health_page_shows_the_model_and_the_backtest(company: Company) -> None:
    login(company.client, VIEWER)
    page = company.client.get("/health").text
    model = active_model(company.platform().store)
    assert f'id="model-version">{model.version_id}<' in page
    for _, m in model.measures():
        assert m.signal in page
    assert 'hx-get="/health/backtest?horizon_days=90"' in page and "Computing" in page
    assert 'id="accept-proposal"' not in page and 'action="/health/proposal"' not in page
    panel = company.client.get("/health/backtest").text
    p = company.platform()
    try:
        expected = run_backtest(p, 90).to_dict()
    finally:
        p.release_warehouse()
    assert f'id="backtest-auc">{expected["auc"]}<' in panel
    bars = _chart(panel, "backtest-chart")["hconcat"][0]["data"]["values"]
    assert {b["label"]: b["rate"] for b in bars} == expected["churn_rate_by_color"]


def test_only_leaders_and_admins_compute_and_accept_weights(company: Company) -> None:
    for email in (VIEWER, company.csm):
        csrf = login(company.client, email)
        for path in ("/health/proposal", "/health/proposal/accept"):
            r = company.client.post(path, data={"csrf": csrf}, follow_redirects=False)
            assert r.status_code == 403, (email, path)
        for path in ("/api/v1/health/proposal", "/api/v1/health/proposal/accept"):
            assert company.client.post(path).status_code == 403, (email, path)
    login(company.client, None)
    assert company.client.post("/api/v1/health/proposal/accept").status_code == 401


def test_accepting_the_proposal_makes_a_new_model_version(company: Company) -> None:
    p = company.platform()
    before = active_model(p.store)
    try:
        fitted = run_fit(p, 90)[0].proposed  # what `helix health fit --accept` would activate
        changes = p.warehouse.table_versions().get("health_model", 0)
    finally:
        p.release_warehouse()
    csrf = login(company.client, LEADER)
    r = company.client.post(
        "/health/proposal",
        data={"csrf": csrf, "horizon_days": "90", "target": "churn"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = company.client.get("/health").text
    assert 'id="accept-proposal"' in page and "Proposed weights" in page
    stored = company.client.get("/api/v1/health/proposal").json()
    assert stored["base_version"] == before.version_id and not stored["stale"]
    assert stored["report"]["proposed_version"] == fitted.version_id
    r = company.client.post("/health/proposal/accept", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    after = active_model(p.store)
    assert after.version == before.version + 1
    assert (after.version_id, after.content_hash) == (fitted.version_id, fitted.content_hash)
    try:
        assert p.warehouse.table_versions().get("health_model", 0) == changes + 1
    finally:
        p.release_warehouse()
    page = company.client.get("/health").text
    assert f'id="model-version">{after.version_id}<' in page and 'id="accept-proposal"' not in page
    again = company.client.post("/api/v1/health/proposal/accept")
    assert again.status_code == 400 and "accepted already" in again.json()["detail"]
    # a proposal fitted against an older model cannot be accepted
    admin = company.key(Scope.ADMIN)
    assert company.client.post("/api/v1/health/proposal", headers=admin, json={}).status_code == 201
    from helix.health.service import set_model

    try:
        set_model(p, None, actor="test")  # back to the shipped default, a newer version
    finally:
        p.release_warehouse()
    stale = company.client.post("/api/v1/health/proposal/accept", headers=admin)
    assert stale.status_code == 409

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
