"""The board slide's numbers for one quarter (seed 002, "The CS slide for the board deck").

Every figure comes from the library that computes it elsewhere, never again here:

* headline and composition: :func:`helix.metrics.retention.retention_window` over
  the quarter ``[start, end)``, the document of ``helix metrics retention --start
  START --end END``; the prior quarter likewise; targets from the app-store
  setting ``board_targets`` (fractions, e.g. ``{"nrr": 1.10, "grr": 0.92}``);
* expansion as a share of growth: expansion MRR / (expansion MRR + new MRR), the
  definition of ``helix metrics benchmark``;
* cohort chart: :func:`helix.metrics.cohorts.cohort_table` (GRR by quarterly
  cohort) as of the quarter's end, as ``helix metrics cohorts --as-of END``;
* forward view: :func:`helix.predict.service.forecast_renewals` of the next
  quarter as of the quarter's end, as ``helix forecast renewals``; at-risk ARR
  is the ARR of the *at risk* and *critical* buckets;
* the two risks (:func:`choose_risks`): the candidates are the at-risk renewals
  of the next quarter (ARR at stake = their ARR) and the worst-trending segment
  (of the segments whose NRR fell from the prior quarter, the one whose fall
  costs the most: ARR at stake = the fall x the segment's start MRR x 12); the
  two with the most ARR at stake are flagged, at
  most one of them a segment. Each carries its plan (:mod:`helix.reports.plans`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from helix.errors import UserError
from helix.metrics.cohorts import CohortTable, cohort_table
from helix.metrics.retention import RetentionWindow, retention_by, retention_window
from helix.platform import Platform
from helix.predict.forecast import BUCKETS
from helix.reports.periods import Quarter
from helix.reports.plans import Plan, plans_for

__all__ = [
    "TARGETS_SETTING",
    "TARGET_KEYS",
    "AT_RISK_BUCKETS",
    "BoardReport",
    "board_report",
    "board_targets",
    "choose_risks",
    "expansion_share",
]

TARGETS_SETTING = "board_targets"
TARGET_KEYS = ("nrr", "grr", "logo_retention")
AT_RISK_BUCKETS = ("at_risk", "critical")
COHORTS_ON_SLIDE = 8


def expansion_share(w: RetentionWindow) -> float | None:
    """Expansion MRR / (expansion MRR + new MRR): the share of growth from existing customers."""
    growth = w.expansion_mrr + w.new_mrr
    return float(w.expansion_mrr / growth) if growth else None


def board_targets(value: Any) -> dict[str, float]:
    """The ``board_targets`` setting checked: fractions for nrr, grr and logo_retention."""
    if value is None:
        return {}
    hint = 'e.g. helix settings set board_targets \'{"nrr": 1.10, "grr": 0.92}\''
    if not isinstance(value, dict):
        raise UserError(f"the setting {TARGETS_SETTING} must be a JSON object", hint=hint)
    out: dict[str, float] = {}
    for key, v in value.items():
        if key not in TARGET_KEYS:
            raise UserError(
                f"unknown key {key!r} in the setting {TARGETS_SETTING}",
                hint=f"use {', '.join(TARGET_KEYS)}",
            )
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < float(v) <= 3:
            raise UserError(
                f"{TARGETS_SETTING}.{key} must be a fraction such as 1.10 (110%), not {v!r}",
                hint=hint,
            )
        out[key] = float(v)
    return out


@dataclass(frozen=True)
class BoardReport:
    """Everything the board slide and its appendix show, for one quarter."""

    period: Quarter
    data_as_of: date
    current: RetentionWindow
    prior: RetentionWindow
    targets: dict[str, float]
    cohorts: CohortTable
    forecast: dict[str, Any]
    segments: list[dict[str, Any]]
    risks: list[dict[str, Any]]
    at_risk_renewals: list[dict[str, Any]]

    def headline(self) -> dict[str, dict[str, Any]]:
        """NRR, GRR and logo retention with the prior quarter, the change and the target."""
        out: dict[str, dict[str, Any]] = {}
        for key in TARGET_KEYS:
            value = getattr(self.current, key)
            prior = getattr(self.prior, key)
            target = self.targets.get(key)
            out[key] = {
                "value": value,
                "prior": prior,
                "change": None if value is None or prior is None else value - prior,
                "target": target,
                "vs_target": None if value is None or target is None else value - target,
            }
        return out

    def composition(self) -> dict[str, Any]:
        """Churn by kind (involuntary, voluntary, unknown, downgrade) and expansion's share."""
        return {
            "churn": self.current.churn_by_type,
            "churned_mrr": self.current.churned_mrr,
            "contraction_mrr": self.current.contraction_mrr,
            "expansion_mrr": self.current.expansion_mrr,
            "expansion_by_type": self.current.to_dict()["expansion_by_type"],
            "new_mrr": self.current.new_mrr,
            "expansion_share_of_growth": expansion_share(self.current),
            "prior_expansion_share_of_growth": expansion_share(self.prior),
        }

    def forward(self) -> dict[str, Any]:
        """The next quarter's renewal forecast by bucket and its at-risk ARR."""
        f = self.forecast
        at_risk = sum(Decimal(str(f["buckets"][b]["arr"])) for b in AT_RISK_BUCKETS)
        return {
            "period": self.period.next.label,
            "from": f["from"],
            "to": f["to"],
            "as_of": f["as_of"],
            "renewals": f["renewals"],
            "arr": f["arr"],
            "expected_arr": f["expected_arr"],
            "interval_90": f["interval_90"],
            "buckets": f["buckets"],
            "at_risk_arr": at_risk,
            "at_risk_renewals": sum(f["buckets"][b]["renewals"] for b in AT_RISK_BUCKETS),
        }

    def to_dict(self) -> dict[str, Any]:
        """The numbers placed on the slide and its appendix (``helix report board --json``)."""
        return {
            "period": self.period.label,
            "window": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "data_as_of": self.data_as_of.isoformat(),
            "targets": self.targets,
            "headline": self.headline(),
            "retention": self.current.to_dict(),
            "prior": {"period": self.period.prior.label, **self.prior.to_dict()},
            "composition": self.composition(),
            "cohorts": self.cohorts.to_dict(),
            "forecast": self.forward(),
            "risks": self.risks,
            "segments": self.segments,
            "at_risk_renewals": self.at_risk_renewals,
        }


def _segments(platform: Platform, period: Quarter) -> list[dict[str, Any]]:
    wh = platform.warehouse
    now = retention_by(wh, period.start, period.end, "segment")
    before = retention_by(wh, period.prior.start, period.prior.end, "segment")
    rows = []
    for name, w in now.groups.items():
        p = before.groups.get(name)
        prior_nrr = p.nrr if p is not None else None
        change = None if w.nrr is None or prior_nrr is None else w.nrr - prior_nrr
        rows.append(
            {
                "segment": name,
                "accounts_start": w.accounts_start,
                "start_mrr": w.start_mrr,
                "grr": w.grr,
                "nrr": w.nrr,
                "prior_grr": p.grr if p is not None else None,
                "prior_nrr": prior_nrr,
                "nrr_change": change,
            }
        )
    return rows


def _renewal_risk(r: dict[str, Any], plan: Plan | None) -> dict[str, Any]:
    name = r.get("name") or r["account_id"]
    health = (
        "no health score"
        if r.get("health_score") is None
        else f"health {float(r['health_score']):.0f} ({r.get('color') or 'no colour'})"
    )
    bucket = str(r["bucket"]).replace("_", " ")
    prob = r.get("probability")
    chance = "" if prob is None else f", {float(prob) * 100:.0f}% likely to renew"
    return {
        "kind": "renewal",
        "account_id": r["account_id"],
        "name": name,
        "segment": r.get("segment"),
        "owner_email": r.get("owner_email"),
        "renewal_date": r["renewal_date"],
        "bucket": r["bucket"],
        "probability": prob,
        "health_score": r.get("health_score"),
        "color": r.get("color"),
        "arr_at_stake": Decimal(str(r["arr"])).quantize(Decimal("0.01")),
        "title": f"{name} renews {r['renewal_date']}: ARR at stake ${float(r['arr']):,.2f}",
        "why": f"forecast {bucket}{chance}; {health}",
        "plan": (plan or Plan(r["account_id"], [], [])).to_dict(),
    }


def _segment_risk(
    s: dict[str, Any], renewals: list[dict[str, Any]], plans: dict[str, Plan]
) -> dict[str, Any]:
    fall = Decimal(str(s["prior_nrr"] - s["nrr"]))
    at_stake = (fall * s["start_mrr"] * 12).quantize(Decimal("0.01"))
    mine = [r for r in renewals if r.get("segment") == s["segment"]]
    covered = [
        r["account_id"] for r in mine if r["account_id"] in plans and plans[r["account_id"]].exists
    ]
    if mine:
        summary = (
            f"Plans on {len(covered)} of the segment's {len(mine)} at-risk renewals next quarter"
        )
    else:
        summary = "No at-risk renewals in the segment next quarter; no segment plan recorded"
    return {
        "kind": "segment",
        "segment": s["segment"],
        "nrr": s["nrr"],
        "prior_nrr": s["prior_nrr"],
        "nrr_change": s["nrr_change"],
        "arr_at_stake": at_stake,
        "title": (
            f"{s['segment']}: NRR fell {abs(s['nrr_change']) * 100:.1f} pts to "
            f"{s['nrr'] * 100:.1f}% (from {s['prior_nrr'] * 100:.1f}%)"
        ),
        "why": f"the decline is worth ${at_stake:,.2f} of ARR on the segment's start MRR",
        "plan": {
            "exists": bool(covered),
            "summary": summary,
            "accounts": covered,
            "at_risk_accounts": [r["account_id"] for r in mine],
        },
    }


def choose_risks(
    renewals: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    plans: dict[str, Plan],
    count: int = 2,
) -> list[dict[str, Any]]:
    """The ``count`` risks to flag, most ARR at stake first (see the module docstring).

    ``renewals`` are forecast items (``account_id``, ``arr``, ``bucket`` ...);
    only those in an at-risk bucket are candidates. ``segments`` are rows with
    ``segment``, ``nrr``, ``prior_nrr``, ``nrr_change`` and ``start_mrr``; of
    those whose NRR fell, the one whose fall costs the most ARR is the segment
    candidate. Ties go to the renewal, then to the account id or segment name.
    """
    at_risk = [r for r in renewals if r.get("bucket") in AT_RISK_BUCKETS and float(r["arr"]) > 0]
    candidates: list[tuple[Decimal, int, str, dict[str, Any]]] = []
    for r in at_risk:
        risk = _renewal_risk(r, plans.get(r["account_id"]))
        candidates.append((risk["arr_at_stake"], 0, r["account_id"], risk))
    falling = [
        s
        for s in segments
        if s.get("nrr_change") is not None and s["nrr_change"] < 0 and s.get("start_mrr")
    ]
    if falling:
        risks = [_segment_risk(s, at_risk, plans) for s in falling]
        worst = min(risks, key=lambda x: (-x["arr_at_stake"], x["segment"]))
        candidates.append((worst["arr_at_stake"], 1, worst["segment"], worst))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [c[3] for c in candidates[:count]]


def board_report(
    platform: Platform, period: Quarter, *, data_as_of: date | None = None
) -> BoardReport:
    """Compute the board slide of ``period`` (a complete quarter of the data)."""
    from helix.predict.service import data_as_of as last_run
    from helix.store.settings import get_setting

    wh = platform.warehouse
    day = data_as_of or last_run(wh)
    if period.end > day:
        raise UserError(
            f"{period.label} is not over in the data: it ends {period.last_day.isoformat()} "
            f"and the data runs to {day.isoformat()}",
            hint=f"choose {Quarter.of(day).prior.label} or earlier, or import and `helix run` "
            "later data",
        )
    with platform.store.session() as session:
        targets = board_targets(get_setting(session, TARGETS_SETTING))
    current = retention_window(wh, period.start, period.end)
    prior = retention_window(wh, period.prior.start, period.prior.end)
    cohorts = cohort_table(wh, period.end, by="quarter", measure="grr")
    forecast = forecast_next(platform, period)
    items = forecast["items"]
    segments = _segments(platform, period)
    at_risk = sorted(
        (r for r in items if r["bucket"] in AT_RISK_BUCKETS),
        key=lambda r: (-float(r["arr"]), r["account_id"]),
    )
    with platform.store.session() as session:
        plans = plans_for(session, [r["account_id"] for r in at_risk], period.end)
    risks = choose_risks(items, segments, plans)
    listed = [
        {
            "account_id": r["account_id"],
            "name": r.get("name"),
            "segment": r.get("segment"),
            "owner_email": r.get("owner_email"),
            "renewal_date": r["renewal_date"],
            "arr": r["arr"],
            "bucket": r["bucket"],
            "probability": r["probability"],
            "health_score": r.get("health_score"),
            "color": r.get("color"),
            "plan": plans[r["account_id"]].summary(),
        }
        for r in at_risk
    ]
    return BoardReport(
        period, day, current, prior, targets, cohorts, forecast, segments, risks, listed
    )


def forecast_next(platform: Platform, period: Quarter) -> dict[str, Any]:
    """The renewal forecast of the quarter after ``period``, as of ``period``'s end."""
    from helix.predict.service import forecast_renewals

    nxt = period.next
    return forecast_renewals(platform, nxt.start, nxt.last_day, as_of=period.end)


def bucket_rows(forward: dict[str, Any]) -> list[dict[str, Any]]:
    """The forecast's buckets in order, for tables."""
    return [{"bucket": b, **forward["buckets"][b]} for b in BUCKETS]
