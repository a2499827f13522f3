"""NPS and CSAT arithmetic, with confidence intervals, over time and by segment.

**NPS** on 0-10 answers: promoters 9-10, passives 7-8, detractors 0-6;
``NPS = 100 x (promoters - detractors) / n``, from -100 to +100. Its 95% interval is
the **adjusted Wald** (Rocks 2016, *The American Statistician*; the method Sauro and Lewis
recommend): add 3 to ``n`` and 0.75 to each of promoters and detractors, then use the
variance of a difference of two proportions of one multinomial sample::

    p = (P + 0.75) / (n + 3),  d = (D + 0.75) / (n + 3)
    se = sqrt((p + d - (p - d)^2) / (n + 3))
    interval = 100 x ((p - d) +- 1.96 se), clipped to [-100, 100]

The plain Wald interval (the same formula without the adjustment) is given too as
``ci_wald``; it collapses to a point when every answer is in one group or ``n`` is 1,
which is why it is not the headline interval. No answers: everything is None.

**CSAT** on 1-5 answers: the share of 4s and 5s, with its Wilson score interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.errors import UserError
from helix.playbooks.impact import Z95, wilson
from helix.warehouse import Warehouse

__all__ = [
    "NpsSummary",
    "nps_from_counts",
    "nps_of",
    "CsatSummary",
    "csat_from_counts",
    "csat_of",
    "voice_scores",
    "SMALL_SAMPLE",
]

SMALL_SAMPLE = 30
"""Below this many answers a summary is flagged ``small_sample``."""


def _clip(x: float) -> float:
    return max(-100.0, min(100.0, x))


@dataclass(frozen=True)
class NpsSummary:
    """NPS of one group of answers."""

    n: int
    promoters: int
    passives: int
    detractors: int

    @property
    def nps(self) -> float | None:
        """``100 x (promoters - detractors) / n`` (None without answers)."""
        return 100.0 * (self.promoters - self.detractors) / self.n if self.n else None

    def _interval(self, extra_n: float, extra_each: float) -> tuple[float, float] | None:
        n = self.n + extra_n
        if n <= 0:
            return None
        p = (self.promoters + extra_each) / n
        d = (self.detractors + extra_each) / n
        var = max(0.0, (p + d - (p - d) ** 2) / n)
        half = Z95 * math.sqrt(var)
        return _clip(100 * (p - d - half)), _clip(100 * (p - d + half))

    @property
    def ci(self) -> tuple[float, float] | None:
        """The 95% adjusted-Wald interval (module docstring); None without answers."""
        return self._interval(3, 0.75) if self.n else None

    @property
    def ci_wald(self) -> tuple[float, float] | None:
        """The plain 95% Wald interval; None without answers."""
        return self._interval(0, 0) if self.n else None

    def to_dict(self) -> dict[str, Any]:
        """Counts, shares, NPS and both intervals (rounded to 2 decimals)."""

        def share(k: int) -> float | None:
            return round(k / self.n, 6) if self.n else None

        def pair(x: tuple[float, float] | None) -> list[float] | None:
            return [round(x[0], 2), round(x[1], 2)] if x else None

        return {
            "n": self.n,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "promoter_share": share(self.promoters),
            "passive_share": share(self.passives),
            "detractor_share": share(self.detractors),
            "nps": round(self.nps, 2) if self.nps is not None else None,
            "ci": pair(self.ci),
            "ci_wald": pair(self.ci_wald),
            "small_sample": self.n < SMALL_SAMPLE,
        }


def nps_from_counts(promoters: int, passives: int, detractors: int) -> NpsSummary:
    """An NPS summary from the three counts."""
    if min(promoters, passives, detractors) < 0:
        raise UserError("NPS counts cannot be negative")
    return NpsSummary(promoters + passives + detractors, promoters, passives, detractors)


def nps_of(scores: Iterable[int]) -> NpsSummary:
    """The NPS summary of 0-10 answers (an answer outside 0-10 is an error)."""
    p = pa = d = 0
    for s in scores:
        if not 0 <= s <= 10:
            raise UserError(f"an NPS answer is 0-10, not {s}")
        if s >= 9:
            p += 1
        elif s >= 7:
            pa += 1
        else:
            d += 1
    return nps_from_counts(p, pa, d)


@dataclass(frozen=True)
class CsatSummary:
    """CSAT of one group of 1-5 answers."""

    n: int
    satisfied: int
    mean: float | None

    @property
    def csat(self) -> float | None:
        """The share of 4s and 5s (None without answers)."""
        return self.satisfied / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        """Counts, CSAT, its Wilson interval and the mean score."""
        lo, hi = wilson(self.satisfied, self.n)
        return {
            "n": self.n,
            "satisfied": self.satisfied,
            "csat": round(self.csat, 6) if self.csat is not None else None,
            "ci": [round(lo, 6), round(hi, 6)] if self.n else None,
            "mean_score": round(self.mean, 4) if self.mean is not None else None,
            "small_sample": self.n < SMALL_SAMPLE,
        }


def csat_from_counts(n: int, satisfied: int, total_score: float | None = None) -> CsatSummary:
    """A CSAT summary from the number of answers, of 4s and 5s, and the sum of scores."""
    if not 0 <= satisfied <= n:
        raise UserError("satisfied answers must be between 0 and the number of answers")
    mean = (total_score / n) if (n and total_score is not None) else None
    return CsatSummary(n, satisfied, mean)


def csat_of(scores: Iterable[int]) -> CsatSummary:
    """The CSAT summary of 1-5 answers (an answer outside 1-5 is an error)."""
    values = list(scores)
    for s in values:
        if not 1 <= s <= 5:
            raise UserError(f"a CSAT answer is 1-5, not {s}")
    return csat_from_counts(len(values), sum(1 for s in values if s >= 4), float(sum(values)))


def _period(ts: ir.TimestampValue, by: str) -> ir.DateValue:
    if by == "month":
        return ts.truncate("M").date()
    if by == "quarter":
        return ts.truncate("Q").date()
    raise UserError(f"cannot group by {by!r}", hint="use month or quarter")


def _answers(wh: Warehouse, measure: str, start: date | None, end: date | None) -> ir.Table:
    """Rows ``account_id, at, score`` of NPS answers, CSAT surveys or ticket CSAT."""
    if measure == "nps" or measure == "csat":
        if not wh.has_table("survey_responses"):
            raise UserError("no survey responses imported", hint="import survey_responses.csv")
        s = wh.table("survey_responses")
        t = s.filter(s.survey.lower() == measure).select(
            account_id=s.account_id, at=s.responded_at, score=s.score
        )
    elif measure == "ticket_csat":
        if not wh.has_table("tickets"):
            raise UserError("no tickets imported", hint="import tickets.csv")
        k = wh.table("tickets")
        t = k.filter(k.csat.notnull()).select(
            account_id=k.account_id, at=k.created_at, score=k.csat
        )
    else:
        raise UserError(f"unknown measure {measure!r}", hint="use nps, csat or ticket_csat")
    lo, hi = (0, 10) if measure == "nps" else (1, 5)
    t = t.filter(t.score.between(lo, hi))
    if start is not None:
        t = t.filter(t.at >= datetime.combine(start, time()))
    if end is not None:
        t = t.filter(t.at < datetime.combine(end, time()))
    return t


def _with_segment(wh: Warehouse, t: ir.Table, segment_by: str) -> ir.Table:
    if segment_by == "segment":
        a = wh.table("accounts").select(
            _aid="account_id",
            group=ibis.coalesce(wh.table("accounts").segment, ibis.literal("(none)")),
        )
    elif segment_by == "tier":
        if not wh.has_table("account_summary"):
            raise UserError("no account summary yet", hint="run `helix run` first")
        summ = wh.table("account_summary")
        a = summ.select(
            _aid=summ.account_id, group=ibis.coalesce(summ.tier, ibis.literal("(none)"))
        )
    else:
        raise UserError(f"cannot segment by {segment_by!r}", hint="use segment or tier")
    j = t.left_join(a, t.account_id == a._aid)
    return j.mutate(group=ibis.coalesce(j.group, ibis.literal("(none)"))).drop("_aid")


def _aggregate(t: ir.Table, keys: list[str], measure: str) -> list[dict[str, Any]]:
    if measure == "nps":
        metrics = {
            "promoters": (t.score >= 9).cast("int64").sum(),
            "passives": t.score.between(7, 8).cast("int64").sum(),
            "detractors": (t.score <= 6).cast("int64").sum(),
        }
    else:
        metrics = {
            "n": t.count(),
            "satisfied": (t.score >= 4).cast("int64").sum(),
            "total": t.score.sum(),
        }
    if not keys:
        return t.aggregate(**metrics).to_pyarrow().to_pylist()
    return t.group_by(keys).aggregate(**metrics).order_by(keys).to_pyarrow().to_pylist()


def _summary(row: dict[str, Any], measure: str) -> dict[str, Any]:
    if measure == "nps":
        return nps_from_counts(
            int(row["promoters"] or 0), int(row["passives"] or 0), int(row["detractors"] or 0)
        ).to_dict()
    total = row.get("total")
    return csat_from_counts(
        int(row["n"] or 0), int(row["satisfied"] or 0), float(total) if total is not None else None
    ).to_dict()


def _empty(measure: str) -> dict[str, Any]:
    return (
        nps_from_counts(0, 0, 0).to_dict() if measure == "nps" else csat_from_counts(0, 0).to_dict()
    )


def voice_scores(
    wh: Warehouse,
    measure: str = "nps",
    *,
    by: str = "month",
    segment_by: str = "segment",
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """``measure`` (nps, csat or ticket_csat) overall, per period, per segment, and per
    segment and period, over answers in ``[start, end)``."""
    t = _answers(wh, measure, start, end)
    t = _with_segment(wh, t, segment_by)
    t = t.mutate(period=_period(t.at, by))
    overall_rows = _aggregate(t, [], measure)
    overall = _summary(overall_rows[0], measure) if overall_rows else _empty(measure)
    if overall["n"] == 0:
        overall = _empty(measure)
    series = [
        {"period": r["period"].isoformat(), **_summary(r, measure)}
        for r in _aggregate(t, ["period"], measure)
    ]
    segments = [
        {"segment": r["group"], **_summary(r, measure)} for r in _aggregate(t, ["group"], measure)
    ]
    cells = [
        {"segment": r["group"], "period": r["period"].isoformat(), **_summary(r, measure)}
        for r in _aggregate(t, ["group", "period"], measure)
    ]
    return {
        "measure": measure,
        "by": by,
        "segment_by": segment_by,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "overall": overall,
        "series": series,
        "segments": segments,
        "by_segment_and_period": cells,
        "method": (
            "NPS = %promoters (9-10) - %detractors (0-6); 95% adjusted-Wald interval"
            if measure == "nps"
            else "CSAT = share of 4-5 answers on 1-5; 95% Wilson interval"
        ),
    }
