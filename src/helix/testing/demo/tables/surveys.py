"""Survey responses: relationship NPS waves, onboarding check-ins, CSAT after business reviews."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from helix.testing.demo import text
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.history import History
from helix.testing.demo.population import Accounts
from helix.testing.demo.tables.common import Identity, day_ms, local_time_ms, strings, timestamps
from helix.testing.demo.tables.engagement import ContactBook, paying_days, row_ids


def _five(
    rng: np.random.Generator, groups: np.ndarray, table: list[tuple[list[int], list[float]]]
) -> np.ndarray:
    out = np.zeros(groups.size, dtype=np.int64)
    for k, (values, p) in enumerate(table):
        sel = groups == k
        out[sel] = rng.choice(values, size=int(sel.sum()), p=p)
    return out


def _onboarding(
    rng: np.random.Generator, acc: Accounts, hist: History, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accounts signed up in the window answer an onboarding survey ~60 days in (half do)."""
    new = np.flatnonzero((acc.sign_m >= cal.burn) & (rng.random(acc.n) < 0.5))
    day = acc.sign_day[new] + rng.integers(45, 76, new.size)
    m = cal.month_of(day)
    inside = m < cal.total
    mm = np.minimum(m, cal.total - 1)
    off = day - cal.month_start[mm]
    inside &= (off >= hist.lo[new, mm]) & (off < hist.hi[new, mm])
    new, day = new[inside], day[inside]
    reached = hist.ttv_day[new] <= day
    score = _five(
        rng, reached.astype(np.int64), [([1, 2, 3], [0.3, 0.4, 0.3]), ([3, 4, 5], [0.2, 0.4, 0.4])]
    )
    return new, day, score


def surveys_table(
    rng: np.random.Generator, r: random.Random, acc: Accounts, hist: History, cal: Calendar,
    ident: Identity, book: ContactBook, qbrs: dict[str, np.ndarray],
) -> pa.Table:  # fmt: skip
    """All survey answers of the chunk, ordered by account and time."""
    a, m, score = hist.nps()
    live = hist.active[a, m]
    a, m, score = a[live], m[live], score[live]
    day = paying_days(rng, cal, hist, a, m)
    nps_t = day_ms(day) + local_time_ms(rng, acc.region[a])
    nps_contact = book.choose(rng, a, day, engaged_only=False)

    ob_a, ob_day, ob_score = _onboarding(rng, acc, hist, cal)
    ob_t = day_ms(ob_day) + local_time_ms(rng, acc.region[ob_a])
    ob_contact = book.choose(rng, ob_a, ob_day, engaged_only=True)

    answered = rng.random(qbrs["acct"].size) < 0.35
    cs_a = qbrs["acct"][answered]
    cs_t = qbrs["t"][answered] + rng.integers(1, 8, cs_a.size) * 86_400_000
    inside = cs_t < day_ms(np.array([cal.end_day]))[0]
    cs_a, cs_t = cs_a[inside], cs_t[inside]
    cs_contact = qbrs["contact"][answered][inside]
    cs_score = _five(
        rng,
        qbrs["mood"][answered][inside],
        [([1, 2, 3], [0.3, 0.4, 0.3]), ([3, 4, 5], [0.25, 0.55, 0.2]), ([4, 5], [0.35, 0.65])],
    )

    acct = np.concatenate([a, ob_a, cs_a])
    t = np.concatenate([nps_t, ob_t, cs_t])
    contact = np.concatenate([nps_contact, ob_contact, cs_contact])
    scores = np.concatenate([score, ob_score, cs_score]).astype(np.int64)
    survey = np.array(
        ["nps"] * a.size + ["onboarding"] * ob_a.size + ["csat"] * cs_a.size, dtype=object
    )
    comments = (
        text.nps_comments(r, score)
        + text.five_point_comments(r, ob_score, "onboarding")
        + text.five_point_comments(r, cs_score, "csat")
    )
    o = np.lexsort((np.arange(acct.size), t, acct))
    acct = acct[o]
    return pa.table(
        {
            "response_id": strings(row_ids("rsp", ident, acct, 4)),
            "account_id": ident.id_array.take(pa.array(acct)),
            "contact_id": strings([book.ids[c] if c >= 0 else None for c in contact[o].tolist()]),
            "responded_at": timestamps(t[o]),
            "survey": strings(survey[o].tolist()),
            "score": pa.array(scores[o], type=pa.int64()),
            "comment": strings([comments[j] for j in o.tolist()]),
        }
    )
