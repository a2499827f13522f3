"""Free text written by the vendor's team: CSM activity summaries and recorded churn reasons."""

from __future__ import annotations

import random

import numpy as np

from helix.testing.demo import history as hs
from helix.testing.demo.text import fill, groups, pick

ACTIVITY_KINDS = ("meeting", "call", "email", "qbr", "note", "escalation")
MEETING, CALL, EMAIL, QBR, NOTE, ESCALATION = range(6)

# [kind][mood: 0 worried, 1 neutral, 2 positive]; {contact} is the contact's first name
SUMMARIES = (
    groups(  # meeting
        """
Check-in with {contact}: adoption is stalling, a handful of users active. Re-training agreed.
Met {contact}; they questioned the value of {feature}. Sharing a usage review next week.
Tense meeting with {contact} about open support issues.

Monthly sync with {contact}: reviewed usage of {feature}, no blockers.
Working session with {contact} on {feature} setup.
Met {contact} to walk through the roadmap; follow-up on {tool} integration.

Great session with {contact}: the team wants to roll out {feature} to another department.
{contact} shared that weekly reviews now run on our dashboards. Discussed more seats.
Workshop with {contact}: usage up {pct}% this quarter, exploring {feature}.
"""
    ),
    groups(  # call
        """
Call with {contact}: frustrated about performance and recent tickets.
Quick call with {contact}; budget review coming, renewal not guaranteed.
Call with {contact} about the low number of active users.

Call with {contact} to confirm the agenda of the next review.
Phone check-in with {contact}; nothing urgent.
Call with {contact} about {tool} sync.

Call with {contact}: happy with {feature}, asked about pricing for more seats.
{contact} called to ask about the Enterprise tier.
Upbeat call with {contact}; they will present results to leadership.
"""
    ),
    groups(  # email
        """
Sent {contact} a re-engagement plan after usage dropped {pct}%.
Emailed {contact} to follow up on the escalated ticket.
Reached out to {contact}; no reply to the last two emails.

Sent {contact} the monthly usage summary.
Shared release notes for {feature} with {contact}.
Emailed {contact} the agenda for next week.

Sent {contact} a case study on {feature}.
Emailed {contact} a proposal for additional seats.
Thanked {contact} for the referral.
"""
    ),
    groups(  # qbr
        """
QBR with {contact}: goals not met, usage down {pct}%. Customer asked for a pricing review.
QBR with {contact}: leadership unconvinced, success plan to be reworked.

QBR with {contact}: reviewed goals and usage, set three priorities for next quarter.
QBR with {contact}: stable adoption, agreed to a {feature} pilot.

QBR with {contact}: goals exceeded, usage up {pct}%. Expansion discussion scheduled.
QBR with {contact}: strong ROI story, exec sponsor asked about {feature}.
"""
    ),
    groups(  # note
        """
Risk: {contact} mentioned a budget freeze.
Note: competitor demo reported by {contact}.
Risk: only one person still engaged on the customer side.

Note: {contact} is out until next month.
Updated the stakeholder map after talking to {contact}.
Note: renewal owner confirmed as {contact}.

Note: {contact} wants to be a reference customer.
Expansion signal: seats nearly all used.
Note: {contact} promoted, stays our champion.
"""
    ),
    groups(  # escalation
        """
Escalated repeated {feature} failures to engineering after complaints from {contact}.
Escalation: {contact} threatened to cancel over data accuracy issues.
Escalated billing dispute raised by {contact} to finance.

Escalated a {tool} sync bug to engineering for {contact}.

Escalated a feature request from {contact} to product.
"""
    ),
)

CHAMPION_LEFT_NOTE = (
    "Learned that {contact} has left the company; need a new point of contact.",
    "Champion {contact} moved on; reaching out to the rest of the team.",
)

REASONS_VOLUNTARY = dict(
    zip(
        range(len(hs.CAUSES)),
        groups(
            """
Low adoption: only a few users ever used it
Team never rolled it out
Too few active users to justify the cost

Usage dropped after a reorganisation
Stopped using the product
Moved the workflow back to spreadsheets

Champion left; new leadership chose another tool
Our sponsor left and nobody owned the tool

Unhappy with support responsiveness
Product quality issues (bugs, outages)
Data accuracy problems

Never got value from onboarding
Implementation stalled
Could not integrate with our systems

Product did not grow with our needs
No new use cases beyond the first team

Budget cuts
Price too high for the value
Cost reduction programme

Switched to a competitor
Consolidated onto a platform with a bundled tool
Chose a cheaper alternative
"""
        ),
        strict=True,
    )
)
"""Recorded reasons by cause (in the order of ``history.CAUSES``)."""

REASONS_INVOLUNTARY = dict(
    zip(
        hs.INVOLUNTARY_KINDS,
        groups(
            """
Payment failed after retries (card declined)
Card expired, dunning exhausted

Business closed
Company went out of business
Insolvency

Acquired; consolidated onto the parent company's tools
Acquired by another company
"""
        ),
        strict=True,
    )
)
"""Recorded reasons of involuntary churn by kind (failed payment, closure, acquisition)."""


def summaries(
    r: random.Random, kind: np.ndarray, mood: np.ndarray, contacts: list[str]
) -> list[str]:
    """A summary for each activity of ``kind`` with ``mood``, naming its contact."""
    return [
        fill(pick(r, SUMMARIES[k][md]), r, c or "the team")
        for k, md, c in zip(kind.tolist(), mood.tolist(), contacts, strict=True)
    ]


def champion_left_note(r: random.Random, contact: str) -> str:
    """The note a CSM writes on hearing that the champion left."""
    return fill(pick(r, CHAMPION_LEFT_NOTE), r, contact)


def churn_reason(r: random.Random, kind: int, cause: int) -> str:
    """The reason recorded for a churn of ``kind`` whose strongest signal was ``cause``."""
    options = REASONS_VOLUNTARY[cause] if kind == hs.VOLUNTARY else REASONS_INVOLUNTARY[kind]
    return pick(r, options)
