"""Scoring dates are daily; models observe month starts and recent weeks; batches cover every day once."""

from __future__ import annotations

from datetime import date, timedelta

from helix.signals.dates import batches, catch_up_dates, observation_dates, scoring_dates


def test_the_history_is_every_day() -> None:
    days = scoring_dates(date(2024, 1, 30), date(2024, 3, 2))
    assert days[0] == date(2024, 1, 30) and days[-1] == date(2024, 3, 2)
    assert len(days) == 33  # 2024 is a leap year
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
    assert scoring_dates(date(2024, 3, 5), date(2024, 3, 2)) == [date(2024, 3, 2)]
    assert catch_up_dates(date(2024, 3, 1), date(2024, 3, 3)) == [date(2024, 3, d) for d in (1, 2, 3)]


def test_observation_dates_are_month_starts_and_recent_weeks() -> None:
    days = scoring_dates(date(2024, 1, 15), date(2024, 12, 10))
    obs = observation_dates(days)
    months = [d for d in obs if d.day == 1]
    assert months == [date(2024, m, 1) for m in range(2, 13)]
    weekly = [d for d in obs if d.day != 1]
    assert weekly[-1] == date(2024, 12, 10)
    assert all((date(2024, 12, 10) - d).days % 7 == 0 for d in weekly)
    assert min(weekly) >= date(2024, 12, 10) - timedelta(days=91)
    assert set(obs) <= set(days) and obs == sorted(obs)
    assert observation_dates([]) == []


def test_batches_cover_every_day_once_in_order() -> None:
    days = scoring_dates(date(2024, 1, 1), date(2024, 12, 31))
    parts = batches(days, accounts=30_000, rows=2_000_000)
    assert [d for p in parts for d in p] == days
    assert {len(p) for p in parts[:-1]} == {66}
    assert batches(days, accounts=10_000_000) == [[d] for d in days]
