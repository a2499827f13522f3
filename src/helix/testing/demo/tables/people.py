"""The accounts table and the contacts table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.contacts import Contacts
from helix.testing.demo.history import History
from helix.testing.demo.population import Accounts, Csm
from helix.testing.demo.tables.common import (
    Identity,
    dates,
    day_ms,
    local_time_ms,
    person_names,
    strings,
    timestamps,
    user_codes,
)


def last_days(hist: History, cal: Calendar, mrr_end: np.ndarray) -> np.ndarray:
    """Day number until which each account was a customer: its final churn, else the end date."""
    churned = hist.churn_day >= 0
    last_m = np.where(churned.any(axis=1), cal.total - 1 - np.argmax(churned[:, ::-1], axis=1), 0)
    rows = np.arange(hist.n)
    day = cal.month_start[last_m] + hist.churn_day[rows, last_m]
    return np.where(mrr_end > 0, cal.end_day, np.where(churned.any(axis=1), day, cal.end_day))


def accounts_table(
    rng: np.random.Generator,
    acc: Accounts,
    ident: Identity,
    roster: list[Csm],
) -> pa.Table:
    """One row per account, with a few custom columns (kept by the contract as attributes)."""
    created = day_ms(acc.sign_day) + local_time_ms(rng, acc.region)
    parent = [ident.ids[p] if p >= 0 else None for p in acc.parent.tolist()]
    return pa.table(
        {
            "account_id": ident.id_array,
            "name": strings(ident.names),
            "created_at": timestamps(created),
            "segment": strings([cat.SEGMENTS[s] for s in acc.seg.tolist()]),
            "industry": strings([cat.INDUSTRIES[i] for i in acc.industry.tolist()]),
            "region": strings([cat.REGIONS[r] for r in acc.region.tolist()]),
            "owner_email": strings([roster[c].email for c in acc.csm.tolist()]),
            "parent_account_id": strings(parent),
            "domain": strings(ident.domains),
            "employees": pa.array(acc.employees, type=pa.int64()),
            "plan_tier_at_signup": strings([cat.TIERS[t] for t in acc.tier0.tolist()]),
            "billing_period": strings([cat.TERM_NAMES[int(t)] for t in acc.term.tolist()]),
            "acquisition_channel": strings([cat.CHANNELS[c] for c in acc.channel.tolist()]),
        }
    )


def _rank(con: Contacts) -> np.ndarray:
    return np.arange(con.n) - np.searchsorted(con.acct, con.acct, side="left")


def contact_ids(con: Contacts, ident: Identity) -> list[str]:
    """Stable ids: the account's number and the contact's rank within the account."""
    rank = _rank(con).tolist()
    return [
        f"con-{ident.ids[a][5:]}-{k + 1:03d}" for a, k in zip(con.acct.tolist(), rank, strict=True)
    ]


def contact_people(con: Contacts) -> tuple[list[str], list[str]]:
    """Display names and e-mail local parts, distinct within each account."""
    first = np.searchsorted(con.acct, con.acct, side="left")
    return person_names(user_codes(con.name_code[first], 10_000 + _rank(con)))


def contacts_table(
    con: Contacts,
    ident: Identity,
    ids: list[str],
    people: tuple[list[str], list[str]],
    last_day: np.ndarray,
) -> tuple[pa.Table, np.ndarray]:
    """The contacts known while each account was a customer, and the mask of rows kept.

    A departure after the account itself left is unknown to the vendor (no ``ended_at``).
    """
    keep = con.start_day < last_day[con.acct]
    idx = np.flatnonzero(keep)
    names, local = people
    acct = con.acct[idx]
    ended = con.end_day[idx]
    has_end = ended < last_day[acct]
    titles = [
        cat.ROLE_TITLES[r][t % len(cat.ROLE_TITLES[r])]
        for r, t in zip(con.role[idx].tolist(), con.title_code[idx].tolist(), strict=True)
    ]
    table = pa.table(
        {
            "contact_id": strings([ids[i] for i in idx.tolist()]),
            "account_id": ident.id_array.take(pa.array(acct)),
            "name": strings([names[i] for i in idx.tolist()]),
            "email": strings(
                [
                    f"{local[i]}@{ident.domains[a]}"
                    for i, a in zip(idx.tolist(), acct.tolist(), strict=True)
                ]
            ),
            "title": strings(titles),
            "role": strings([cat.CONTACT_ROLES[r] for r in con.role[idx].tolist()]),
            "started_at": dates(con.start_day[idx]),
            "ended_at": dates(np.where(has_end, ended, 0), has_end),
        }
    )
    return table, keep
