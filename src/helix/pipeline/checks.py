"""Stage `checks`: data-quality findings on the imported data.

These are facts a CS-ops person should see before trusting any number: what is
missing, what looks stale, what cannot be right. They never change the data.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import NamedTuple

import pyarrow as pa

from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.warehouse import CONTRACT_TABLES, Warehouse
from helix.warehouse.schema import DATA_CHECKS


class Finding(NamedTuple):
    check_name: str
    severity: str
    count: int
    message: str


_OPTIONAL_USES = {
    "events": "usage signals (logins, adoption, trends)",
    "contacts": "relationship signals (champions, multi-threading)",
    "tickets": "support and sentiment signals",
    "survey_responses": "NPS and CSAT",
    "activities": "CSM contact recency",
    "churn_reasons": "voluntary vs involuntary churn",
    "payments": "failed-payment and involuntary-churn signals",
}


def run_checks(wh: Warehouse, as_of: date) -> list[Finding]:
    """Evaluate every data-quality check as of ``as_of``."""
    findings: list[Finding] = []
    accounts, subs, events = wh.table("accounts"), wh.table("subscriptions"), wh.table("events")
    n_accounts = int(accounts.count().execute())
    if int(subs.count().execute()) == 0:
        findings.append(
            Finding(
                "no_subscriptions",
                "error",
                0,
                "no subscriptions imported: the contract requires them; MRR, retention and "
                "tiers are all zero until they are",
            )
        )
    findings.append(Finding("accounts", "info", n_accounts, f"{n_accounts} accounts imported"))
    without = int(accounts.anti_join(subs, "account_id").count().execute())
    if without:
        findings.append(
            Finding(
                "accounts_without_subscriptions",
                "warning",
                without,
                f"{without} accounts have no subscription rows: they never count as customers",
            )
        )
    currencies = subs.filter(subs.currency.notnull()).currency.nunique().execute()
    if int(currencies) > 1:
        findings.append(
            Finding(
                "mixed_currencies",
                "warning",
                int(currencies),
                f"subscriptions use {int(currencies)} currencies; MRR sums them without conversion",
            )
        )
    cutoff = datetime.combine(as_of, time.min)
    future = int(events.filter(events.event_time >= cutoff).count().execute())
    if future:
        findings.append(
            Finding(
                "events_after_as_of",
                "info",
                future,
                f"{future} events are on or after {as_of}: ignored by as-of computations",
            )
        )
    latest = events.event_time.max().to_pyarrow().as_py()
    if latest is not None and (as_of - latest.date()).days > 7:
        findings.append(
            Finding(
                "stale_events",
                "warning",
                (as_of - latest.date()).days,
                f"the newest event is from {latest.date()}: usage data may be stale",
            )
        )
    for table, use in _OPTIONAL_USES.items():
        if int(wh.table(table).count().execute()) == 0:
            findings.append(
                Finding(f"no_{table}", "info", 0, f"no {table} imported: {use} are unavailable")
            )
    assert set(_OPTIONAL_USES) | {"accounts", "subscriptions"} == set(CONTRACT_TABLES)
    return findings


def _run(ctx: StageContext) -> StageResult:
    findings = run_checks(ctx.warehouse, ctx.as_of)
    table = pa.table(
        {
            "check_name": [f.check_name for f in findings],
            "severity": [f.severity for f in findings],
            "count": pa.array([f.count for f in findings], pa.int64()),
            "message": [f.message for f in findings],
            "as_of": pa.array([ctx.as_of] * len(findings), pa.date32()),
        }
    )
    ctx.warehouse.write_table(DATA_CHECKS.name, table)
    notes = [f.message for f in findings if f.severity != "info"]
    return StageResult(rows={DATA_CHECKS.name: len(findings)}, notes=notes)


STAGE = register(
    Stage(
        name="checks",
        order=10,
        inputs=tuple(CONTRACT_TABLES),
        outputs=(DATA_CHECKS.name,),
        run=_run,
        description="Data-quality findings: missing tables, stale or inconsistent data.",
    )
)
