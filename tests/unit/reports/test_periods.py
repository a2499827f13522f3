"""Quarters: how they are written, read and refused."""

from __future__ import annotations

from datetime import date

import pytest

from helix.errors import UserError
from helix.reports.periods import (
    PeriodError,
    Quarter,
    last_complete_quarter,
    parse_quarter,
    recent_quarters,
)


@pytest.mark.parametrize("text", ["2025Q3", "2025-Q3", "2025q3", " 2025 Q3 "])
def test_the_ways_to_write_a_quarter(text: str) -> None:
    q = parse_quarter(text)
    assert q == Quarter(2025, 3)
    assert (q.start, q.end, q.last_day) == (date(2025, 7, 1), date(2025, 10, 1), date(2025, 9, 30))
    assert q.label == "2025Q3"


def test_neighbours_cross_the_year() -> None:
    assert parse_quarter("2025Q1").prior == Quarter(2024, 4)
    assert parse_quarter("2024Q4").next == Quarter(2025, 1)
    assert parse_quarter("2024Q4").end == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2025Q5", "quarters 1 to 4"),
        ("2025Q0", "quarters 1 to 4"),
        ("Q3", "cannot read 'Q3' as a quarter"),
        ("2025-07", "cannot read"),
        ("", "no period given"),
        ("0999Q1", "out of range"),
    ],
)
def test_bad_quarters_are_refused_clearly(text: str, words: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_quarter(text)
    assert words in info.value.message
    assert "2025Q3" in (info.value.hint or "")
    assert isinstance(info.value, UserError) and info.value.value == text


def test_the_latest_complete_quarters() -> None:
    assert last_complete_quarter(date(2025, 10, 6)) == Quarter(2025, 3)
    assert last_complete_quarter(date(2025, 10, 1)) == Quarter(2025, 3)
    assert last_complete_quarter(date(2025, 9, 30)) == Quarter(2025, 2)
    assert [q.label for q in recent_quarters(date(2025, 2, 1), 3)] == ["2024Q4", "2024Q3", "2024Q2"]
