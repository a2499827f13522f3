"""Checks that churn and expansion in a generated company follow the observable signals.

Each figure compares the outcome of accounts with and without a signal, computed only
from the files (what an analyst or Helix's models would see), never from the
simulation's latent state.
"""

from __future__ import annotations

from typing import Any

from helix.testing.demo.calibration import Query


def _churned(account: str, day: str, days: int) -> str:
    """SQL: the account has a churn recorded in ``[day, day + days)``."""
    return (
        f"EXISTS (SELECT 1 FROM churn_reasons r WHERE r.account_id = {account} "
        f"AND r.churned_on >= {day} AND r.churned_on < {day} + INTERVAL {days} DAY)"
    )


def _active(account: str, day: str) -> str:
    """SQL: the account has a subscription row in force on ``day``."""
    return (
        f"EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = {account} "
        f"AND s.start_date <= {day} AND (s.end_date IS NULL OR s.end_date > {day}))"
    )


USAGE_BEFORE_CHURN = """
WITH ch AS (
  SELECT account_id, max(churned_on) AS d FROM churn_reasons
  WHERE churn_type = 'voluntary' AND churned_on >= $history + INTERVAL 120 DAY
    AND churned_on < $end
  GROUP BY 1
), live AS (
  SELECT account_id, $end AS d FROM subscriptions WHERE end_date IS NULL
  AND account_id NOT IN (SELECT account_id FROM churn_reasons) GROUP BY 1
), pts AS (
  SELECT account_id, d, 'churned' AS grp FROM ch
  UNION ALL SELECT account_id, d, 'retained' FROM live
), seats AS (
  SELECT p.account_id, p.grp, p.d, max(s.quantity)::DOUBLE AS seats
  FROM pts p JOIN subscriptions s
    ON s.account_id = p.account_id AND s.product = 'Helix Insight'
   AND s.start_date <= p.d - INTERVAL 1 DAY AND (s.end_date IS NULL OR s.end_date >= p.d)
  GROUP BY ALL
), use AS (
  SELECT p.account_id, p.grp, p.seats, count(DISTINCT e.user_id) AS users
  FROM seats p LEFT JOIN events e ON e.account_id = p.account_id
   AND e.event_time >= p.d - INTERVAL 90 DAY AND e.event_time < p.d
  GROUP BY ALL
)
SELECT grp, count(*) AS accounts, avg(users / seats) AS active_per_seat FROM use GROUP BY 1
"""

CHAMPION_LEFT = f"""
WITH gone AS (
  SELECT c.contact_id, c.account_id, c.ended_at AS d
  FROM contacts c WHERE c.role = 'champion' AND c.ended_at >= $history + INTERVAL 90 DAY
   AND c.ended_at < $end - INTERVAL 180 DAY AND {_active("c.account_id", "c.ended_at")}
), touch AS (
  SELECT contact_id, account_id, occurred_at::DATE AS t FROM activities
  WHERE contact_id IS NOT NULL
  UNION ALL
  SELECT contact_id, account_id, responded_at::DATE FROM survey_responses
  WHERE contact_id IS NOT NULL
), backup AS (
  SELECT g.contact_id, g.account_id, g.d,
    count(DISTINCT CASE WHEN o.contact_id IS NOT NULL THEN t.contact_id END) AS others
  FROM gone g
  LEFT JOIN touch t ON t.account_id = g.account_id AND t.contact_id <> g.contact_id
   AND t.t >= g.d - INTERVAL 180 DAY AND t.t < g.d + INTERVAL 30 DAY
  LEFT JOIN contacts o ON o.contact_id = t.contact_id AND (o.ended_at IS NULL OR o.ended_at > g.d)
  GROUP BY ALL
)
SELECT CASE WHEN others = 0 THEN 'no_backup' ELSE 'with_backup' END AS grp,
  count(*) AS departures,
  avg(CASE WHEN {_churned("b.account_id", "b.d", 180)} THEN 1.0 ELSE 0 END) AS churn_180d
FROM backup b GROUP BY 1
"""

BASELINE = f"""
WITH a AS (
  SELECT DISTINCT account_id FROM subscriptions
  WHERE start_date <= $start - INTERVAL 180 DAY
    AND (end_date IS NULL OR end_date > $start - INTERVAL 180 DAY)
)
SELECT count(*) AS accounts,
  avg(CASE WHEN {_churned("a.account_id", "($start - INTERVAL 180 DAY)", 180)} THEN 1.0 ELSE 0 END)
    AS churn_180d
FROM a
"""

NPS_CHURN = f"""
SELECT CASE WHEN score <= 6 THEN 'detractor' WHEN score >= 9 THEN 'promoter' ELSE 'passive' END
    AS grp,
  count(*) AS answers,
  avg(CASE WHEN {_churned("s.account_id", "s.responded_at::DATE", 180)} THEN 1.0 ELSE 0 END)
    AS churn_180d
FROM survey_responses s WHERE survey = 'nps' AND responded_at < $end - INTERVAL 180 DAY
GROUP BY 1
"""

TTV_CHURN = """
WITH firsts AS (
  SELECT account_id, min(event_time) AS t FROM events
  WHERE event_type = 'report_created' GROUP BY 1
), new AS (
  SELECT a.account_id, date_diff('day', a.created_at, f.t) AS ttv
  FROM accounts a LEFT JOIN firsts f USING (account_id)
  WHERE a.created_at >= $history AND a.created_at < $end - INTERVAL 270 DAY
)
SELECT CASE WHEN ttv IS NULL OR ttv > 180 THEN 'slow_or_never'
            WHEN ttv <= 60 THEN 'fast' ELSE 'medium' END AS grp,
  count(*) AS accounts,
  avg(CASE WHEN EXISTS (SELECT 1 FROM churn_reasons r WHERE r.account_id = n.account_id)
      THEN 1.0 ELSE 0 END) AS churned_by_end
FROM new n GROUP BY 1
"""

SEAT_LIMIT = """
WITH s AS (
  SELECT account_id, sum(quantity)::DOUBLE AS seats FROM subscriptions
  WHERE product = 'Helix Insight' AND start_date <= $start
    AND (end_date IS NULL OR end_date > $start)
  GROUP BY 1
), u AS (
  SELECT s.account_id, s.seats, count(DISTINCT e.user_id) / any_value(s.seats) AS util FROM s
  LEFT JOIN events e ON e.account_id = s.account_id
   AND e.event_time >= $start - INTERVAL 30 DAY AND e.event_time < $start
  GROUP BY s.account_id, s.seats
), later AS (
  SELECT account_id, max(quantity)::DOUBLE AS seats_max FROM subscriptions
  WHERE product = 'Helix Insight' AND start_date >= $start AND start_date < $end GROUP BY 1
)
SELECT CASE WHEN util >= 0.8 THEN 'near_limit' ELSE 'below' END AS grp, count(*) AS accounts,
  avg(CASE WHEN l.seats_max > u.seats THEN 1.0 ELSE 0 END) AS added_seats_12m
FROM u LEFT JOIN later l USING (account_id) GROUP BY 1
"""


def _by_group(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for row in rows:
        grp = row.pop("grp")
        out[grp] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
    return out


def causality(q: Query) -> dict[str, Any]:
    """Outcomes of accounts with and without each signal."""
    base = q(BASELINE)[0]
    return {
        "usage_before_churn": _by_group(q(USAGE_BEFORE_CHURN)),
        "champion_left": _by_group(q(CHAMPION_LEFT)),
        "baseline_churn_180d": round(base["churn_180d"] or 0.0, 4),
        "nps_then_churn": _by_group(q(NPS_CHURN)),
        "ttv_then_churn": _by_group(q(TTV_CHURN)),
        "seat_limit_then_expansion": _by_group(q(SEAT_LIMIT)),
    }
