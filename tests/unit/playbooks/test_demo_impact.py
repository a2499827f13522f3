"""`helix demo` gives a fresh company a year of playbook history, and `helix playbooks
impact` measures on it what the demo's CS team really did.

The generated customers respond to the onboarding-stall play only where Helix's own
holdout draw treats them (:mod:`helix.testing.demo.cs_team`); Helix finds the stalls with
its trigger, draws the holdout, and reads activation from the imported events. No other
shipped play has a simulated effect, so their intervals must straddle zero or be wide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helix.config import Settings
from helix.platform import Platform
from helix.playbooks.engine import SALT_KEY, holdout_draw
from helix.playbooks.replay import DONE_AFTER_DAYS
from helix.store.models import Enrolment, Task, TaskStatus
from helix.store.settings import get_setting

from ...helpers import cli_json
from ..customer.demo import login
from ..demo_year import END, demo_year

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_year")]


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return demo_year()


def test_the_demo_replays_a_year_of_playbooks(built: dict[str, Any]) -> None:
    history = built["setup"]["playbooks"]["history"]
    assert history["start"] == (END - timedelta(days=365)).isoformat()
    assert history["end"] == END.isoformat() and history["runs"] == 54
    assert history["enrolled"] > 1000 and history["held_out"] > 100
    with Platform(Settings.load(built["home"])) as p, p.store.session() as s:
        tasks = list(s.scalars(select(Task)))
        first = min(e.occurred_on for e in s.scalars(select(Enrolment)))
    assert first < END - timedelta(days=300)
    closed = [t for t in tasks if t.status != TaskStatus.OPEN]
    assert closed and all("replayed history" in t.outcome for t in closed)
    # what is still open is the recent work: nothing due long ago is left lying around
    assert all(t.due_date >= END - timedelta(days=DONE_AFTER_DAYS + 7)
               for t in tasks if t.status == TaskStatus.OPEN)
    owners = {t.owner_email for t in tasks if t.status == TaskStatus.OPEN}
    csms = {u["email"] for u in built["setup"]["users"] if u["role"] == "csm"}
    assert csms <= owners  # every CSM has a task list today


def test_held_out_accounts_are_the_organisations_draw(built: dict[str, Any]) -> None:
    with Platform(Settings.load(built["home"])) as p, p.store.session() as s:
        salt = get_setting(s, SALT_KEY)
        rows = list(s.scalars(select(Enrolment).where(Enrolment.playbook == "onboarding-stall")))
    assert rows
    for e in rows:
        assert e.held_out == (holdout_draw(salt, "onboarding-stall", e.account_id) < 0.1)


def test_impact_measures_the_onboarding_plays_uplift(built: dict[str, Any]) -> None:
    home = built["home"]
    report = cli_json(home, "playbooks", "impact", "onboarding-stall")
    assert (report["goal"], report["unit"], report["window_days"]) == ("activation", "account", 60)
    treated, held = report["treated"], report["held_out_group"]
    assert treated["n"] >= 100 and held["n"] >= 10
    assert report["uplift"] == pytest.approx(treated["rate"] - held["rate"], abs=1e-6)
    assert report["ci_low"] <= report["uplift"] <= report["ci_high"]
    assert report["uplift"] > 0 and report["significant"], report
    assert report["note"] is None
    # the API answers the same to a signed-in leader
    from helix.api.app import create_app

    with TestClient(create_app(Settings.load(home))) as c:
        login(c, "vp.cs@helix-demo.io", built["password"])
        body = c.get("/api/v1/playbooks/onboarding-stall/impact").json()
        page = c.get("/playbooks").text
    assert {k: body[k] for k in ("treated", "held_out_group", "uplift", "ci_low", "ci_high")} == {
        k: report[k] for k in ("treated", "held_out_group", "uplift", "ci_low", "ci_high")}
    # and the Playbooks page shows it with the counts behind it
    row = next(r for r in page.split("<tr>") if "onboarding-stall ·" in r)
    assert f"{report['uplift']:+.1%}" in row and "significant" in row
    assert f"of {treated['n']} treated" in row and f"of {held['n']} held-out accounts" in row


def test_plays_without_a_simulated_effect_show_none_that_is_significant(
    built: dict[str, Any],
) -> None:
    for name in ("usage-plateau", "health-yellow", "tech-touch-monthly"):
        report = cli_json(built["home"], "playbooks", "impact", name)
        assert report["treated"]["n"] > 0 and report["held_out_group"]["n"] > 0, name
        assert report["ci_low"] < 0 < report["ci_high"], (name, report)
