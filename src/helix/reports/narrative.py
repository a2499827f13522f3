"""The QBR's plain-language narrative, written from the facts by templates (no network).

Each section is a short paragraph; every figure in it comes from
:class:`~helix.reports.qbr.QbrFacts`. An optional LLM (:mod:`helix.reports.llm`)
may rewrite these paragraphs afterwards; the template text is always the
fallback and what the facts can be checked against.
"""

from __future__ import annotations

from typing import Any

from helix.reports.qbr import QbrFacts

__all__ = ["SECTIONS", "template_narrative", "recommendation"]

SECTIONS = (
    "goals",
    "changes",
    "helping",
    "not_helping",
    "recommendation",
    "next_steps",
    "attendees",
)
"""The narrative's sections, in the deck's order."""

_GROUP_ADVICE = {
    "usage": "an adoption plan: a working session with the users on the workflows "
    "they have not taken up",
    "sentiment": "a service review: walk through the open tickets and survey comments "
    "with their lead",
    "relationship": "multi-threading: meet the decision-maker and a second champion this quarter",
    "onboarding": "finishing onboarding: agree the first value milestone and a date for it",
    "commercial": "a commercial review ahead of the renewal: value delivered against what they pay",
}
_MOTION_ADVICE = {
    "seats": "more seats",
    "tier": "the next tier",
    "cross_sell": "the add-on their usage points to",
    "usage_price": "a larger usage commitment",
}


def _pct(x: float | None) -> str:
    return "no data" if x is None else f"{x * 100:.0f}%"


def _change(now: int, before: int, noun: str) -> str:
    if before == 0:
        return f"{now:,} {noun} (none in the period before)"
    delta = (now - before) / before
    word = "up" if delta >= 0 else "down"
    return f"{now:,} {noun}, {word} {abs(delta) * 100:.0f}% from {before:,}"


def _people(people: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{p['name']} ({(p.get('title') or p['role']).replace('_', ' ')})" for p in people
    )


def _goals(f: QbrFacts) -> str:
    g = f.goals
    if not g["recorded"]:
        return (
            "No success plan recorded. Open the meeting by asking what they must achieve this "
            "quarter, and write it down as the plan's goals."
        )
    lead = f"Their objective: {g['objective']}. " if g.get("objective") else ""
    if not g["goals"]:
        return lead + "No goals written down yet: agree them in this meeting."
    parts = []
    for goal in g["goals"]:
        bits = [goal["title"] or "untitled goal"]
        if goal.get("status"):
            bits.append(str(goal["status"]))
        if goal.get("progress"):
            bits.append(str(goal["progress"]))
        if goal.get("due"):
            bits.append(f"due {goal['due']}")
        parts.append(", ".join(bits))
    return lead + "Their goals: " + "; ".join(parts) + "."


def _changes(f: QbrFacts) -> str:
    c = f.changes
    days = (f.window[1] - f.window[0]).days
    text = [
        f"Over the last {days} days: "
        + _change(c["events"], c["prior_events"], "product events")
        + "; "
        + _change(c["active_users"], c["prior_active_users"], "active users")
        + "."
    ]
    if c["contacts_joined"]:
        text.append(f"Joined: {_people(c['contacts_joined'])}.")
    if c["contacts_left"]:
        text.append(f"Left: {_people(c['contacts_left'])}.")
    if not c["contacts_joined"] and not c["contacts_left"]:
        text.append("No contact joined or left.")
    m = c["mrr"]
    if m is not None:
        if m["end_mrr"] != m["start_mrr"]:
            text.append(
                f"MRR went from ${m['start_mrr']:,.2f} to ${m['end_mrr']:,.2f} "
                f"({(m['movement_type'] or m['movement']).replace('_', ' ')})."
            )
        else:
            text.append(f"MRR unchanged at ${m['end_mrr']:,.2f}.")
    return " ".join(text)


def _helping(f: QbrFacts) -> str:
    s = f.adoption["signals"]
    used = [x for x in f.adoption["features"] if x["events"] > 0]
    growing = [x["event_type"] for x in used if x["events"] > x["prior_events"]][:3]
    parts = []
    if s.get("seat_utilisation") is not None:
        parts.append(
            f"{_pct(s['seat_utilisation'])} of licensed seats active in the last 30 days "
            f"({s.get('active_users_30') or 0:.0f} of {s.get('licensed_seats') or 0:.0f})"
        )
    if used:
        parts.append(
            f"{len(used)} features in use, led by {', '.join(x['event_type'] for x in used[:3])}"
        )
    if growing:
        parts.append(f"growing use of {', '.join(growing)}")
    if s.get("core_share_30") is not None:
        parts.append(f"core workflows are {_pct(s['core_share_30'])} of activity")
    if not parts:
        return "No product usage recorded in the window."
    return "Where the product is helping: " + "; ".join(parts) + "."


def _not_helping(f: QbrFacts) -> str:
    s, t = f.adoption["signals"], f.support
    parts = []
    falling = [
        x["event_type"] for x in f.adoption["features"] if x["events"] < x["prior_events"] * 0.8
    ][:3]
    if falling:
        parts.append(f"less use of {', '.join(falling)}")
    if f.adoption["not_adopted"]:
        parts.append(f"not yet adopted: {', '.join(f.adoption['not_adopted'][:4])}")
    if s.get("plateau") == 1.0:
        parts.append("usage has plateaued (no new feature in 90 days)")
    if t["tickets"]:
        csat = "" if t["csat"] is None else f", CSAT {t['csat']:.1f}/5"
        parts.append(
            f"{t['tickets']} support tickets ({t['urgent']} high or urgent, "
            f"{t['open']} still open{csat}; "
            f"{t['prior_tickets']} the period before)"
        )
    if not parts:
        return (
            "Nothing is holding them back in the data: no falling features, no open support issues."
        )
    return "Where it is not helping yet: " + "; ".join(parts) + "."


def recommendation(f: QbrFacts) -> str:
    """The point of view: from the health drivers, the predictions and the expansion leads."""
    h = f.health
    parts = []
    if h is not None:
        groups = [g for g in h["groups"] if g["score"] is not None]
        weakest = min(groups, key=lambda g: g["score"]) if groups else None
        parts.append(f"Health is {h['score']:.0f} ({h['color']})")
        if weakest is not None and (h["color"] != "green" or weakest["score"] < 60):
            advice = _GROUP_ADVICE.get(weakest["group"], f"work on {weakest['group']}")
            parts.append(
                f"the weakest area is {weakest['group']} ({weakest['score']:.0f}): "
                f"we recommend {advice}"
            )
        drops = [c for c in h.get("changes", []) if c["score_delta"] < 0][:2]
        if drops:
            parts.append("what moved it down: " + "; ".join(c["reason"] for c in drops))
    churn = [p for p in f.predictions if p["target"] == "churn"]
    if churn:
        p = max(churn, key=lambda p: p["horizon_days"])
        drivers = ", ".join(str(d) for d in p["drivers"][:3])
        parts.append(
            f"the churn model gives {p['probability'] * 100:.0f}% over {p['horizon_days']} days"
            + (f" (drivers: {drivers})" if drivers else "")
        )
    if f.expansion:
        lead = f.expansion[0]
        motion = _MOTION_ADVICE.get(lead["suggested_motion"], lead["suggested_motion"])
        parts.append(f"there is room to grow: {lead['evidence']}; we would propose {motion}")
    if not parts:
        return "Not enough data for a recommendation yet: agree the goals first."
    return "Our recommendation: " + "; ".join(parts) + "."


def _next_steps(f: QbrFacts) -> str:
    if not f.next_steps:
        return (
            "No open actions on our side; agree next steps with owners on both sides "
            "before closing."
        )
    items = "; ".join(
        f"{t['title']} ({t['owner_email']}, due {t['due_date']})" for t in f.next_steps[:5]
    )
    return f"Agreed next steps on our side: {items}."


def _attendees(f: QbrFacts) -> str:
    a = f.attendees
    people = _people(a["customer"][:6]) if a["customer"] else "no current contacts on record"
    text = f"Invite: {people}"
    if a["vendor"]:
        text += f"; from us: {a['vendor'][0]['name']}"
    text += "."
    if a["missing_roles"]:
        text += (
            " No "
            + ", ".join(r.replace("_", " ") for r in a["missing_roles"])
            + " on record: find one before the meeting."
        )
    return text


def template_narrative(f: QbrFacts) -> dict[str, str]:
    """One paragraph per section of :data:`SECTIONS`."""
    return {
        "goals": _goals(f),
        "changes": _changes(f),
        "helping": _helping(f),
        "not_helping": _not_helping(f),
        "recommendation": recommendation(f),
        "next_steps": _next_steps(f),
        "attendees": _attendees(f),
    }
