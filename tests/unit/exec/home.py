"""A tiny company for the executive and voice tests: four accounts, hand-made answers.

Accounts (segment, MRR from 2024-01-01): A1 Enterprise 10,000 (owner csm@x.io),
A2 Mid-Market 3,000 (other@x.io), A3 SMB 500 (csm@x.io), A4 SMB 400 churned on
2024-04-01 (csm@x.io). NPS answers (month, account, score): see ``SURVEYS``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..ingest.conftest import SUBS_HEADER, write_csv

AS_OF = date(2024, 7, 1)
PASSWORD = "correct horse battery"

SURVEYS = [
    # response_id, account, contact, responded_at, survey, score, comment
    ["r1", "A1", "", "2024-05-03T10:00:00", "nps", 10, "Great onboarding, the team was fast"],
    ["r2", "A2", "", "2024-05-10T09:00:00", "nps", 3, "Pricing went up again, too expensive"],
    ["r3", "A3", "", "2024-05-20T12:00:00", "nps", 8, ""],
    ["r4", "A1", "", "2024-06-02T10:00:00", "nps", 9, ""],
    ["r5", "A3", "", "2024-06-05T15:00:00", "nps", 5, "Bugs in the export, it crashes"],
    ["r6", "A2", "", "2024-06-28T08:00:00", "nps", 6, "Still waiting on a fix"],
    ["r7", "A1", "", "2024-06-10T10:00:00", "csat", 5, ""],
    ["r8", "A2", "", "2024-06-11T10:00:00", "csat", 2, ""],
    ["r9", "A3", "", "2024-06-12T10:00:00", "csat", 4, ""],
]
"""Detractors: r2 (A2, May 10), r5 (A3, June 5), r6 (A2, June 28: within the SLA at AS_OF)."""

ACTIVITIES = [
    # r2 gets a call 1 day later (on time)
    ["act1", "A2", "2024-05-11T09:00:00", "call", "", "outbound", "called about pricing"],
    # r5 gets an inbound email only (not a follow-up), then a meeting 5 days later (late)
    ["act2", "A3", "2024-06-05T16:00:00", "email", "", "inbound", "more bugs"],
    ["act3", "A3", "2024-06-10T15:00:00", "meeting", "", "outbound", "walked through the fix"],
]


def build(base: Path) -> Path:
    """Import the company into ``base/home`` and run the pipeline as of :data:`AS_OF`."""
    from helix.config import Settings
    from helix.ingest import import_files
    from helix.pipeline import run_pipeline
    from helix.platform import Platform
    from helix.store import Role, create_user

    d = base / "in"
    write_csv(d / "accounts.csv", ["account_id", "name", "segment", "owner_email"], [
        ["A1", "Acme", "Enterprise", "csm@x.io"], ["A2", "Beta", "Mid-Market", "other@x.io"],
        ["A3", "Gamma", "SMB", "csm@x.io"], ["A4", "Delta", "SMB", "csm@x.io"],
    ])
    write_csv(d / "subscriptions.csv", SUBS_HEADER, [
        ["s1", "A1", "core", "", "2024-01-01", None, "10000", 1],
        ["s2", "A2", "core", "", "2024-01-01", None, "3000", 1],
        ["s3", "A3", "core", "", "2024-01-01", None, "500", 1],
        ["s4", "A4", "core", "", "2024-01-01", "2024-04-01", "400", 1],
    ])
    write_csv(d / "survey_responses.csv", ["response_id", "account_id", "contact_id",
                                           "responded_at", "survey", "score", "comment"], SURVEYS)
    write_csv(d / "activities.csv", ["activity_id", "account_id", "occurred_at", "kind",
                                     "contact_id", "direction", "summary"], ACTIVITIES)
    home = base / "home"
    with Platform(Settings.load(home)) as p:
        import_files(p.warehouse, d, imports_dir=p.settings.imports_dir)
        run_pipeline(p.warehouse, as_of=AS_OF)
        with p.store.session() as s:
            for email, role in [("admin@x.io", Role.ADMIN), ("lead@x.io", Role.LEADER),
                                ("csm@x.io", Role.CSM), ("viewer@x.io", Role.VIEWER)]:
                create_user(s, email=email, name=email, role=role, password=PASSWORD,
                            actor="test")
    return home
