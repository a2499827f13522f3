"""Benchmarks: each metric placed in the published bands and quartiles (seeds 002 and 003).

Two kinds of scale:

- **Bands** (seed 002, chapter "The Economics of Customer Success", table
  "What Good Looks Like"): GRR best in class > 95%, strong 90-95%,
  acceptable 85-90%, warning zone < 85%; NRR > 120%, 110-120%, 100-110%, < 100%.
- **Quartiles** (seed 003, "Industry Performance Benchmarks"): NRR, GRR,
  expansion as % of growth, CSM:customer ratios (enterprise, mid-market),
  cost-to-serve (% of ARR), time-to-value.

Boundaries: the best level's bound is strict (GRR 95% is *strong*, not best
in class, because the table says "> 95%"); middle levels include both ends
of their stated range, the better level winning a shared endpoint (GRR 90%
is *strong*); the worst level is everything else. For metrics where lower is
better (accounts per CSM, cost-to-serve, time-to-value) the same rule runs
downward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from helix.metrics.unit_economics import EconomicsInputs, UnitEconomics, unit_economics
from helix.warehouse import Warehouse

__all__ = ["Scale", "Placement", "SCALES", "place", "benchmark_report", "benchmark"]

_SEED_002 = "seed 002, ch. 4 'The Economics of Customer Success', table 'What Good Looks Like'"
_SEED_003 = "seed 003, 'Industry Performance Benchmarks'"


@dataclass(frozen=True)
class Scale:
    """Ordered levels of one metric, best first; ``bounds[i]`` separates level i from i+1."""

    metric: str
    kind: str  # "band" or "quartile"
    higher_is_better: bool
    levels: tuple[str, ...]
    bounds: tuple[float, ...]
    ranges: tuple[str, ...]
    source: str

    def level_of(self, value: float) -> int:
        """Index of the level holding ``value`` (0 = best)."""
        for i, bound in enumerate(self.bounds):
            if self.higher_is_better:
                ok = value > bound if i == 0 else value >= bound
            else:
                ok = value < bound if i == 0 else value <= bound
            if ok:
                return i
        return len(self.levels) - 1


def _scale(
    metric: str, kind: str, higher: bool, spec: list[tuple[str, float | None, str]], source: str
) -> Scale:
    return Scale(
        metric,
        kind,
        higher,
        tuple(name for name, _, _ in spec),
        tuple(bound for _, bound, _ in spec if bound is not None),
        tuple(text for _, _, text in spec),
        source,
    )


SCALES: dict[tuple[str, str], Scale] = {
    (s.metric, s.kind): s
    for s in (
        _scale(
            "grr", "band", True,
            [("best_in_class", 0.95, "> 95%"), ("strong", 0.90, "90-95%"),
             ("acceptable", 0.85, "85-90%"), ("warning_zone", None, "< 85%")],
            _SEED_002,
        ),
        _scale(
            "nrr", "band", True,
            [("best_in_class", 1.20, "> 120%"), ("strong", 1.10, "110-120%"),
             ("acceptable", 1.00, "100-110%"), ("warning_zone", None, "< 100%")],
            _SEED_002,
        ),
        _scale(
            "nrr", "quartile", True,
            [("top_quartile", 1.15, "> 115%"), ("above_average", 1.05, "105-115%"),
             ("average", 0.95, "95-105%"), ("bottom_quartile", None, "< 95%")],
            _SEED_003,
        ),
        _scale(
            "grr", "quartile", True,
            [("top_quartile", 0.95, "> 95%"), ("above_average", 0.92, "92-95%"),
             ("average", 0.85, "85-92%"), ("bottom_quartile", None, "< 85%")],
            _SEED_003,
        ),
        _scale(
            "expansion_share", "quartile", True,
            [("top_quartile", 0.35, "> 35%"), ("above_average", 0.20, "20-35%"),
             ("average", 0.10, "10-20%"), ("bottom_quartile", None, "< 10%")],
            _SEED_003,
        ),
        _scale(
            "accounts_per_csm_enterprise", "quartile", False,
            [("top_quartile", 15, "< 1:15"), ("above_average", 20, "1:15-20"),
             ("average", 30, "1:20-30"), ("bottom_quartile", None, "> 1:30")],
            _SEED_003,
        ),
        _scale(
            "accounts_per_csm_mid_market", "quartile", False,
            [("top_quartile", 40, "< 1:40"), ("above_average", 50, "1:40-50"),
             ("average", 70, "1:50-70"), ("bottom_quartile", None, "> 1:70")],
            _SEED_003,
        ),
        _scale(
            "cost_to_serve", "quartile", False,
            [("top_quartile", 0.07, "< 7% of ARR"), ("above_average", 0.10, "7-10%"),
             ("average", 0.15, "10-15%"), ("bottom_quartile", None, "> 15%")],
            _SEED_003,
        ),
        _scale(
            "time_to_value_days", "quartile", False,
            [("top_quartile", 60, "< 60 days"), ("above_average", 90, "60-90 days"),
             ("average", 180, "90-180 days"), ("bottom_quartile", None, "> 180 days")],
            _SEED_003,
        ),
    )
}  # fmt: skip
"""Every scale by (metric, kind)."""


@dataclass(frozen=True)
class Placement:
    """Where one value sits on one scale (``level`` None when the value is not measured)."""

    metric: str
    kind: str
    value: float | None
    level: str | None
    range: str | None
    levels: dict[str, str]
    source: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the metric, its value, the level's name and range, all levels, the source."""
        return {
            "metric": self.metric,
            "kind": self.kind,
            "value": self.value,
            "level": self.level,
            "range": self.range,
            "levels": self.levels,
            "source": self.source,
            "note": self.note,
        }


def place(metric: str, kind: str, value: float | None, note: str | None = None) -> Placement:
    """Place ``value`` of ``metric`` on its ``kind`` scale ("band" or "quartile")."""
    scale = SCALES[(metric, kind)]
    levels = dict(zip(scale.levels, scale.ranges, strict=True))
    if value is None:
        return Placement(
            metric, kind, None, None, None, levels, scale.source, note or "not measured"
        )
    i = scale.level_of(value)
    return Placement(
        metric, kind, value, scale.levels[i], scale.ranges[i], levels, scale.source, note
    )


def benchmark_report(
    econ: UnitEconomics, *, time_to_value_days: float | None = None
) -> list[Placement]:
    """Place the trailing-window retention and the unit economics of ``econ`` on every scale.

    ``expansion_share`` is expansion MRR / (expansion MRR + new MRR) over the
    window (the share of growth from existing customers). Accounts per CSM by
    tier use the account owners (``owner_email``) as the CSMs.
    """
    w = econ.retention
    growth = w.expansion_mrr + w.new_mrr
    share = float(w.expansion_mrr / growth) if growth else None
    tiers = econ.csm_ratios.get("by_tier", {})

    def per_csm(tier: str) -> tuple[float | None, str | None]:
        row = tiers.get(tier)
        if not row:
            return None, f"no active {tier} accounts"
        if row["accounts_per_csm"] is None:
            return None, f"no owner_email on the {tier} accounts"
        return row["accounts_per_csm"], None

    ent, ent_note = per_csm("enterprise")
    mid, mid_note = per_csm("mid_market")
    cts_note = None if econ.cost_to_serve is not None else "needs CSM cost and headcount settings"
    ttv_note = None if time_to_value_days is not None else "time-to-value is measured by onboarding"
    ret_note = None if w.start_mrr else "no MRR at the window start"
    return [
        place("grr", "band", w.grr, ret_note),
        place("nrr", "band", w.nrr, ret_note),
        place("grr", "quartile", w.grr, ret_note),
        place("nrr", "quartile", w.nrr, ret_note),
        place("expansion_share", "quartile", share, None if share is not None else "no growth"),
        place("accounts_per_csm_enterprise", "quartile", ent, ent_note),
        place("accounts_per_csm_mid_market", "quartile", mid, mid_note),
        place("cost_to_serve", "quartile", econ.cost_to_serve, cts_note),
        place("time_to_value_days", "quartile", time_to_value_days, ttv_note),
    ]


def benchmark(
    wh: Warehouse,
    as_of: date,
    inputs: EconomicsInputs,
    *,
    months: int = 12,
    segment: str | None = None,
    time_to_value_days: float | None = None,
) -> dict[str, Any]:
    """The benchmark document: the window, and every placement."""
    econ = unit_economics(wh, as_of, inputs, months=months, segment=segment)
    placements = benchmark_report(econ, time_to_value_days=time_to_value_days)
    return {
        "as_of": as_of.isoformat(),
        "window": {"start": econ.window_start.isoformat(), "end": as_of.isoformat()},
        "segment": segment,
        "placements": [p.to_dict() for p in placements],
    }
