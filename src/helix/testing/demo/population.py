"""Who the demo company's customers and CSMs are: the static draws made once per account.

The company-level roster of CSMs is drawn from the seed alone; account attributes are
drawn per chunk of consecutive global account numbers, from the chunk's own generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import Calendar

NEW_LOGO_RATE = 0.035
"""New logos per month as a share of the installed base at the window start."""


@dataclass(frozen=True)
class Csm:
    """A customer success manager of the demo vendor."""

    name: str
    email: str
    segment: int  # segment code of the book they own
    skill: float  # effect on their accounts' health (small, part of the causal model)

    def to_dict(self) -> dict[str, str]:
        """The public view: e-mail, name and the segment of the book."""
        return {"email": self.email, "name": self.name, "segment": cat.SEGMENTS[self.segment]}


def build_roster(accounts: int, seed: int) -> list[Csm]:
    """CSMs sized by touch model: books of ~20 enterprise, ~100 mid-market, ~700 SMB accounts."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC5]))
    active_share = np.array([0.72, 0.8, 0.85])
    expected = accounts * cat.SEGMENT_SHARE * active_share
    counts = np.maximum(1, np.rint(expected / cat.BOOK_TARGET)).astype(int)
    total = int(counts.sum())
    nf, nl = len(cat.FIRST_NAMES), len(cat.LAST_NAMES)
    picks = rng.choice(nf * nl, size=total, replace=False)
    skills = rng.normal(0.0, 0.15, size=total)
    roster: list[Csm] = []
    i = 0
    for segment in (cat.ENT, cat.MM, cat.SMB):
        for _ in range(counts[segment]):
            first, last = divmod(int(picks[i]), nl)
            email = f"{cat.FIRST_SLUGS[first]}.{cat.LAST_SLUGS[last]}@{cat.VENDOR_DOMAIN}"
            name = f"{cat.FIRST_NAMES[first]} {cat.LAST_NAMES[last]}"
            roster.append(Csm(name, email, segment, float(skills[i])))
            i += 1
    return roster


@dataclass
class Accounts:
    """Static attributes of one chunk of accounts (arrays indexed by local account)."""

    gidx: np.ndarray  # global account number
    seg: np.ndarray  # segment code at signup (the company's own label)
    is_base: np.ndarray  # signed up before the history window
    sign_m: np.ndarray  # month index of signup
    sign_day: np.ndarray  # day number of signup
    employees: np.ndarray
    fit: np.ndarray  # latent fit with the product (drives long-run health)
    ttv_days: np.ndarray  # days from signup to the first value moment (inf: never)
    term: np.ndarray  # contract term in months (1 or 12)
    bill_every: np.ndarray  # months between invoices (1, 3 or 12)
    card: np.ndarray  # pays by card (else by invoice)
    discount: np.ndarray
    seats0: np.ndarray
    tier0: np.ndarray
    csm: np.ndarray  # index into the roster
    csm_skill: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    channel: np.ndarray
    parent: np.ndarray  # local index of the parent account, -1 for none
    division: np.ndarray  # name suffix of a subsidiary

    @property
    def n(self) -> int:
        """Number of accounts in the chunk."""
        return len(self.gidx)


def core_mrr(seats: np.ndarray, tier: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Monthly price of the core product (float dollars, not yet rounded)."""
    return seats * cat.SEAT_PRICE[tier] * (1.0 - discount) + cat.PLATFORM_FEE[tier]


def account_mrr(
    seats: np.ndarray, tier: np.ndarray, addons: np.ndarray, api: np.ndarray, discount: np.ndarray
) -> np.ndarray:
    """Monthly price of everything an account buys (float dollars, before rounding to cents)."""
    total = core_mrr(seats, tier, discount) + api * cat.API_BLOCK_PRICE
    for bit in range(len(cat.ADDONS)):
        owned = (addons >> bit) & 1
        per_seat = seats * cat.ADDON_PER_SEAT[bit] * (1.0 - discount)
        total = total + owned * (per_seat + cat.ADDON_FLAT[bit, tier])
    return total


def segment_of_arr(arr: np.ndarray) -> np.ndarray:
    """Segment code of an annual recurring revenue (the brief's bands)."""
    return np.where(arr > 100_000, cat.ENT, np.where(arr >= 25_000, cat.MM, cat.SMB))


def reassign(
    rng: np.random.Generator, acc: Accounts, who: np.ndarray, seg: np.ndarray, roster: list[Csm]
) -> None:
    """Move accounts ``who`` to segment ``seg`` and to a CSM of that segment's team."""
    skills = np.array([c.skill for c in roster])
    for s in range(3):
        members = np.array([i for i, c in enumerate(roster) if c.segment == s], dtype=np.int64)
        mask = who & (seg == s) & (acc.seg != s)
        acc.csm[mask] = members[rng.integers(len(members), size=int(mask.sum()))]
    acc.seg[who] = seg[who]
    acc.csm_skill[:] = skills[acc.csm]


def _signup_months(rng: np.random.Generator, is_base: np.ndarray, cal: Calendar) -> np.ndarray:
    burn_w = np.exp(0.025 * np.arange(cal.burn))
    win = np.arange(cal.months)
    win_w = np.exp(0.02 * win) * cal.month_len[cal.burn :] / 30.4
    base_m = rng.choice(cal.burn, size=is_base.size, p=burn_w / burn_w.sum())
    new_m = cal.burn + rng.choice(cal.months, size=is_base.size, p=win_w / win_w.sum())
    return np.where(is_base, base_m, new_m)


def draw_accounts(
    rng: np.random.Generator,
    first: int,
    count: int,
    cal: Calendar,
    roster: list[Csm],
) -> Accounts:
    """Draw the static attributes of accounts ``first .. first + count - 1``."""
    n = count
    gidx = np.arange(first, first + count, dtype=np.int64)
    base_frac = 1.0 / (1.0 + NEW_LOGO_RATE * cal.months)
    is_base = rng.random(n) < base_frac
    sign_m = _signup_months(rng, is_base, cal)
    sign_day = cal.month_start[sign_m] + (rng.random(n) * cal.month_len[sign_m]).astype(np.int64)
    seg = rng.choice(3, size=n, p=cat.SEGMENT_SHARE).astype(np.int64)

    emp_lo = np.array([b[0] for b in cat.EMPLOYEES_BOUNDS])[seg]
    emp_hi = np.array([b[1] for b in cat.EMPLOYEES_BOUNDS])[seg]
    employees = np.clip(
        np.rint(cat.EMPLOYEES_MEDIAN[seg] * np.exp(cat.EMPLOYEES_SIGMA[seg] * rng.normal(size=n))),
        emp_lo,
        emp_hi,
    ).astype(np.int64)

    # Survivorship: the installed base has, on average, better fit than a fresh cohort.
    tenure_years = np.where(is_base, (cal.burn - sign_m) / 12.0, 0.0)
    fit = rng.normal(size=n) + 0.18 * np.minimum(tenure_years, 3.0)

    ttv_median = np.array([95.0, 125.0, 165.0])[seg]
    ttv_days = ttv_median * np.exp(-0.3 * fit + 0.95 * rng.normal(size=n))
    p_never = 1.0 / (1.0 + np.exp(2.1 + 0.8 * fit - 0.3 * (seg == cat.ENT)))
    p_never = p_never * np.exp(-tenure_years / 1.5)
    ttv_days = np.where(rng.random(n) < p_never, np.inf, np.clip(ttv_days, 3.0, 720.0))

    u = rng.random(n)
    cum = np.cumsum(cat.TIER_MIX, axis=1)[seg]
    tier0 = (u[:, None] > cum).sum(axis=1).clip(0, 2).astype(np.int64)

    monthly_p = np.where(tier0 == cat.STARTER, 0.4, 0.2)
    term = np.where((seg == cat.SMB) & (rng.random(n) < monthly_p), 1, 12).astype(np.int64)
    card = np.where(seg == cat.SMB, True, np.where(seg == cat.MM, rng.random(n) < 0.3, False))
    r = rng.random(n)
    bill_every = np.select(
        [term == 1, seg == cat.SMB, seg == cat.MM],
        [1, np.where(r < 0.6, 12, 1), np.where(r < 0.7, 12, 3)],
        default=np.where(r < 0.6, 12, 3),
    ).astype(np.int64)

    discount = np.select(
        [seg == cat.ENT, seg == cat.MM, term == 12],
        [rng.uniform(0.10, 0.35, n), rng.uniform(0.0, 0.15, n), rng.uniform(0.0, 0.10, n)],
        default=0.0,
    )
    discount = np.round(discount, 2)

    lo = np.array([b[0] for b in cat.ARR_BOUNDS])[seg]
    hi = np.array([b[1] for b in cat.ARR_BOUNDS])[seg]
    arr = np.clip(cat.ARR_MEDIAN[seg] * np.exp(cat.ARR_SIGMA[seg] * rng.normal(size=n)), lo, hi)
    per_seat = cat.SEAT_PRICE[tier0] * (1.0 - discount)
    seats0 = np.rint((arr / 12.0 - cat.PLATFORM_FEE[tier0]) / per_seat)
    seats0 = np.clip(seats0, np.array([3, 15, 60])[seg], 20_000).astype(np.int64)

    csm = np.zeros(n, dtype=np.int64)
    skill_of = np.array([c.skill for c in roster])
    for s in range(3):
        members = np.array([i for i, c in enumerate(roster) if c.segment == s], dtype=np.int64)
        mask = seg == s
        csm[mask] = members[rng.integers(len(members), size=int(mask.sum()))]

    industry = rng.choice(
        len(cat.INDUSTRIES), size=n, p=cat.INDUSTRY_WEIGHT / cat.INDUSTRY_WEIGHT.sum()
    )
    region = rng.choice(len(cat.REGIONS), size=n, p=cat.REGION_WEIGHT)
    cu = rng.random(n)
    channel = (cu[:, None] > np.cumsum(cat.CHANNEL_MIX, axis=1)[seg]).sum(axis=1).clip(0, 3)

    parent = np.full(n, -1, dtype=np.int64)
    division = rng.integers(len(cat.DIVISIONS), size=n)
    ent = np.flatnonzero(seg == cat.ENT)
    if ent.size:
        # A few accounts are subsidiaries of an enterprise account in the same chunk.
        child = (rng.random(n) < 0.03) & (seg != cat.ENT)
        parent[child] = ent[rng.integers(ent.size, size=int(child.sum()))]
        industry[child] = industry[parent[child]]

    return Accounts(
        gidx=gidx,
        seg=seg,
        is_base=is_base,
        sign_m=sign_m.astype(np.int64),
        sign_day=sign_day.astype(np.int64),
        employees=employees,
        fit=fit,
        ttv_days=ttv_days,
        term=term,
        bill_every=bill_every,
        card=card.astype(bool),
        discount=discount,
        seats0=seats0,
        tier0=tier0,
        csm=csm,
        csm_skill=skill_of[csm],
        industry=industry,
        region=region,
        channel=channel.astype(np.int64),
        parent=parent,
        division=division,
    )


def account_names(gidx: np.ndarray, seed: int) -> list[str]:
    """Unique company names for global account numbers (a seeded bijection onto name parts)."""
    na, nb, nk = len(cat.NAME_ROOT_A), len(cat.NAME_ROOT_B), len(cat.NAME_KIND)
    space = na * nb * nk
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xA11]))
    mult = int(rng.integers(space // 3, space // 2))
    while gcd(mult, space) != 1:
        mult += 1
    offset = int(rng.integers(space))
    names = []
    for g in gidx.tolist():
        code = (mult * (g % space) + offset) % space
        a, rest = divmod(code, nb * nk)
        b, k = divmod(rest, nk)
        name = f"{cat.NAME_ROOT_A[a]}{cat.NAME_ROOT_B[b]} {cat.NAME_KIND[k]}"
        if g >= space:
            name = f"{name} {g // space + 1}"
        names.append(name)
    return names
