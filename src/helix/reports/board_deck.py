"""The board slide and its appendix as a :class:`~helix.reports.slides.Deck`.

One slide in the seed's shape (lead with NRR, show the composition behind it,
give the forward view and the two risks), then one appendix slide with the
detail. Shape names (``nrr``, ``grr``, ``logo_retention``, ``composition``,
``composition_chart``, ``cohort_chart``, ``forecast``, ``risks``, and on the
appendix ``retention_detail``, ``segments``, ``at_risk_renewals``) are stable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from helix.reports.board import COHORTS_ON_SLIDE, BoardReport, bucket_rows, expansion_share
from helix.reports.formats import money, pct, points
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

__all__ = ["board_deck", "CHURN_LABELS", "BUCKET_LABELS"]

CHURN_LABELS = {
    "involuntary": "Involuntary churn",
    "voluntary": "Voluntary churn",
    "unknown": "Churn, kind not recorded",
    "downgrade": "Downgrade",
}
BUCKET_LABELS = {
    "committed": "Committed",
    "likely": "Likely",
    "at_risk": "At risk",
    "critical": "Critical",
}
MONEY_FORMAT = '"$"#,##0.00'


def _tone(vs_target: float | None, change: float | None) -> str:
    if vs_target is not None:
        return "good" if vs_target >= 0 else "bad"
    if change is not None:
        return "good" if change >= 0 else "warn"
    return "neutral"


def _tile(
    name: str, label: str, h: dict[str, Any], prior_label: str, box: Box, size: float
) -> MetricBlock:
    notes = [f"prior {prior_label}: {pct(h['prior'])} ({points(h['change'])})"]
    if h["target"] is not None:
        notes.append(f"target: {pct(h['target'])} ({points(h['vs_target'])})")
    else:
        notes.append("target: not set")
    return MetricBlock(
        name, box, label, pct(h["value"]), notes, _tone(h["vs_target"], h["change"]), size
    )  # type: ignore[arg-type]


def _composition_lines(r: BoardReport) -> list[Para]:
    c = r.composition()
    churn = c["churn"]
    lines = [Para("Composition (MRR over the quarter)", 12, True, COLORS["navy"])]
    for kind in ("involuntary", "voluntary", "unknown", "downgrade"):
        if kind == "unknown" and not churn[kind]:
            continue
        lines.append(Para(f"{CHURN_LABELS[kind]}: {money(churn[kind])}", 10))
    lines.append(Para(f"Expansion MRR: {money(c['expansion_mrr'])}", 10))
    lines.append(Para(f"New logos and returns: {money(c['new_mrr'])}", 10))
    share = c["expansion_share_of_growth"]
    lines.append(
        Para(
            f"Expansion: {pct(share)} of growth "
            f"(prior {pct(c['prior_expansion_share_of_growth'])})",
            10,
            True,
        )
    )
    return lines


def _cohort_chart(r: BoardReport, box: Box) -> ChartBlock:
    rows = r.cohorts.rows[-COHORTS_ON_SLIDE:]
    width = max((len(row.values) for row in rows), default=0)
    series = [
        (f"{row.cohort} ({row.accounts})", [*row.values, *([None] * (width - len(row.values)))])
        for row in rows
    ]
    return ChartBlock(
        "cohort_chart",
        box,
        "line",
        "Gross revenue retention by quarterly cohort (months since cohort start)",
        [str(k) for k in range(width)],
        series,
        "0%",
    )


def _composition_chart(r: BoardReport, box: Box) -> ChartBlock:
    c = r.composition()
    cats = [CHURN_LABELS[k] for k in ("involuntary", "voluntary", "unknown", "downgrade")]
    values = [float(c["churn"][k]) for k in ("involuntary", "voluntary", "unknown", "downgrade")]
    cats.append("Expansion")
    values.append(float(c["expansion_mrr"]))
    return ChartBlock(
        "composition_chart",
        box,
        "bar",
        "Where MRR went, and what expansion added",
        cats,
        [("MRR", values)],
        MONEY_FORMAT,
        legend=False,
    )


def _forecast_table(r: BoardReport, box: Box) -> TableBlock:
    f = r.forward()
    rows = [
        [
            BUCKET_LABELS[b["bucket"]],
            str(b["renewals"]),
            money(b["arr"]),
            "-" if b["probability"] is None else pct(b["probability"], 0),
            money(b["expected_arr"]),
        ]
        for b in bucket_rows(f)
    ]
    rows.append(["Total", str(f["renewals"]), money(f["arr"]), "", money(f["expected_arr"])])
    return TableBlock(
        "forecast",
        box,
        ["Renewals " + f["period"], "count", "ARR", "chance", "expected ARR"],
        rows,
        [False, True, True, True, True],
        9,
    )


def _risk_lines(r: BoardReport) -> list[Para]:
    f = r.forward()
    lines = [
        Para(
            f"At-risk ARR {f['period']}: {money(f['at_risk_arr'])} "
            f"({f['at_risk_renewals']} renewals at risk or critical)",
            11,
            True,
            COLORS["bad"] if f["at_risk_arr"] else COLORS["good"],
        ),
        Para("Two risks to flag", 12, True, COLORS["navy"]),
    ]
    if not r.risks:
        lines.append(
            Para("None found: no at-risk renewals next quarter and no segment's NRR fell.", 10)
        )
    for i, risk in enumerate(r.risks, 1):
        lines.append(Para(f"{i}. {risk['title']}", 10, True))
        lines.append(Para(f"   {risk['why']}", 9, False, COLORS["muted"]))
        plan = risk["plan"]
        lines.append(
            Para(
                f"   {plan['summary']}",
                9,
                False,
                COLORS["good"] if plan["exists"] else COLORS["bad"],
            )
        )
    return lines


def _slide(r: BoardReport) -> Slide:
    h = r.headline()
    prior = r.period.prior.label
    blocks: list[Any] = [
        _tile("nrr", "Net revenue retention", h["nrr"], prior, Box(0.4, 1.15, 3.4, 1.45), 36),
        _tile("grr", "Gross revenue retention", h["grr"], prior, Box(3.95, 1.15, 2.75, 1.45), 26),
        _tile(
            "logo_retention",
            "Logo retention",
            h["logo_retention"],
            prior,
            Box(6.85, 1.15, 2.75, 1.45),
            26,
        ),
        TextBlock(
            "composition", Box(9.75, 1.15, 3.2, 1.45), _composition_lines(r), fill=COLORS["panel"]
        ),
        _cohort_chart(r, Box(0.4, 2.75, 6.4, 2.5)),
        _composition_chart(r, Box(6.95, 2.75, 6.0, 2.5)),
        _forecast_table(r, Box(0.4, 5.35, 6.4, 1.65)),
        TextBlock("risks", Box(6.95, 5.3, 6.0, 1.75), _risk_lines(r)),
    ]
    w = r.current
    return Slide(
        f"Customer Success, {r.period.label}",
        f"Accounts active on {w.start.isoformat()} ({w.accounts_start}), measured to "
        f"{w.end.isoformat()}; start MRR {money(w.start_mrr)}. "
        f"Forward view as of {w.end.isoformat()}.",
        blocks,
        f"Helix, from the warehouse as of {r.data_as_of.isoformat()}. "
        "NRR and GRR exclude new logos "
        "(docs/metrics.md); targets from the setting board_targets; detail in the appendix.",
    )


def _detail_rows(r: BoardReport) -> list[list[str]]:
    a, b = r.current, r.prior
    rows: list[tuple[str, str, str]] = [
        ("Accounts at start", f"{a.accounts_start:,}", f"{b.accounts_start:,}"),
        ("Accounts churned", f"{a.accounts_churned:,}", f"{b.accounts_churned:,}"),
        ("Start MRR", money(a.start_mrr), money(b.start_mrr)),
    ]
    for kind in ("involuntary", "voluntary", "unknown"):
        rows.append(
            (f"  {CHURN_LABELS[kind]}", money(a.churn_by_type[kind]), money(b.churn_by_type[kind]))
        )
    rows.append(("Churned MRR", money(a.churned_mrr), money(b.churned_mrr)))
    rows.append(("Contraction (downgrade) MRR", money(a.contraction_mrr), money(b.contraction_mrr)))
    exp_a, exp_b = a.to_dict()["expansion_by_type"], b.to_dict()["expansion_by_type"]
    for kind in exp_a:
        rows.append(
            (f"  expansion: {kind.replace('_', ' ')}", money(exp_a[kind]), money(exp_b[kind]))
        )
    rows += [
        ("Expansion MRR", money(a.expansion_mrr), money(b.expansion_mrr)),
        ("End MRR (of the start cohort)", money(a.end_mrr), money(b.end_mrr)),
        ("New MRR (not in NRR)", money(a.new_mrr), money(b.new_mrr)),
        ("GRR", pct(a.grr), pct(b.grr)),
        ("NRR", pct(a.nrr), pct(b.nrr)),
        ("Logo retention", pct(a.logo_retention), pct(b.logo_retention)),
        ("Expansion share of growth", pct(expansion_share(a)), pct(expansion_share(b))),
    ]
    return [list(x) for x in rows]


def _appendix(r: BoardReport) -> Slide:
    seg_rows = [
        [
            s["segment"],
            str(s["accounts_start"]),
            money(s["start_mrr"]),
            pct(s["grr"]),
            pct(s["nrr"]),
            pct(s["prior_nrr"]),
            points(s["nrr_change"]),
        ]
        for s in r.segments
    ]
    risk_rows = [
        [
            (x["name"] or x["account_id"])[:28],
            x["renewal_date"],
            money(Decimal(str(x["arr"]))),
            BUCKET_LABELS[x["bucket"]],
            "-" if x["health_score"] is None else f"{float(x['health_score']):.0f}",
            x["plan"][:70],
        ]
        for x in r.at_risk_renewals[:8]
    ]
    detail = _detail_rows(r)
    return Slide(
        f"Appendix: Customer Success detail, {r.period.label}",
        f"Retention windows [{r.period.start}, {r.period.end}) and "
        f"[{r.period.prior.start}, {r.period.prior.end}); money is MRR unless marked ARR.",
        [
            TableBlock(
                "retention_detail",
                Box(0.4, 1.15, 5.6, 5.8),
                ["", r.period.label, r.period.prior.label],
                detail,
                [False, True, True],
                8,
                [2.2, 1.0, 1.0],
            ),
            TableBlock(
                "segments",
                Box(6.2, 1.15, 6.75, 0.3 * (len(seg_rows) + 1)),
                [
                    "Segment",
                    "accounts",
                    "start MRR",
                    "GRR",
                    "NRR",
                    f"NRR {r.period.prior.label}",
                    "change",
                ],
                seg_rows,
                [False, True, True, True, True, True, True],
                8,
            ),
            TextBlock(
                "at_risk_title",
                Box(6.2, 1.35 + 0.3 * (len(seg_rows) + 1), 6.75, 0.35),
                [
                    Para(
                        f"At-risk renewals {r.period.next.label} (largest first)",
                        11,
                        True,
                        COLORS["navy"],
                    )
                ],
            ),
            TableBlock(
                "at_risk_renewals",
                Box(6.2, 1.75 + 0.3 * (len(seg_rows) + 1), 6.75, 0.28 * (len(risk_rows) + 1)),
                ["Account", "renews", "ARR", "bucket", "health", "plan"],
                risk_rows or [["none", "", "", "", "", ""]],
                [False, False, True, False, True, False],
                7,
                [2.2, 1.2, 1.3, 0.9, 0.7, 4.0],
            ),
        ],
        "Definitions: docs/metrics.md (retention), docs/forecast.md (buckets), "
        "docs/reports.md (risks and plans).",
    )


def board_deck(r: BoardReport) -> Deck:
    """The board slide and the appendix of ``r``."""
    return Deck(
        f"Customer Success board slide {r.period.label}",
        f"NRR {pct(r.current.nrr)}, GRR {pct(r.current.grr)}, "
        f"logo retention {pct(r.current.logo_retention)}",
        [_slide(r), _appendix(r)],
        comments=f"Generated by Helix from the data as of {r.data_as_of.isoformat()}.",
    )
