"""The QBR deck: the facts (:mod:`helix.reports.qbr`), the narrative, and the slides.

Five slides in the seed's agenda: the customer's goals; what changed in their
business; where the product is and is not helping; our recommendation; agreed
next steps and attendees. Every slide's footer says what produced the words
(templates, or a named LLM whose rewrite was checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from helix.platform import Platform
from helix.reports.formats import money, pct
from helix.reports.llm import LLM_SETTING, Narrative, llm_config, rewrite
from helix.reports.narrative import template_narrative
from helix.reports.qbr import QbrFacts, qbr_facts
from helix.reports.slides import (
    COLORS,
    Box,
    ChartBlock,
    Deck,
    MetricBlock,
    Para,
    Slide,
    TableBlock,
    TextBlock,
)

__all__ = ["QbrReport", "qbr_report", "qbr_deck"]


@dataclass(frozen=True)
class QbrReport:
    """The facts of one account's QBR and the narrative written from them."""

    facts: QbrFacts
    narrative: Narrative

    def to_dict(self) -> dict[str, Any]:
        """``helix report qbr --json``: the facts and the narrative."""
        return {**self.facts.to_dict(), "narrative": self.narrative.to_dict()}


def qbr_report(
    platform: Platform,
    account_id: str,
    *,
    as_of: date | None = None,
    transport: httpx.BaseTransport | None = None,
) -> QbrReport:
    """Gather the facts, write the narrative, and let the configured LLM (if any) rewrite it."""
    from helix.store.settings import get_setting

    facts = qbr_facts(platform, account_id, as_of=as_of)
    with platform.store.session() as session:
        config = llm_config(get_setting(session, LLM_SETTING))
    return QbrReport(facts, rewrite(template_narrative(facts), config, transport=transport))


def _text(name: str, box: Box, heading: str, body: str, fill: str | None = None) -> TextBlock:
    return TextBlock(
        name, box, [Para(heading, 13, True, COLORS["navy"]), Para(body, 11)], fill=fill
    )


def _opening(r: QbrReport) -> Slide:
    f, a = r.facts, r.facts.account
    h = f.health
    s = f.adoption["signals"]
    goals = f.goals["goals"]
    blocks: list[Any] = [
        MetricBlock(
            "arr",
            Box(0.4, 1.2, 2.9, 1.3),
            "ARR",
            money(a.get("arr")),
            [f"next renewal {a.get('next_renewal') or '-'}"],
            "neutral",
            24,
        ),
        MetricBlock(
            "health",
            Box(3.45, 1.2, 2.9, 1.3),
            "Health",
            "-" if h is None else f"{h['score']:.0f}",
            ["no score" if h is None else f"{h['color']} on {h['score_date']}"],
            {"green": "good", "yellow": "warn", "red": "bad"}.get(
                h["color"] if h else "", "neutral"
            ),  # type: ignore[arg-type]
            24,
        ),
        MetricBlock(
            "seats",
            Box(6.5, 1.2, 2.9, 1.3),
            "Seats in use",
            pct(s.get("seat_utilisation"), 0),
            [
                f"{s.get('active_users_30') or 0:.0f} active of "
                f"{s.get('licensed_seats') or 0:.0f} licensed"
            ],
            "neutral",
            24,
        ),
        MetricBlock(
            "customer_since",
            Box(9.55, 1.2, 3.38, 1.3),
            "Customer since",
            a.get("customer_since") or "-",
            [f"CSM {a.get('owner_email') or 'unassigned'}"],
            "neutral",
            20,
        ),
        _text(
            "goals",
            Box(0.4, 2.75, 12.53, 1.6),
            "Your goals this quarter",
            r.narrative.sections["goals"],
        ),
    ]
    if goals:
        blocks.append(
            TableBlock(
                "goals_table",
                Box(0.4, 4.4, 12.53, 0.3 * (min(len(goals), 7) + 1)),
                ["Goal", "status", "progress", "due"],
                [
                    [g["title"] or "", str(g["status"] or ""), g["progress"] or "", g["due"] or ""]
                    for g in goals[:7]
                ],
                [False, False, False, False],
                10,
                [5, 1.6, 2.2, 1.2],
            )
        )
    return Slide(
        f"Quarterly business review: {a.get('name') or a['account_id']}",
        _subtitle(f),
        blocks,
        r.narrative.produced_by(),
    )


def _subtitle(f: QbrFacts) -> str:
    a = f.account
    return (
        f"{a.get('segment') or 'no segment'} · review window {f.window[0].isoformat()} to "
        f"{f.as_of.isoformat()} · as of {f.as_of.isoformat()}"
    )


def _people_rows(people: list[dict[str, Any]], when: str) -> list[list[str]]:
    return [
        [p["name"], p.get("title") or "", p["role"].replace("_", " "), p.get(when) or ""]
        for p in people
    ]


def _changes(r: QbrReport) -> Slide:
    c = r.facts.changes
    rows = [["joined", *x] for x in _people_rows(c["contacts_joined"], "started_at")]
    rows += [["left", *x] for x in _people_rows(c["contacts_left"], "ended_at")]
    blocks: list[Any] = [
        _text(
            "changes",
            Box(0.4, 1.2, 6.2, 2.6),
            "What changed in your business",
            r.narrative.sections["changes"],
        ),
        MetricBlock(
            "events",
            Box(6.85, 1.2, 2.95, 1.3),
            "Product events",
            f"{c['events']:,}",
            [f"period before: {c['prior_events']:,}"],
            "neutral",
            22,
        ),
        MetricBlock(
            "active_users",
            Box(9.95, 1.2, 2.98, 1.3),
            "Active users",
            f"{c['active_users']:,}",
            [f"period before: {c['prior_active_users']:,}"],
            "neutral",
            22,
        ),
        TableBlock(
            "contacts",
            Box(0.4, 4.0, 12.53, 0.3 * (min(len(rows), 8) + 1)),
            ["", "Contact", "title", "role", "date"],
            rows[:8] or [["", "no contact joined or left", "", "", ""]],
            [False] * 5,
            10,
            [0.8, 3, 3, 2, 1.5],
        ),
    ]
    return Slide("What changed", _subtitle(r.facts), blocks, r.narrative.produced_by())


def _adoption(r: QbrReport) -> Slide:
    feats = [x for x in r.facts.adoption["features"] if x["events"] or x["prior_events"]][:10]
    t = r.facts.support
    blocks: list[Any] = [
        _text(
            "helping",
            Box(0.4, 1.2, 6.2, 1.9),
            "Where the product is helping",
            r.narrative.sections["helping"],
        ),
        _text(
            "not_helping",
            Box(0.4, 3.2, 6.2, 2.2),
            "Where it is not helping yet",
            r.narrative.sections["not_helping"],
        ),
        TableBlock(
            "support",
            Box(0.4, 5.5, 6.2, 0.3 * 3),
            ["Support", "tickets", "high/urgent", "open", "CSAT"],
            [
                [
                    "this period",
                    str(t["tickets"]),
                    str(t["urgent"]),
                    str(t["open"]),
                    "-" if t["csat"] is None else f"{t['csat']:.1f}",
                ],
                ["period before", str(t["prior_tickets"]), "", "", ""],
            ],
            [False, True, True, True, True],
            10,
        ),
    ]
    if feats:
        blocks.append(
            ChartBlock(
                "feature_chart",
                Box(6.85, 1.2, 6.08, 4.9),
                "bar",
                "Events by feature: this period and the one before",
                [x["event_type"] for x in feats],
                [
                    ("this period", [float(x["events"]) for x in feats]),
                    ("period before", [float(x["prior_events"]) for x in feats]),
                ],
                "#,##0",
            )
        )
    return Slide(
        "Where the product is and is not helping",
        _subtitle(r.facts),
        blocks,
        r.narrative.produced_by(),
    )


def _recommendation(r: QbrReport) -> Slide:
    h = r.facts.health
    blocks: list[Any] = [
        _text(
            "recommendation",
            Box(0.4, 1.2, 7.4, 3.6),
            "Our recommendation",
            r.narrative.sections["recommendation"],
            fill=COLORS["panel"],
        ),
    ]
    if h is not None:
        blocks.append(
            TableBlock(
                "health_groups",
                Box(8.05, 1.2, 4.88, 0.3 * (len(h["groups"]) + 1)),
                ["Health area", "weight", "score"],
                [
                    [
                        g["group"],
                        f"{g['weight']:.0f}",
                        "-" if g["score"] is None else f"{g['score']:.0f}",
                    ]
                    for g in h["groups"]
                ],
                [False, True, True],
                10,
            )
        )
    leads = r.facts.expansion
    if leads:
        blocks.append(
            TableBlock(
                "expansion",
                Box(0.4, 5.0, 12.53, 0.3 * (min(len(leads), 4) + 1)),
                ["Opportunity", "evidence", "motion"],
                [
                    [
                        x["signal"].replace("_", " "),
                        x["evidence"] or "",
                        x["suggested_motion"] or "",
                    ]
                    for x in leads[:4]
                ],
                [False, False, False],
                9,
                [2, 8, 1.5],
            )
        )
    return Slide("A point of view", _subtitle(r.facts), blocks, r.narrative.produced_by())


def _close(r: QbrReport) -> Slide:
    f = r.facts
    tasks = [[t["title"], t["owner_email"], t["due_date"], t["priority"]] for t in f.next_steps[:8]]
    people = [
        [p["name"], p.get("title") or "", p["role"].replace("_", " ")]
        for p in f.attendees["customer"][:10]
    ]
    people += [[v["name"], "", v["role"]] for v in f.attendees["vendor"]]
    blocks: list[Any] = [
        _text(
            "next_steps",
            Box(0.4, 1.2, 6.2, 1.5),
            "Agreed next steps",
            r.narrative.sections["next_steps"],
        ),
        TableBlock(
            "tasks",
            Box(0.4, 2.8, 6.2, 0.3 * (len(tasks) + 1)),
            ["Action", "owner", "due", "priority"],
            tasks or [["none open", "", "", ""]],
            [False] * 4,
            9,
            [3.2, 2.2, 1.0, 0.8],
        ),
        _text(
            "attendees",
            Box(6.85, 1.2, 6.08, 1.5),
            "Who should be in the room",
            r.narrative.sections["attendees"],
        ),
        TableBlock(
            "attendee_list",
            Box(6.85, 2.8, 6.08, 0.3 * (len(people) + 1)),
            ["Attendee", "title", "role"],
            people or [["no contacts on record", "", ""]],
            [False] * 3,
            9,
            [2, 2.5, 1.5],
        ),
    ]
    return Slide("Decisions and next steps", _subtitle(f), blocks, r.narrative.produced_by())


def qbr_deck(r: QbrReport) -> Deck:
    """The five QBR slides of ``r``."""
    a = r.facts.account
    return Deck(
        f"QBR {a.get('name') or a['account_id']}",
        f"Quarterly business review as of {r.facts.as_of.isoformat()}",
        [_opening(r), _changes(r), _adoption(r), _recommendation(r), _close(r)],
        comments=r.narrative.produced_by(),
    )
