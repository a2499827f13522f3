"""Signals that a missing table cannot support are null; those it can, are computed."""

from __future__ import annotations

from helix.metrics.loading import load_rows
from helix.signals import SignalConfig, compute_signals
from helix.signals.compute import available_signals
from helix.signals.sources import Sources
from helix.warehouse import open_warehouse

from .test_no_leakage import D, _past


def test_csat_from_tickets_alone_and_nothing_invented_without_surveys() -> None:
    history = _past()
    del history["survey_responses"]
    wh = open_warehouse("duckdb://")
    try:
        for table, rows in history.items():
            load_rows(wh, table, rows)
        src = Sources(wh)
        ok = available_signals(src)
        assert ok["csat_latest"] and not ok["nps_latest"]
        row = compute_signals(src, [D], SignalConfig()).to_pyarrow().to_pylist()[0]
        assert row["csat_latest"] == 5  # the rated ticket of 2 May
        assert row["nps_latest"] is None and row["nps_detractor"] is None
    finally:
        wh.close()
