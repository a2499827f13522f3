"""A warehouse made by an older Helix gains the columns a newer one added."""

from __future__ import annotations

from pathlib import Path

from helix.warehouse import open_warehouse


def test_a_missing_column_is_added_on_open_and_rows_are_kept(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with open_warehouse(url) as wh:
        wh.con.raw_sql(
            "INSERT INTO health_scores (account_id, score_date, score) VALUES ('A1', DATE '2025-01-01', 71.5)"
        )
        wh.con.raw_sql("ALTER TABLE health_scores DROP COLUMN group_scores")
        assert "group_scores" not in wh.table("health_scores").columns
    with open_warehouse(url) as wh:
        t = wh.table("health_scores")
        assert "group_scores" in t.columns
        rows = t.select("account_id", "score", "group_scores").to_pyarrow().to_pylist()
    assert rows == [{"account_id": "A1", "score": 71.5, "group_scores": None}]
