"""Signals, and the health scores made from them, are the same on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from helix.health.model import default_model
from helix.health.scoring import score_frame
from helix.metrics.loading import load_rows
from helix.signals import SignalConfig, compute_signals
from helix.signals.event_summary import refresh_event_summary
from helix.signals.sources import Sources
from helix.signals.text import update_text_sentiment
from helix.warehouse import open_warehouse

from ..helpers import same_value
from ..unit.signals.test_no_leakage import D, _past, _with_future

pytestmark = pytest.mark.postgres

DAYS = [date(2024, 3, 1), date(2024, 5, 15), D, D + timedelta(days=15), D + timedelta(days=40)]


def _rows(url: str) -> list[dict[str, Any]]:
    wh = open_warehouse(url)
    try:
        history = _with_future(_past())
        # a second account with almost nothing, to exercise the missing-data paths
        history["accounts"].append({"account_id": "A2", "name": "Quiet", "created_at": None})
        history["subscriptions"].append({**history["subscriptions"][0], "subscription_id": "z",
                                         "account_id": "A2", "end_date": None})  # fmt: skip
        for table, rows in history.items():
            load_rows(wh, table, rows)
        update_text_sentiment(wh)
        # the DuckDB file keeps events in parts: its signals go through the event summary,
        # PostgreSQL's through the events themselves
        summarised = refresh_event_summary(wh, SignalConfig()) is not None
        assert summarised == (Sources(wh).event_summary(SignalConfig()) is not None) == url.startswith("duckdb")
        out = compute_signals(Sources(wh), DAYS, SignalConfig()).to_pyarrow().to_pylist()
        return sorted(out, key=lambda r: (r["account_id"], r["score_date"]))
    finally:
        wh.close()


_same = same_value


def test_signals_and_scores_match(postgres_url: str, tmp_path: Any) -> None:
    duck = _rows(f"duckdb://{tmp_path / 'wh.duckdb'}")
    pg = _rows(postgres_url)
    assert len(duck) == len(pg) == 2 * len(DAYS)
    for d_row, p_row in zip(duck, pg, strict=True):
        diff = {k for k in d_row if not _same(d_row[k], p_row[k])}
        assert not diff, f"{d_row['account_id']} {d_row['score_date']}: {sorted(diff)}"
    import pandas as pd

    model = default_model()
    a, b = score_frame(pd.DataFrame(duck), model), score_frame(pd.DataFrame(pg), model)
    assert a["score"].tolist() == pytest.approx(b["score"].tolist(), nan_ok=True)
    assert a["color"].tolist() == b["color"].tolist()
