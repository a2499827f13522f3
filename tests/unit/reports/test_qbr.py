"""The QBR deck: its facts, the template narrative, and the optional LLM rewrite
(driven through httpx's MockTransport or a closed local port, never the network)."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pptx import Presentation

from helix.config import Settings
from helix.platform import Platform
from helix.reports.llm import LlmConfig, figures, rewrite
from helix.reports.narrative import SECTIONS
from helix.reports.qbr_deck import qbr_deck, qbr_report
from helix.reports.slides import render_pptx
from helix.store.models import (
    GoalStatus,
    MilestoneStatus,
    SuccessGoal,
    SuccessMilestone,
    SuccessPlan,
    Task,
    TaskStatus,
)

from ...helpers import cli_json

ACCOUNT = "acct-000037"


def _texts(prs: Any) -> str:
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


def test_the_deck_follows_the_agenda(home: Path, tmp_path: Path) -> None:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        s.add(
            Task(
                account_id=ACCOUNT,
                title="Book the adoption workshop",
                owner_email="csm@x.io",
                due_date=date(2025, 10, 20),
                status=TaskStatus.OPEN,
                created_by="test",
            )
        )
    doc = cli_json(home, "report", "qbr", ACCOUNT, "--out", str(tmp_path / "q.pptx"))
    assert doc["account"]["account_id"] == ACCOUNT and doc["as_of"] == "2025-10-06"
    assert doc["goals"]["recorded"] is False  # no success-plan tables in this store
    assert set(doc["narrative"]["sections"]) == set(SECTIONS)
    assert doc["narrative"]["source"] == "template"
    assert doc["next_steps"][0]["title"] == "Book the adoption workshop"
    assert [p["role"] for p in doc["attendees"]["customer"]]  # current contacts, by role
    prs = Presentation(str(tmp_path / "q.pptx"))
    assert len(prs.slides) == 5
    text = _texts(prs)
    assert "No success plan recorded" in text
    assert "Book the adoption workshop" in text
    assert "Narrative written by Helix templates from the data." in text
    for section in doc["narrative"]["sections"].values():
        assert section in text
    # the usage figures are the events table's
    with Platform(Settings.load(home)) as p:
        e = p.warehouse.table("events")
        n = (
            e.filter(
                e.account_id == ACCOUNT, e.event_time >= "2025-07-09", e.event_time < "2025-10-07"
            )
            .count()
            .execute()
        )
    assert doc["changes"]["events"] == n
    assert f"{n:,} product events" in doc["narrative"]["sections"]["changes"]


def test_a_success_plan_opens_the_deck(home: Path, tmp_path: Path) -> None:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        plan = SuccessPlan(account_id=ACCOUNT, objective="Close the books faster", updated_by="t")
        goal = SuccessGoal(
            title="Cut month-end close to 3 days",
            status=GoalStatus.IN_PROGRESS,
            target_date=date(2025, 12, 31),
            updated_by="t",
        )
        goal.milestones = [
            SuccessMilestone(title="Connect the ERP", status=MilestoneStatus.DONE, updated_by="t"),
            SuccessMilestone(title="Train the team", status=MilestoneStatus.OPEN, updated_by="t"),
            SuccessMilestone(title="Old idea", status=MilestoneStatus.DROPPED, updated_by="t"),
        ]
        plan.goals = [goal]
        s.add(plan)
    with Platform(Settings.load(home)) as p:
        report = qbr_report(p, ACCOUNT)
    g = report.facts.goals
    assert g["recorded"] is True and g["objective"] == "Close the books faster"
    assert g["goals"][0]["progress"] == "1 of 2 milestones done"
    assert report.narrative.sections["goals"] == (
        "Their objective: Close the books faster. Their goals: Cut month-end close to 3 days, "
        "in progress, 1 of 2 milestones done, due 2025-12-31."
    )
    render_pptx(qbr_deck(report), tmp_path / "q.pptx")
    first = Presentation(str(tmp_path / "q.pptx")).slides[0]
    table = next(s for s in first.shapes if s.name == "goals_table").table
    assert [c.text for c in table.rows[1].cells] == [
        "Cut month-end close to 3 days",
        "in progress",
        "1 of 2 milestones done",
        "2025-12-31",
    ]


def _fake_llm(answer: Any, status: int = 200, seen: list | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append((request, body))
        sections = json.loads(body["messages"][1]["content"])
        content = answer(sections) if callable(answer) else answer
        return httpx.Response(status, json={"choices": [{"message": {"content": content}}]})

    return httpx.MockTransport(handler)


CONFIG = LlmConfig(
    enabled=True,
    base_url="http://llm.test/v1",
    model="fake-1",
    api_key_env="HELIX_TEST_LLM_KEY",
    timeout_seconds=5,
)
TEMPLATE = {"goals": "Seats used: 24 of 49 ($2,012.00 MRR).", "next_steps": "Call on 2025-10-20."}


def test_the_llm_rewrite_is_used_when_it_keeps_the_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELIX_TEST_LLM_KEY", "sk-test")
    seen: list = []
    fake = _fake_llm(lambda s: json.dumps({k: "In short: " + v for k, v in s.items()}), seen=seen)
    n = rewrite(TEMPLATE, CONFIG, transport=fake)
    assert n.source == "llm" and n.model == "fake-1"
    assert n.sections["goals"] == "In short: " + TEMPLATE["goals"]
    assert "rewritten by the LLM fake-1" in n.produced_by()
    request, body = seen[0]
    assert str(request.url) == "http://llm.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "fake-1"


@pytest.mark.parametrize(
    ("answer", "status", "note"),
    [
        (lambda s: json.dumps({k: "Nice." for k in s}), 200, "lost or changed figures"),
        ("not json at all", 200, "unusable answer"),
        (lambda s: json.dumps({"goals": s["goals"]}), 200, "same sections"),
        ("{}", 500, "HTTP 500"),
    ],
)
def test_any_bad_answer_falls_back_to_the_templates(
    monkeypatch: pytest.MonkeyPatch, answer: Any, status: int, note: str
) -> None:
    monkeypatch.setenv("HELIX_TEST_LLM_KEY", "sk-test")
    n = rewrite(TEMPLATE, CONFIG, transport=_fake_llm(answer, status))
    assert n.source == "template" and n.sections == TEMPLATE
    assert note in n.note and note in n.produced_by()


def test_timeouts_missing_keys_and_closed_ports_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    monkeypatch.setenv("HELIX_TEST_LLM_KEY", "sk-test")
    assert (
        "no answer within 5 s"
        in rewrite(TEMPLATE, CONFIG, transport=httpx.MockTransport(slow)).note
    )
    with socket.socket() as sock:  # a local port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = LlmConfig(
        enabled=True, base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_seconds=2
    )
    assert "cannot reach the endpoint" in rewrite(TEMPLATE, closed).note
    monkeypatch.delenv("HELIX_TEST_LLM_KEY")
    assert "HELIX_TEST_LLM_KEY is not set" in rewrite(TEMPLATE, CONFIG).note
    off = rewrite(TEMPLATE, LlmConfig())
    assert off.source == "template" and off.note == ""


def test_the_llm_setting_drives_the_deck(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_json(
        home,
        "settings",
        "set",
        "llm",
        json.dumps({"enabled": True, "base_url": "http://llm.test/v1", "model": "fake-2"}),
    )
    fake = _fake_llm(lambda s: json.dumps({k: v + " (checked)" for k, v in s.items()}))
    with Platform(Settings.load(home)) as p:
        report = qbr_report(p, ACCOUNT, transport=fake)
    assert report.narrative.source == "llm"
    deck = qbr_deck(report)
    assert all("rewritten by the LLM fake-2" in s.footer for s in deck.slides)
    assert (
        report.to_dict()["narrative"]["template"]["goals"] + " (checked)"
        == (report.narrative.sections["goals"])
    )


def test_figures_ignore_thousands_separators() -> None:
    assert figures("$1,200.50 and 3 of 49.") == {"1200.50", "3", "49"}

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
