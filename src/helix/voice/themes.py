"""Themes in what customers write: survey comments and ticket texts, by TF-IDF + NMF.

:func:`extract_themes` is the model, a pure function of the texts: TF-IDF over words
and word pairs (English stop words removed, terms in at least ``min_df`` texts and in at
most 60% of them, so greetings and sign-offs that every ticket carries drop out), then a
non-negative matrix factorisation into ``k`` themes (``nndsvd`` start: deterministic).
Each text belongs to the theme with its largest weight (a text with no known term to
none); a theme is labelled by its three top terms.

:func:`voice_themes` runs it over the warehouse: for each theme, its size, its trend by
month, example texts (the most typical first) and its sentiment (mean VADER compound of
its texts, the score :mod:`helix.signals.text` stores, computed here for any text not
scored yet).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np

from helix.errors import UserError
from helix.warehouse import Warehouse

__all__ = ["Theme", "ThemeModel", "extract_themes", "voice_themes", "load_texts"]

MAX_TEXTS = 20_000
"""At most this many texts (the newest) go into one model."""


@dataclass(frozen=True)
class Theme:
    """One theme: its label, top terms and member texts (indices, most typical first)."""

    theme_id: int
    label: str
    terms: list[str]
    members: list[int]


@dataclass(frozen=True)
class ThemeModel:
    """The themes of a corpus and the theme of each text (-1: none)."""

    themes: list[Theme]
    assignment: list[int]


def extract_themes(
    texts: Sequence[str],
    k: int = 6,
    *,
    min_df: int = 2,
    random_state: int = 0,
    top_terms: int = 3,
) -> ThemeModel:
    """TF-IDF + NMF themes of ``texts`` (module docstring); ``k`` is capped by the corpus."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if k < 1:
        raise UserError(f"the number of themes must be at least 1, not {k}")
    docs = [t or "" for t in texts]
    if sum(1 for d in docs if d.strip()) < 2:
        return ThemeModel([], [-1] * len(docs))
    vec = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=min_df,
        max_df=0.6,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # nothing left after the vocabulary filters
        return ThemeModel([], [-1] * len(docs))
    k = max(1, min(k, x.shape[0] - 1, x.shape[1]))
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    nmf = NMF(n_components=k, init="nndsvd", random_state=random_state, max_iter=1000)
    with warnings.catch_warnings():  # an unconverged factorisation still ranks the terms
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = nmf.fit_transform(x)
    h = nmf.components_
    vocab = np.array(vec.get_feature_names_out())
    assignment = [int(np.argmax(row)) if row.max() > 0 else -1 for row in w]
    themes: list[Theme] = []
    for j in range(k):
        members = [i for i, a in enumerate(assignment) if a == j]
        if not members:
            continue
        order = np.argsort(-h[j])
        terms: list[str] = []
        for term in vocab[order]:
            # a pair whose words are already listed adds nothing to the label
            if any(term in t or t in term for t in terms):
                continue
            terms.append(str(term))
            if len(terms) == 8:
                break
        members.sort(key=lambda i: -w[i, j])
        themes.append(Theme(j, " / ".join(terms[:top_terms]), terms, members))
    themes.sort(key=lambda t: -len(t.members))
    return ThemeModel(themes, assignment)


def load_texts(
    wh: Warehouse,
    sources: Sequence[str],
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    """Texts with their source, id, account, time and stored sentiment, newest first."""
    import ibis

    parts = []
    if "surveys" in sources and wh.has_table("survey_responses"):
        s = wh.table("survey_responses")
        parts.append(
            s.select(
                source=ibis.literal("survey_responses"),
                source_id=s.response_id,
                account_id=s.account_id,
                at=s.responded_at,
                kind=s.survey.lower(),
                text=s.comment,
            )
        )
    if "tickets" in sources and wh.has_table("tickets"):
        t = wh.table("tickets")
        parts.append(
            t.select(
                source=ibis.literal("tickets"),
                source_id=t.ticket_id,
                account_id=t.account_id,
                at=t.created_at,
                kind=ibis.literal("ticket"),
                text=t.subject.fill_null("").concat(". ", t.body.fill_null("")),
            )
        )
    if not parts:
        return []
    rows = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])
    rows = rows.filter(rows.text.notnull() & (rows.text.strip().length() > 2))
    if start is not None:
        rows = rows.filter(rows.at >= datetime.combine(start, time()))
    if end is not None:
        rows = rows.filter(rows.at < datetime.combine(end, time()))
    if wh.has_table("text_sentiment"):
        ts = wh.table("text_sentiment").select("source", "source_id", "compound")
        ts = ts.rename(_src="source", _sid="source_id")
        rows = rows.left_join(ts, (rows.source == ts._src) & (rows.source_id == ts._sid))
        rows = rows.drop("_src", "_sid")
    else:
        rows = rows.mutate(compound=ibis.null().cast("float64"))
    return rows.order_by(rows.at.desc()).limit(MAX_TEXTS).to_pyarrow().to_pylist()


def voice_themes(
    wh: Warehouse,
    *,
    k: int = 6,
    sources: Sequence[str] = ("surveys", "tickets"),
    start: date | None = None,
    end: date | None = None,
    examples: int = 3,
    random_state: int = 0,
) -> dict[str, Any]:
    """The themes of the texts of ``sources`` in ``[start, end)`` with trend, examples and
    sentiment (module docstring)."""
    from helix.signals.text import score_text

    unknown = set(sources) - {"surveys", "tickets"}
    if unknown:
        raise UserError(
            f"unknown text source {', '.join(sorted(unknown))}", hint="use surveys and/or tickets"
        )
    rows = load_texts(wh, sources, start, end)
    model = extract_themes([r["text"] for r in rows], k, random_state=random_state)
    months = sorted({r["at"].strftime("%Y-%m") for r in rows})
    out = []
    for theme in model.themes:
        members = [rows[i] for i in theme.members]
        sentiment = [
            r["compound"] if r["compound"] is not None else score_text(r["text"]) for r in members
        ]
        trend = Counter(r["at"].strftime("%Y-%m") for r in members)
        by_source = Counter(r["source"] for r in members)
        mean = float(np.mean(sentiment)) if sentiment else None
        out.append(
            {
                "theme_id": theme.theme_id,
                "label": theme.label,
                "terms": theme.terms,
                "count": len(members),
                "share": round(len(members) / len(rows), 6) if rows else None,
                "by_source": dict(by_source),
                "accounts": len({r["account_id"] for r in members}),
                "sentiment": round(mean, 4) if mean is not None else None,
                "negative_share": round(
                    sum(1 for s in sentiment if s <= -0.05) / len(sentiment), 6
                ),
                "trend": [{"month": m, "count": trend.get(m, 0)} for m in months],
                "examples": [
                    {
                        "source": r["source"],
                        "id": r["source_id"],
                        "account_id": r["account_id"],
                        "at": r["at"].isoformat(),
                        "text": r["text"][:400],
                    }
                    for r in members[:examples]
                ],
            }
        )
    unassigned = sum(1 for a in model.assignment if a < 0)
    by_kind: dict[str, int] = defaultdict(int)
    for r in rows:
        by_kind[r["kind"]] += 1
    return {
        "sources": list(sources),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "texts": len(rows),
        "texts_by_kind": dict(by_kind),
        "unassigned": unassigned,
        "k": k,
        "months": months,
        "themes": out,
        "method": "TF-IDF (words and pairs) + NMF; each text in its heaviest theme; "
        "sentiment = mean VADER compound",
    }
