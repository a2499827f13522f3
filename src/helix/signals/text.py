"""Text sentiment: each ticket body, survey comment and activity summary scored once.

Scoring is by VADER (a lexicon model, vaderSentiment) at derive time, keyed by
the source row, and incremental: only rows not yet in ``text_sentiment`` are
read and scored. Signals then aggregate the stored scores per date in Ibis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

if TYPE_CHECKING:
    from helix.warehouse import Warehouse

__all__ = ["TEXT_SOURCES", "score_text", "update_text_sentiment", "TEXT_SENTIMENT"]

TEXT_SENTIMENT = "text_sentiment"


@dataclass(frozen=True)
class TextSource:
    """Where texts come from: table, key, time column and how to build the text."""

    table: str
    key: str
    time_column: str
    text: Callable[[ir.Table], ir.StringValue]


def _ticket_text(t: ir.Table) -> ir.StringValue:
    return t.subject.fill_null("").concat(". ", t.body.fill_null(""))


TEXT_SOURCES: tuple[TextSource, ...] = (
    TextSource("tickets", "ticket_id", "created_at", _ticket_text),
    TextSource("survey_responses", "response_id", "responded_at", lambda t: t.comment),
    TextSource("activities", "activity_id", "occurred_at", lambda t: t.summary),
)


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_text(text: str) -> float:
    """VADER compound score of ``text`` in [-1, 1] (0 for empty text)."""
    if not text or not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])


def _unscored(wh: Warehouse, source: TextSource) -> ir.Table:
    t = wh.table(source.table)
    if wh.has_table(TEXT_SENTIMENT):
        # rows already scored are left out before any text is built (a daily run
        # finds a handful of new rows among every ticket, comment and note)
        done = wh.table(TEXT_SENTIMENT)
        done = done.filter(done.source == source.table).select(done_id=done.source_id)
        t = t.anti_join(done, t[source.key] == done.done_id)
    text = source.text(t)
    rows = t.select(
        source=ibis.literal(source.table),
        source_id=t[source.key],
        account_id=t.account_id,
        occurred_at=t[source.time_column],
        text=text,
    )
    return rows.filter(rows.text.notnull() & (rows.text.strip().length() > 0))


def update_text_sentiment(
    wh: Warehouse, *, batch_rows: int = 50_000, progress: Callable[[str], None] | None = None
) -> int:
    """Score every text row not yet in ``text_sentiment``; return how many were added."""
    from helix.warehouse.connection import utcnow
    from helix.warehouse.schema import spec

    table_spec = spec(TEXT_SENTIMENT)
    if not wh.has_table(TEXT_SENTIMENT):
        wh.create_empty(TEXT_SENTIMENT, table_spec.ibis_schema())
    added = 0
    now = utcnow()
    for source in TEXT_SOURCES:
        if not wh.has_table(source.table):
            continue
        data = _unscored(wh, source).to_pyarrow()
        for start in range(0, data.num_rows, batch_rows):
            chunk = data.slice(start, batch_rows)
            scores = [score_text(t) for t in chunk["text"].to_pylist()]
            out = pa.table(
                {
                    "source": chunk["source"].cast(pa.string()),
                    "source_id": chunk["source_id"],
                    "account_id": chunk["account_id"],
                    "occurred_at": chunk["occurred_at"].cast(pa.timestamp("us")),
                    "compound": pa.array(scores, pa.float64()),
                    "scored_at": pa.array([now] * chunk.num_rows, pa.timestamp("us")),
                }
            )
            wh.append(TEXT_SENTIMENT, out)
            added += chunk.num_rows
            if progress:
                progress(f"scored {added:,} texts")
    return added
