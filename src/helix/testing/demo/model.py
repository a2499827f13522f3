"""Latent monthly dynamics of a chunk of accounts (vectorised over accounts, looped over months).

Each month, for every account:

1. a latent health drifts (AR(1) around a mean set by product fit, onboarding and the
   CSM) and takes shocks (a champion leaving, a new executive, incidents);
2. the observables a CS platform sees are drawn from it: active users vs seats, usage
   intensity, breadth of features used, support tickets and their tone, NPS answers;
3. billing runs (failed card payments can end in involuntary churn), businesses close
   or get acquired (involuntary churn);
4. renewal decisions, contraction and expansion are drawn from the *observable*
   signals (see :mod:`helix.testing.demo.decisions`).

The first ``cal.burn`` months build the installed base's past (no churn, no activity
written); the history window follows.
"""

from __future__ import annotations

import numpy as np

from helix.testing.demo import catalog as cat
from helix.testing.demo import decisions as dec
from helix.testing.demo import history as hs
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.contacts import NEVER, ContactSignals
from helix.testing.demo.history import History
from helix.testing.demo.population import Accounts, Csm, account_mrr, reassign, segment_of_arr

SEG_MU = np.array([-0.15, 0.0, 0.2])
"""Segment effect on long-run health (high-touch accounts get more attention)."""
SEAT_FLOOR = np.array([2, 10, 40])
NO_VALUE_MONTHS = np.array([4, 6, 8])
"""Months after signup without a first value moment that count as "no value yet", by segment."""
API_CALLS_PER_USAGE = 1_500.0
"""API calls per month per unit of usage (active users x intensity) for API users."""


def _initial_addons(rng: np.random.Generator, acc: Accounts) -> np.ndarray:
    avail = dec.addon_available(acc.tier0)
    p = np.array([0.05, 0.15, 0.3])[acc.seg][:, None] * avail
    bits = rng.random(p.shape) < p
    return (bits * (1 << np.arange(len(cat.ADDONS)))).sum(axis=1).astype(np.int64)


class _Loop:
    """Mutable per-account state carried from month to month."""

    def __init__(
        self,
        rng: np.random.Generator,
        acc: Accounts,
        con: ContactSignals,
        cal: Calendar,
        roster: list[Csm],
    ):
        self.rng, self.acc, self.con, self.cal, self.roster = rng, acc, con, cal, roster
        n = acc.n
        self.n = n
        self.h = np.zeros(n)
        self.adopt = np.full(n, 0.1)
        self.alive = np.zeros(n, dtype=bool)
        self.seats = acc.seats0.astype(np.int64).copy()
        self.tier = acc.tier0.astype(np.int64).copy()
        self.addons = _initial_addons(rng, acc)
        self.api = np.zeros(n, dtype=np.int64)
        self.anchor_m = acc.sign_m.copy()
        self.anchor_dom = acc.sign_day - cal.month_start[acc.sign_m] + 1
        self.churn_m = np.full(n, -1)
        self.last_kind = np.zeros(n, dtype=np.int8)
        self.pend_day = np.full(n, NEVER, dtype=np.int64)
        self.pend_kind = np.zeros(n, dtype=np.int8)
        self.pend_cause = np.zeros(n, dtype=np.int8)
        self.last_detr = np.full(n, -99)
        self.last_prom = np.full(n, -99)
        finite = np.isfinite(acc.ttv_days)
        ttv = np.where(finite, acc.sign_day + np.ceil(np.where(finite, acc.ttv_days, 0)), NEVER)
        self.ttv_day = ttv.astype(np.int64)
        self.ttv_m = np.where(finite, cal.month_of(self.ttv_day), cal.total + 1)
        self.usage = np.zeros((n, cal.total))
        self.hist = History(n, cal.total)
        self.hist.ttv_day = self.ttv_day

    # ------------------------------------------------------------------ one month
    def step(self, m: int) -> None:
        """Advance every account of the chunk by month ``m``."""
        rng, acc, cal = self.rng, self.acc, self.cal
        start, mlen, win = int(cal.month_start[m]), int(cal.month_len[m]), m >= cal.burn
        if m == cal.burn:
            self._resegment()
        starting = acc.sign_m == m
        alive_before = self.alive.copy()
        lo = np.where(starting, acc.sign_day - start, 0)
        react = self._reactivate(m, mlen, win, lo)
        fresh = starting | react
        self.alive |= fresh

        onb = m > self.ttv_m
        e = self._health(m, fresh, react, onb)
        users, intensity, breadth, usage = self._usage(e, onb)
        frac0 = np.where(self.alive, (mlen - lo) / mlen, 0.0)
        angry, neutral, happy = self._tickets(users, e, onb, frac0)
        self._nps(m, win)
        sig = self._signals(m, users, usage, breadth, angry, onb, fresh)

        renew = alive_before & self.alive & (m > self.anchor_m)
        renew &= (m - self.anchor_m) % acc.term == 0
        ren_off = cal.anniversary_offset(m, self.anchor_dom)
        renew &= ren_off < mlen
        if win:
            self._billing(m, start, mlen, lo)
            self._closures(start, mlen, lo, fresh)
            self._voluntary(m, start, mlen, lo, fresh, renew, ren_off, sig)
        hi = np.where(self.alive, mlen, 0)
        self._apply_churn(m, start, mlen, lo, hi)

        ok = self.alive & ~fresh
        self._commercial(m, mlen, lo, ok, renew & self.alive, ren_off, sig, breadth, usage)

        # thin this month's tickets to the days the account was actually a customer
        keep = np.where(frac0 > 0, (hi - lo).clip(0) / mlen / np.maximum(frac0, 1e-9), 0.0)
        keep = np.clip(keep, 0.0, 1.0)
        H = self.hist
        H.angry[:, m] = rng.binomial(angry, keep)
        H.neutral[:, m] = rng.binomial(neutral, keep)
        H.happy[:, m] = rng.binomial(happy, keep)
        active = hi > lo
        H.lo[:, m] = np.where(active, lo, 0)
        H.hi[:, m] = np.where(active, hi, 0)
        H.health[:, m] = self.h
        H.users[:, m] = users
        H.intensity[:, m] = intensity
        H.breadth[:, m] = breadth
        H.seats[:, m] = self.seats
        H.tier[:, m] = self.tier
        H.addons[:, m] = self.addons
        H.api[:, m] = self.api
        self.usage[:, m] = np.where(active, usage, 0.0)

    def _resegment(self) -> None:
        """At the window start, the company re-segments its base by ARR (and rebalances books)."""
        acc = self.acc
        arr = 12 * account_mrr(self.seats, self.tier, self.addons, self.api, acc.discount)
        reassign(self.rng, acc, self.alive, segment_of_arr(arr), self.roster)

    def _reactivate(self, m: int, mlen: int, win: bool, lo: np.ndarray) -> np.ndarray:
        n, rng = self.n, self.rng
        if not win:
            return np.zeros(n, dtype=bool)
        gap = m - self.churn_m
        p = np.select(
            [
                (self.last_kind == hs.FAILED_PAYMENT) & (gap <= 3),
                (self.last_kind == hs.VOLUNTARY) & (gap <= 18),
            ],
            [0.15, 0.006],
            0.0,
        )
        react = ~self.alive & (self.churn_m >= 0) & (gap >= 1) & (rng.random(n) < p)
        day = (rng.random(n) * mlen).astype(np.int64)
        lo[react] = day[react]
        self.anchor_m[react] = m
        self.anchor_dom[react] = day[react] + 1
        shrink = rng.uniform(0.6, 1.0, n)
        seg = self.acc.seg
        self.seats = np.where(
            react, np.maximum(np.rint(self.seats * shrink), SEAT_FLOOR[seg]), self.seats
        ).astype(np.int64)
        self.addons[react] = 0
        self.api[react] = 0
        self.pend_day[react] = NEVER
        self.hist.react_day[react, m] = day[react]
        return react

    def _health(self, m: int, fresh: np.ndarray, react: np.ndarray, onb: np.ndarray) -> np.ndarray:
        rng, acc, con, n = self.rng, self.acc, self.con, self.n
        mu = 0.55 * acc.fit + 0.5 * onb - 0.3 + SEG_MU[acc.seg] + acc.csm_skill
        left = con.champ_left[:, m]
        shock = np.where(left, np.where(con.n_engaged[:, m] == 0, -1.2, -0.3), 0.0)
        newcomer = con.exec_arrived[:, m] & (m > acc.sign_m)
        shock += newcomer * rng.normal(0.0, 0.5, n)
        shock += np.where(rng.random(n) < 0.012, -0.9, 0.0)
        shock += np.where(rng.random(n) < 0.012, 0.6, 0.0)
        drift = mu + 0.8 * (self.h - mu) + 0.3 * rng.normal(size=n) + shock
        self.h = np.where(fresh, mu + 0.45 * rng.normal(size=n) + 0.3 * react, drift)
        return dec.sigmoid(1.5 * self.h + 0.6)

    def _usage(self, e: np.ndarray, onb: np.ndarray) -> tuple[np.ndarray, ...]:
        rng, n = self.rng, self.n
        target = np.where(onb, 0.12 + 0.85 * e, 0.05 + 0.3 * e)
        util = np.clip(target + 0.06 * rng.normal(size=n), 0.02, 1.0)
        users = np.maximum(1, rng.binomial(self.seats, util))
        self.adopt = np.clip(self.adopt + 0.15 * (e - self.adopt) + 0.04 * rng.normal(size=n), 0, 1)
        tmax = cat.TIER_MAX_BREADTH[self.tier]
        full = cat.SETUP_BREADTH + np.rint((tmax - cat.SETUP_BREADTH) * self.adopt)
        setup = np.clip(1 + np.rint(2 * self.adopt), 1, cat.SETUP_BREADTH)
        breadth = np.where(onb, full, setup).astype(np.int64)
        intensity = (0.4 + 1.2 * e) * np.exp(0.1 * rng.normal(size=n))
        return users, intensity, breadth, users * intensity

    def _tickets(
        self, users: np.ndarray, e: np.ndarray, onb: np.ndarray, frac: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        rng = self.rng
        lam = 0.06 * np.sqrt(users + 4.0) * (2.0 - e) * np.where(onb, 1.0, 1.4) * frac
        total = rng.poisson(lam)
        angry = rng.binomial(total, dec.sigmoid(-2.0 - 1.7 * self.h))
        rest = total - angry
        happy = rng.binomial(rest, dec.sigmoid(-1.2 + 1.0 * self.h))
        return angry, rest - happy, happy

    def _nps(self, m: int, win: bool) -> None:
        if self.cal.month_of_year[m] not in (3, 9):
            return
        rng, acc = self.rng, self.acc
        invited = np.minimum(self.con.n_present[:, m], 10) * (self.alive & (m - acc.sign_m >= 3))
        who = np.repeat(np.arange(self.n), invited)
        score = np.clip(np.rint(7.5 + 1.5 * self.h[who] + 1.3 * rng.normal(size=who.size)), 0, 10)
        p = 0.10 + 0.30 * (score >= 9) + 0.28 * (score <= 4) + 0.06 * ((score >= 5) & (score <= 6))
        answered = rng.random(who.size) < p
        who, score = who[answered], score[answered].astype(np.int64)
        self.last_detr[who[score <= 6]] = m
        self.last_prom[who[score >= 9]] = m
        if win and who.size:
            self.hist.nps_acct.append(who)
            self.hist.nps_month.append(np.full(who.size, m, dtype=np.int64))
            self.hist.nps_score.append(score)

    def _signals(
        self,
        m: int,
        users: np.ndarray,
        usage: np.ndarray,
        breadth: np.ndarray,
        angry: np.ndarray,
        onb: np.ndarray,
        fresh: np.ndarray,
    ) -> dec.Signals:
        acc, con = self.acc, self.con
        util = users / np.maximum(self.seats, 1)
        prev = self.usage[:, max(0, m - 3) : m]
        count = (prev > 0).sum(axis=1)
        mean = prev.sum(axis=1) / np.maximum(count, 1)
        drop = 1.0 - usage / np.maximum(mean, 1e-9)
        decline = np.where((count >= 2) & ~fresh, np.clip((drop - 0.25) / 0.35, 0, 1), 0.0)
        plateau = np.zeros(self.n)
        if m >= 9:
            recent = (self.usage[:, m - 2 : m].sum(axis=1) + usage) / 3.0
            older = self.usage[:, m - 9 : m - 6].mean(axis=1)
            flat = np.abs(recent / np.maximum(older, 1e-9) - 1.0) < 0.1
            plateau = ((m - acc.sign_m >= 12) & (older > 0) & flat & (util < 0.7)).astype(float)
        engaged = con.n_engaged[:, m]
        gap = con.champ_left[:, max(0, m - 5) : m + 1].any(axis=1) & (engaged == 0)
        detractor = (m - self.last_detr) <= 6
        recent_angry = self.hist.angry[:, max(0, m - 3) : m].sum(axis=1) + angry
        tenure = m - acc.sign_m
        return dec.Signals(
            util=util,
            low_adoption=np.clip((0.55 - util) / 0.3, 0, 1) * onb,
            decline=decline,
            plateau=plateau,
            champion_gap=gap.astype(float),
            single_threaded=(engaged <= 1).astype(float),
            detractor=detractor.astype(float),
            promoter=(((m - self.last_prom) <= 6) & ~detractor).astype(float),
            angry=np.clip(recent_angry, 0, 3) / 3.0,
            no_value=(~onb & (tenure >= NO_VALUE_MONTHS[acc.seg])).astype(float),
            slow_ttv=(onb & (acc.ttv_days > 180)).astype(float),
            fast_ttv=(onb & (acc.ttv_days < 45)).astype(float),
        )

    # ------------------------------------------------------------------ money and churn
    def _pend(
        self, who: np.ndarray, day: np.ndarray, kind: int | np.ndarray, cause: int | np.ndarray = 0
    ) -> None:
        """Schedule a churn on ``day`` unless an earlier one is already scheduled."""
        sooner = who & (day < self.pend_day)
        self.pend_day = np.where(sooner, day, self.pend_day)
        self.pend_kind = np.where(sooner, kind, self.pend_kind).astype(np.int8)
        self.pend_cause = np.where(sooner, cause, self.pend_cause).astype(np.int8)

    def _billing(self, m: int, start: int, mlen: int, lo: np.ndarray) -> None:
        rng, acc, n, H = self.rng, self.acc, self.n, self.hist
        due = self.alive & ((m - self.anchor_m) % acc.bill_every == 0)
        off = np.where(m == self.anchor_m, lo, self.cal.anniversary_offset(m, self.anchor_dom))
        due &= (off < mlen) & (off >= lo)
        p_fail = np.where(acc.card, 0.05, 0.025) * (1.0 + 1.2 * (self.h < -0.8))
        failed = due & (rng.random(n) < p_fail)
        p_retry = np.where(acc.card, 0.5, 0.85)
        tries = rng.random((n, 3)) < p_retry[:, None]
        recovered = tries.any(axis=1)
        which = tries.argmax(axis=1)
        retry_delay = np.where(acc.card, np.array([3, 7, 14])[which], np.array([12, 25, 45])[which])
        first_delay = np.where(acc.card, 0, rng.integers(0, 31, n))
        final = failed & ~recovered
        H.pay_day[:, m] = np.where(due, off, -1)
        H.pay_outcome[:, m] = np.select([final, failed], [hs.FAILED, hs.PAID_AFTER_RETRY], hs.PAID)
        dunning = np.where(acc.card, 18, 60)
        H.pay_delay[:, m] = np.select([final, failed], [dunning, retry_delay], first_delay)
        self._pend(final, start + off + dunning, hs.FAILED_PAYMENT)

    def _closures(self, start: int, mlen: int, lo: np.ndarray, fresh: np.ndarray) -> None:
        rng, n = self.rng, self.n
        p = np.array([0.0028, 0.0011, 0.0005])[self.acc.seg] * (1.0 + 1.0 * (self.h < -1.0))
        hit = self.alive & ~fresh & (rng.random(n) < p)
        day = start + lo + (rng.random(n) * (mlen - lo)).astype(np.int64)
        kind = np.where(rng.random(n) < 0.65, hs.CLOSURE, hs.ACQUIRED)
        self._pend(hit, day, kind)

    def _voluntary(
        self,
        m: int,
        start: int,
        mlen: int,
        lo: np.ndarray,
        fresh: np.ndarray,
        renew: np.ndarray,
        ren_off: np.ndarray,
        sig: dec.Signals,
    ) -> None:
        rng, acc, n = self.rng, self.acc, self.n
        z, contrib = sig.risk(0.5 * rng.normal(size=n))
        self.hist.risk[:, m] = z
        monthly = acc.term == 1
        p = np.where(
            renew,
            np.where(
                monthly,
                dec.sigmoid(dec.MONTHLY_BASE + z),
                dec.sigmoid(dec.RENEWAL_BASE[acc.seg] + z),
            ),
            np.where(monthly, 0.0, dec.sigmoid(dec.MIDTERM_BASE + z)),
        )
        leave = self.alive & ~fresh & (rng.random(n) < p)
        mid = lo + (rng.random(n) * (mlen - lo)).astype(np.int64)
        day = start + np.where(renew, ren_off, mid)
        self._pend(leave, day, hs.VOLUNTARY, dec.churn_cause(rng, contrib))

    def _apply_churn(self, m: int, start: int, mlen: int, lo: np.ndarray, hi: np.ndarray) -> None:
        H = self.hist
        now = self.alive & (self.pend_day < start + mlen)
        off = np.clip(self.pend_day - start, lo, mlen)
        hi[now] = off[now]
        self.alive[now] = False
        self.churn_m[now] = m
        self.last_kind[now] = self.pend_kind[now]
        H.churn_day[now, m] = off[now]
        H.churn_kind[now, m] = self.pend_kind[now]
        H.churn_cause[now, m] = self.pend_cause[now]
        H.pay_day[now & (H.pay_day[:, m] >= off), m] = -1  # no invoice after the customer left
        self.pend_day[now] = NEVER

    # ------------------------------------------------------------------ growth and shrinkage
    def _commercial(
        self,
        m: int,
        mlen: int,
        lo: np.ndarray,
        ok: np.ndarray,
        renewed: np.ndarray,
        ren_off: np.ndarray,
        sig: dec.Signals,
        breadth: np.ndarray,
        usage: np.ndarray,
    ) -> None:
        rng, acc, n, h, seg = self.rng, self.acc, self.n, self.h, self.acc.seg
        self.hist.renew_day[renewed, m] = ren_off[renewed]

        grow = ok & (rng.random(n) < dec.seat_expansion(sig, h, seg))
        self.seats = np.where(grow, self.seats + dec.seats_added(rng, self.seats, seg), self.seats)
        p_cut = dec.contraction_at_renewal(sig, h) * np.where(acc.term == 1, 0.15, 1.0)
        cut = renewed & ~grow & (rng.random(n) < p_cut)
        self.seats = np.where(
            cut, dec.seats_after_cut(rng, self.seats, sig.util * self.seats, seg), self.seats
        )

        up = ok & (rng.random(n) < dec.tier_upgrade(breadth, self.tier, h, renewed))
        down = renewed & ~up & (rng.random(n) < dec.tier_downgrade(breadth, self.tier, h))
        self.tier = self.tier + up - down
        avail = dec.addon_available(self.tier)
        allowed = (avail * (1 << np.arange(len(cat.ADDONS)))).sum(axis=1)
        lost = down & ((self.addons & ~allowed) != 0)
        self.addons &= allowed

        sell = ok & (rng.random(n) < dec.cross_sell(h, breadth, seg))
        pick = dec.pick_addon(rng, self.tier, self.addons)
        sell &= pick >= 0
        self.addons = np.where(sell, self.addons | (1 << np.maximum(pick, 0)), self.addons)
        drop = renewed & (self.addons > 0) & (h < -0.5) & (rng.random(n) < 0.35)
        self.addons = np.where(drop, self.addons & (self.addons - 1), self.addons)

        need = np.where(breadth >= 9, np.ceil(usage * API_CALLS_PER_USAGE / cat.API_BLOCK_CALLS), 0)
        need = need.astype(np.int64)
        quarter = self.cal.month_of_year[m] in (1, 4, 7, 10)
        api_up = ok & quarter & (need > self.api)
        api_down = renewed & (need < self.api)
        self.api = np.where(api_up | api_down, need, self.api)

        changed = grow | cut | up | down | lost | sell | drop | api_up | api_down
        mid = lo + (rng.random(n) * (mlen - lo)).astype(np.int64)
        self.hist.chg_day[changed, m] = np.where(renewed, ren_off, mid)[changed]


def simulate(
    rng: np.random.Generator,
    acc: Accounts,
    con: ContactSignals,
    cal: Calendar,
    roster: list[Csm],
) -> History:
    """Run the monthly dynamics of a chunk over the whole grid and return its history.

    ``acc`` is updated in place where the company re-segments accounts at the window start.
    """
    loop = _Loop(rng, acc, con, cal, roster)
    for m in range(cal.total):
        loop.step(m)
    return loop.hist
