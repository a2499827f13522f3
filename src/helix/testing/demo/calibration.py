"""Measure what a generated company looks like: retention economics, NPS, TTV and causality.

Used by the tests and to write the calibration section of ``docs/demo.md``. It reads
the files the generator wrote (Parquet or CSV) with DuckDB and computes, over the last
12 months before the end date, the figures the brief's calibration bands talk about.
This is a check of the generator, not Helix's metrics engine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from helix.testing.demo.calendar import add_months
from helix.testing.demo.writers import TABLES

Query = Callable[[str], list[dict[str, Any]]]


def _connect(directory: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for table in TABLES:
        parquet, csv = directory / f"{table}.parquet", directory / f"{table}.csv"
        if parquet.exists():
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{parquet}')")
        elif csv.exists():
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_csv('{csv}', header=true)")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


RETENTION_SQL = """
WITH s AS (
  SELECT account_id, sum(mrr)::DOUBLE AS mrr FROM subscriptions
  WHERE start_date <= $start AND (end_date IS NULL OR end_date > $start) GROUP BY 1
), e AS (
  SELECT account_id, sum(mrr)::DOUBLE AS mrr FROM subscriptions
  WHERE start_date <= $end AND (end_date IS NULL OR end_date > $end) GROUP BY 1
), j AS (
  SELECT s.account_id, s.mrr AS m0, coalesce(e.mrr, 0) AS m1,
         CASE WHEN s.mrr * 12 > 100000 THEN 'enterprise'
              WHEN s.mrr * 12 >= 25000 THEN 'mid_market' ELSE 'smb' END AS tier
  FROM s LEFT JOIN e USING (account_id) WHERE s.mrr > 0
), last_churn AS (
  SELECT account_id, arg_max(churn_type, churned_on) AS churn_type FROM churn_reasons
  WHERE churned_on >= $start AND churned_on < $end GROUP BY 1
)
SELECT coalesce(tier, 'all') AS tier, count(*) AS accounts, sum(m0) AS start_mrr,
  sum(CASE WHEN m1 = 0 THEN m0 ELSE 0 END) AS churned,
  sum(CASE WHEN m1 = 0 AND lc.churn_type = 'involuntary' THEN m0 ELSE 0 END) AS churned_involuntary,
  sum(CASE WHEN m1 > 0 AND m1 < m0 THEN m0 - m1 ELSE 0 END) AS contraction,
  sum(CASE WHEN m1 > m0 THEN m1 - m0 ELSE 0 END) AS expansion,
  sum(CASE WHEN m1 = 0 THEN 1 ELSE 0 END) AS churned_accounts,
  sum(CASE WHEN m1 > m0 THEN 1 ELSE 0 END) AS expanded_accounts
FROM j LEFT JOIN last_churn lc USING (account_id)
GROUP BY ROLLUP (tier) ORDER BY tier
"""

EXPANSION_SQL = """
WITH lines AS (
  SELECT account_id, product, any_value(plan) AS plan, sum(mrr)::DOUBLE AS mrr, $start AS snap
  FROM subscriptions WHERE start_date <= $start AND (end_date IS NULL OR end_date > $start)
  GROUP BY 1, 2
  UNION ALL
  SELECT account_id, product, any_value(plan), sum(mrr)::DOUBLE, $end
  FROM subscriptions WHERE start_date <= $end AND (end_date IS NULL OR end_date > $end)
  GROUP BY 1, 2
), p AS (
  SELECT account_id, product,
    max(CASE WHEN snap = $start THEN mrr END) AS m0, max(CASE WHEN snap = $end THEN mrr END) AS m1,
    max(CASE WHEN snap = $start THEN plan END) AS p0, max(CASE WHEN snap = $end THEN plan END) AS p1
  FROM lines GROUP BY 1, 2
), kept AS (
  SELECT account_id FROM p GROUP BY 1 HAVING sum(coalesce(m0, 0)) > 0 AND sum(coalesce(m1, 0)) > 0
)
SELECT
  CASE WHEN product = 'API Credits' THEN 'usage'
       WHEN m0 IS NULL THEN 'cross_sell'
       WHEN plan_changed THEN 'tier'
       ELSE 'seats' END AS kind,
  sum(greatest(coalesce(m1, 0) - coalesce(m0, 0), 0)) AS expansion
FROM (SELECT *, p0 IS DISTINCT FROM p1 AND p0 IS NOT NULL AND p1 IS NOT NULL AS plan_changed FROM p)
WHERE account_id IN (SELECT account_id FROM kept)
GROUP BY 1 ORDER BY 1
"""


def _retention(q: Query) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in q(RETENTION_SQL):
        m0 = row["start_mrr"] or 0.0
        if not m0:
            continue
        lost = row["churned"] + row["contraction"]
        out[row["tier"]] = {
            "accounts": row["accounts"],
            "start_arr": round(m0 * 12, 2),
            "grr": round(1 - lost / m0, 4),
            "nrr": round(1 - lost / m0 + row["expansion"] / m0, 4),
            "logo_churn": round(row["churned_accounts"] / row["accounts"], 4),
            "expanded_share": round(row["expanded_accounts"] / row["accounts"], 4),
            "involuntary_share_of_churned_mrr": round(
                row["churned_involuntary"] / row["churned"], 4
            )
            if row["churned"]
            else 0.0,
            "contraction_share_of_lost_mrr": round(row["contraction"] / lost, 4) if lost else 0.0,
        }
    return out


def query(directory: Path, end: date) -> Query:
    """A query function over the company's files; ``$start``, ``$end`` and ``$history`` are
    the 12-month window start, the end date and the first day of the history."""
    con = _connect(Path(directory))
    first = con.execute("SELECT min(occurred_at)::DATE FROM activities").fetchone()
    history = first[0] if first and first[0] else add_months(end, -12)
    sub = {
        "$start": f"DATE '{add_months(end, -12)}'",
        "$end": f"DATE '{end}'",
        "$history": f"DATE '{history.replace(day=1)}'",
    }

    def q(sql: str) -> list[dict[str, Any]]:
        for key, value in sub.items():
            sql = sql.replace(key, value)
        return _rows(con, sql)

    return q


def measure(directory: Path, end: date) -> dict[str, Any]:
    """Calibration figures of the company in ``directory`` for the 12 months before ``end``."""
    from helix.testing.demo.causality import causality

    q = query(directory, end)
    start = add_months(end, -12)
    result: dict[str, Any] = {"window": {"start": start.isoformat(), "end": end.isoformat()}}
    result["retention"] = _retention(q)
    result["expansion_mix"] = {r["kind"]: round(r["expansion"] * 12, 2) for r in q(EXPANSION_SQL)}
    result["nps"] = _nps(q)
    result["ttv"] = _ttv(q)
    result["churn"] = _churn_mix(q)
    result["volume"] = _volume(q)
    result["causality"] = causality(q)
    return result


def _nps(q: Query) -> dict[str, Any]:
    row = q(
        "SELECT count(*) AS n, avg(CASE WHEN score >= 9 THEN 1.0 ELSE 0 END) AS prom, "
        "avg(CASE WHEN score <= 6 THEN 1.0 ELSE 0 END) AS detr FROM survey_responses "
        "WHERE survey = 'nps' AND responded_at >= $start AND responded_at < $end"
    )[0]
    if not row["n"]:
        return {"responses": 0}
    return {
        "responses": row["n"],
        "promoters": round(row["prom"], 4),
        "detractors": round(row["detr"], 4),
        "nps": round(100 * (row["prom"] - row["detr"]), 1),
    }


def _ttv(q: Query) -> dict[str, Any]:
    rows = q(
        """
        WITH firsts AS (SELECT account_id, min(event_time) AS t FROM events
                        WHERE event_type = 'report_created' GROUP BY 1),
        new AS (SELECT account_id, created_at FROM accounts
                WHERE created_at >= (SELECT min(event_time) FROM events)
                  AND created_at < $end - INTERVAL 180 DAY),
        d AS (SELECT date_diff('day', n.created_at, f.t) AS days
                FROM new n LEFT JOIN firsts f USING (account_id))
        SELECT count(*) AS n,
               avg(CASE WHEN days < 180 THEN 1.0 ELSE 0 END) AS act180,
               quantile_cont(days, [0.25, 0.5, 0.75]) AS q,
               quantile_disc(coalesce(days, 99999), [0.25, 0.5, 0.75]) AS qall
        FROM d
        """
    )
    row = rows[0]
    if not row["n"] or row["q"] is None:
        return {"new_accounts": row["n"]}
    q25, q50, q75 = row["q"]
    a25, a50, a75 = (None if v >= 99999 else v for v in row["qall"])
    return {
        "new_accounts": row["n"],
        "activation_within_180d": round(row["act180"], 4),
        "activated_days_p25": q25,
        "activated_days_median": q50,
        "activated_days_p75": q75,
        "all_days_p25": a25,
        "all_days_median": a50,
        "all_days_p75": a75,
    }


def _churn_mix(q: Query) -> dict[str, Any]:
    rows = q(
        "SELECT churn_type, reason, count(*) AS n FROM churn_reasons "
        "WHERE churned_on >= $start AND churned_on < $end GROUP BY ALL ORDER BY n DESC"
    )
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r["churn_type"]] = by_type.get(r["churn_type"], 0) + r["n"]
    return {"by_type": by_type, "top_reasons": [(r["reason"], r["n"]) for r in rows[:8]]}


def _volume(q: Query) -> dict[str, Any]:
    row = q(
        "SELECT count(*) AS events, count(DISTINCT account_id) AS accounts, "
        "count(DISTINCT event_type) AS types, count(DISTINCT user_id) AS users FROM events"
    )[0]
    months = q(
        "SELECT count(DISTINCT (account_id, date_trunc('month', event_time))) AS n FROM events"
    )[0]["n"]
    row["events_per_account_month"] = round(row["events"] / months, 1) if months else 0.0
    return row
