"""Churn forensics: what the year before each churn looked like, and what it had in common.

Three questions, three functions (``docs/forensics.md``):

* :func:`account_forensics`: one churn of one account, reconstructed: the
  timeline of signals, health, predictions, contacts joining and leaving,
  tickets, activities, surveys, payments and MRR movements in the year before,
  which warnings were visible and how many days ahead, and the churn's pattern.
* :func:`painful_churns`: the N churns of a period that lost the most MRR, each
  with its forensics (the quarterly "five most painful churns" review).
* :func:`forensics_summary`: the patterns across a period's churns (never
  adopted, lost champion, consolidated, outgrew, involuntary), churned MRR per
  pattern, and how early the warnings came.

The churns come from the MRR ledger; warnings, reasons and patterns are one
Ibis expression (:mod:`helix.predict.forensics_facts`), aggregated in the
warehouse for the summary; a timeline is assembled from small queries.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.errors import NotFoundError, UserError
from helix.predict.forensics_config import DEFAULT_CONFIG, ForensicsConfig
from helix.predict.forensics_facts import (
    PATTERNS,
    churn_facts,
    ledger_churns,
    pattern_evidence,
    require_ledger,
)
from helix.predict.forensics_timeline import account_timeline, event_stream, plain, source_status
from helix.predict.forensics_warnings import WARNINGS, base_rates, warning, warning_availability
from helix.signals.sources import Sources
from helix.warehouse import Warehouse
from helix.warehouse.schema import MRR_MOVEMENTS

__all__ = [
    "account_forensics",
    "painful_churns",
    "forensics_summary",
    "period_bounds",
    "ForensicsConfig",
    "PATTERNS",
    "WARNINGS",
]

_PATTERN = {p.name: p for p in PATTERNS}
_BRIEF = (
    "account_id", "name", "owner_email", "churn_date", "month", "churned_mrr", "churn_type",
    "reason", "pattern", "earliest_warning", "earliest_lead",
)  # fmt: skip


def period_bounds(
    wh: Warehouse, start: date | None, end: date | None, default_days: int
) -> tuple[date, date]:
    """``[start, end)``: ``end`` defaults to the day after the ledger's as-of date,
    ``start`` to ``default_days`` before ``end``."""
    if end is None:
        m = wh.table(MRR_MOVEMENTS.name)
        as_of = m.as_of.max().to_pyarrow().as_py()
        end = (as_of or date.today()) + timedelta(days=1)
    if start is None:
        start = end - timedelta(days=default_days)
    if start >= end:
        raise UserError(f"the period is empty: --from {start} is not before --to {end}")
    return start, end


def _facts(
    wh: Warehouse, churns: ir.Table, cfg: ForensicsConfig
) -> tuple[ir.Table, Sources, dict[str, bool]]:
    src = Sources(wh)
    avail = warning_availability(src)
    return churn_facts(churns, cfg, src, avail), src, avail


def _warnings(row: dict[str, Any], avail: dict[str, bool]) -> list[dict[str, Any]]:
    out = []
    for w in WARNINGS:
        out.append(
            {
                **w.to_dict(),
                "available": avail[w.name],
                "visible_from": plain(row[f"{w.name}_from"]),
                "lead_days": row[f"{w.name}_lead"],
                "first_seen": plain(row[f"{w.name}_first"]),
                "first_lead_days": row[f"{w.name}_first_lead"],
            }
        )
    return out


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: plain(row[k]) for k in _BRIEF}
    out["earliest_lead_days"] = out.pop("earliest_lead")
    out["pattern_label"] = _PATTERN[row["pattern"]].label
    out["earliest_warning_label"] = (
        warning(row["earliest_warning"]).label if row["earliest_warning"] else None
    )
    out["warnings_visible"] = sum(1 for w in WARNINGS if row[f"{w.name}_lead"] is not None)
    return out


def _one(
    wh: Warehouse, row: dict[str, Any], src: Sources, avail: dict[str, bool],
    cfg: ForensicsConfig, other: list[str], notes: list[str],
) -> dict[str, Any]:  # fmt: skip
    """The forensics document of one churn fact row."""
    day: date = row["churn_date"]
    timeline = account_timeline(src, row["account_id"], day, cfg)
    warnings = _warnings(row, avail)
    acc = wh.table("accounts")
    info = acc.filter(acc.account_id == row["account_id"]).select(
        "account_id", "name", "segment", "owner_email", "created_at"
    )
    account = plain(info.to_pyarrow().to_pylist()[0])
    churn = {
        "churn_date": day.isoformat(),
        "month": plain(row["month"]),
        "churned_mrr": plain(row["churned_mrr"]),
        "churn_type": row["churn_type"],
        "reason": row["reason"],
        "reason_type": row["reason_type"],
        "reason_recorded_on": plain(row["reason_recorded_on"]),
    }
    status = source_status(src)
    visible = [w for w in warnings if w["lead_days"] is not None]
    return {
        "account": account,
        "churn": churn,
        "other_churns": [d for d in other if d != churn["churn_date"]],
        "pattern": {
            "name": row["pattern"],
            "label": _PATTERN[row["pattern"]].label,
            "description": _PATTERN[row["pattern"]].description,
            "why": pattern_evidence(row, timeline["contacts"]["left"], cfg),
        },
        "earliest_warning": (
            {
                "warning": row["earliest_warning"],
                "label": warning(row["earliest_warning"]).label,
                "lead_days": row["earliest_lead"],
            }
            if row["earliest_warning"]
            else None
        ),
        "warnings_visible": len(visible),
        "warnings": warnings,
        "adoption": {
            "value_reached": row["value_reached"],
            "peak_utilisation": plain(row["peak_utilisation"]),
            "recent_utilisation": plain(row["recent_utilisation"]),
            "signal_days": row["signal_days"],
            "last_signal_date": plain(row["_signal_last"]),
        },
        **timeline,
        "events": event_stream(timeline, warnings, churn),
        "sources": status,
        "missing_sources": [k for k, v in status.items() if v != "ok"],
        "notes": notes,
        "config": cfg.to_dict(),
    }


def account_forensics(
    wh: Warehouse,
    account_id: str,
    *,
    churn_date: date | None = None,
    owner: str | None = None,
    cfg: ForensicsConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """The forensics of one churn of ``account_id``: its latest, or the one on ``churn_date``.

    Raises :class:`NotFoundError` when the account is unknown (or not in ``owner``'s
    book) or never churned, or churned on other dates than ``churn_date``.
    """
    notes = require_ledger(wh)
    churns = ledger_churns(wh, account_id=account_id, owner=owner)
    dates = sorted(d.isoformat() for d in churns.churn_date.to_pyarrow().to_pylist())
    if not dates:
        acc = wh.table("accounts")
        known = acc.filter(acc.account_id == account_id)
        if owner is not None:
            known = known.filter(known.owner_email.lower() == owner.lower())
        if known.count().to_pyarrow().as_py() == 0:
            raise NotFoundError(f"no account {account_id!r}" + (" in your book" if owner else ""))
        raise NotFoundError(
            f"account {account_id!r} has not churned: the MRR ledger records no churn for it",
            hint="forensics reconstructs churns; `helix health explain` covers live accounts",
        )
    chosen = churn_date.isoformat() if churn_date else dates[-1]
    if chosen not in dates:
        raise NotFoundError(
            f"account {account_id!r} did not churn on {chosen}",
            hint=f"its churn dates: {', '.join(dates)}",
        )
    one = churns.filter(churns.churn_date == date.fromisoformat(chosen))
    facts, src, avail = _facts(wh, one, cfg)
    row = facts.to_pyarrow().to_pylist()[0]
    return _one(wh, row, src, avail, cfg, dates, notes)


def painful_churns(
    wh: Warehouse,
    *,
    start: date | None = None,
    end: date | None = None,
    limit: int = 5,
    owner: str | None = None,
    detail: bool = True,
    cfg: ForensicsConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """The ``limit`` churns of ``[start, end)`` that lost the most MRR (default: the last
    91 days), each with its forensics (only the brief row without ``detail``)."""
    notes = require_ledger(wh)
    start, end = period_bounds(wh, start, end, 91)
    churns = ledger_churns(wh, start=start, end=end, owner=owner)
    top = churns.order_by([ibis.desc("churned_mrr"), "churn_date", "account_id"]).limit(limit)
    facts, src, avail = _facts(wh, top, cfg)
    rows = (
        facts.order_by([ibis.desc("churned_mrr"), "churn_date", "account_id"])
        .to_pyarrow()
        .to_pylist()
    )
    total = churns.aggregate(n=churns.count(), mrr=churns.churned_mrr.sum()).to_pyarrow()
    out = []
    for r in rows:
        item = _brief(r)
        if detail:
            all_dates = ledger_churns(wh, account_id=r["account_id"]).churn_date
            other = sorted(d.isoformat() for d in all_dates.to_pyarrow().to_pylist())
            item["forensics"] = _one(wh, r, src, avail, cfg, other, notes)
        out.append(item)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "churns_in_period": total["n"][0].as_py(),
        "churned_mrr_in_period": plain(total["mrr"][0].as_py()) or 0.0,
        "churns": out,
        "notes": notes,
    }


def _median(col: ir.NumericValue) -> ir.NumericValue:
    return col.cast("float64").median()


def forensics_summary(
    wh: Warehouse,
    *,
    start: date | None = None,
    end: date | None = None,
    owner: str | None = None,
    cfg: ForensicsConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Patterns across the churns of ``[start, end)`` (default: the last 365 days): churns
    and churned MRR per pattern, how early the earliest warning came (median lead, share
    warned at least ``early_warning_days`` ahead), and per warning how often it was
    visible at a churn against how often it was on for every account (its base rate)."""
    notes = require_ledger(wh)
    start, end = period_bounds(wh, start, end, 365)
    churns = ledger_churns(wh, start=start, end=end, owner=owner)
    facts, src, avail = _facts(wh, churns, cfg)
    early = cfg.early_warning_days

    def one(cond: ir.BooleanValue) -> ir.IntegerValue:
        return ibis.ifelse(cond.fill_null(False), 1, 0).sum()

    f = facts
    per = f.group_by("pattern").aggregate(
        churns=f.count(),
        churned_mrr=f.churned_mrr.sum(),
        median_lead_days=_median(f.earliest_lead),
        warned_early=one(f.earliest_lead >= early),
        warned=one(f.earliest_lead.notnull()),
    )
    by = {r["pattern"]: r for r in per.to_pyarrow().to_pylist()}
    overall = (
        f.aggregate(
            churns=f.count(),
            churned_mrr=f.churned_mrr.sum(),
            median_lead_days=_median(f.earliest_lead),
            warned_early=one(f.earliest_lead >= early),
            warned=one(f.earliest_lead.notnull()),
            **{f"{w.name}__n": one(f[f"{w.name}_lead"].notnull()) for w in WARNINGS},
            **{f"{w.name}__median": _median(f[f"{w.name}_lead"]) for w in WARNINGS},
            **{f"{w.name}__early": one(f[f"{w.name}_lead"] >= early) for w in WARNINGS},
            **{
                f"{t}__type": one(f.churn_type == t)
                for t in ("voluntary", "involuntary", "unknown")
            },
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    n = overall["churns"] or 0
    mrr = float(overall["churned_mrr"] or 0)

    def share(k: int | None, of: float) -> float | None:
        return None if not of else round((k or 0) / of, 4)

    patterns = []
    for p in PATTERNS:
        r = by.get(p.name, {})
        pm = float(r.get("churned_mrr") or 0)
        patterns.append(
            {
                "pattern": p.name,
                "label": p.label,
                "description": p.description,
                "churns": r.get("churns", 0),
                "share": share(r.get("churns", 0), n),
                "churned_mrr": round(pm, 2),
                "mrr_share": share(round(pm, 2), mrr) if mrr else None,  # type: ignore[arg-type]
                "median_lead_days": r.get("median_lead_days"),
                "warned_share": share(r.get("warned"), r.get("churns", 0)),
                "warned_early_share": share(r.get("warned_early"), r.get("churns", 0)),
            }
        )
    accounts = None
    if owner is not None:
        acc = wh.table("accounts")
        accounts = acc.filter(acc.owner_email.lower() == owner.lower()).select("account_id")
    rates = base_rates(src, cfg, avail, start, end, accounts)
    warnings = [
        {
            **w.to_dict(),
            "available": avail[w.name],
            "churns_warned": overall[f"{w.name}__n"],
            "share_of_churns": share(overall[f"{w.name}__n"], n),
            "median_lead_days": overall[f"{w.name}__median"],
            "warned_early": overall[f"{w.name}__early"],
            "base_rate": rates[w.name],
        }
        for w in WARNINGS
    ]
    status = source_status(src)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "churns": n,
        "churned_mrr": round(mrr, 2),
        "churn_types": {t: overall[f"{t}__type"] for t in ("voluntary", "involuntary", "unknown")},
        "earliest_warning": {
            "median_lead_days": overall["median_lead_days"],
            "warned_share": share(overall["warned"], n),
            "warned_early_share": share(overall["warned_early"], n),
            "early_warning_days": early,
        },
        "patterns": patterns,
        "warnings": warnings,
        "sources": status,
        "missing_sources": [k for k, v in status.items() if v != "ok"],
        "notes": notes,
        "config": cfg.to_dict(),
    }
