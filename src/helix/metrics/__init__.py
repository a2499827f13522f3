"""Retention economics: MRR movements, NRR/GRR, cohorts, unit economics, benchmarks, scenarios.

Every number is computed from the warehouse as Ibis expressions (any backend),
for explicit dates: nothing here reads the clock. Money is returned as
:class:`~decimal.Decimal` rounded to the cent; rates are fractions. The
definitions are in ``docs/metrics.md``.

    from helix.metrics import retention_window
    w = retention_window(warehouse, date(2024, 1, 1), date(2025, 1, 1))
    w.nrr, w.grr, w.to_dict()
"""

from helix.metrics.benchmarks import SCALES, Placement, benchmark, benchmark_report, place
from helix.metrics.cohorts import CohortRow, CohortTable, cohort_table
from helix.metrics.movements import (
    CHURN_TYPES,
    CONTRACTION_TYPES,
    EXPANSION_TYPES,
    MOVEMENTS,
    Sources,
    period_movements,
)
from helix.metrics.mrr import account_ledger, ledger, mrr_at, rollforward, total_mrr, window_ledger
from helix.metrics.periods import Period, WindowError, cents, series_periods
from helix.metrics.retention import (
    GroupedRetention,
    RetentionSeries,
    RetentionWindow,
    retention_by,
    retention_for_periods,
    retention_series,
    retention_window,
)
from helix.metrics.scenarios import (
    CltvSensitivity,
    RetentionScenario,
    cltv_sensitivity,
    simulate_retention,
)
from helix.metrics.unit_economics import (
    SETTING_KEYS,
    EconomicsInputs,
    UnitEconomics,
    churn_cltv,
    discounted_cltv,
    simple_cltv,
    unit_economics,
)

__all__ = [
    # windows and movements
    "Period",
    "WindowError",
    "Sources",
    "period_movements",
    "MOVEMENTS",
    "EXPANSION_TYPES",
    "CONTRACTION_TYPES",
    "CHURN_TYPES",
    "cents",
    "series_periods",
    # MRR and the ledger
    "mrr_at",
    "total_mrr",
    "ledger",
    "rollforward",
    "account_ledger",
    "window_ledger",
    # retention
    "RetentionWindow",
    "GroupedRetention",
    "RetentionSeries",
    "retention_window",
    "retention_by",
    "retention_series",
    "retention_for_periods",
    # cohorts
    "CohortRow",
    "CohortTable",
    "cohort_table",
    # unit economics
    "EconomicsInputs",
    "UnitEconomics",
    "SETTING_KEYS",
    "simple_cltv",
    "churn_cltv",
    "discounted_cltv",
    "unit_economics",
    # benchmarks
    "SCALES",
    "Placement",
    "place",
    "benchmark_report",
    "benchmark",
    # scenarios
    "RetentionScenario",
    "CltvSensitivity",
    "simulate_retention",
    "cltv_sensitivity",
]
