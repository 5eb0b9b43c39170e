"""Simulated operator traffic with spammers injected, and the truth beside it.

`simulate(spec, out_dir)` writes

- ``records.parquet`` (or ``records.csv``): one row per call or SMS, the columns of
  `ictgov.antispam.records` (start_time as epoch seconds in Parquet, ISO 8601 with the
  +07:00 offset in CSV; content_hash for SMS);
- ``subscribers.csv``: number, activation_date, operator, id_document, point_of_sale;
- ``truth.csv``: number, class, spam (true/false), sleeper, farm, junk_id;
- ``manifest.json``: the spec and the counts.

The population:

- ordinary subscribers on a contacts graph (communities of about 40 with links between
  them, every link both ways), calling and texting their contacts with a daily rhythm
  (quiet at night, peaks mid-morning and evening), sometimes a number they never
  contacted, answering some texts and returning some missed calls;
- heavy legitimate users that a naive detector flags and Circular 22's criteria must
  not: **shops** (many customers call them; they call back and text confirmations),
  **delivery drivers** (dozens of new customers a day, short calls, quick redials,
  customers calling back, SMS from a few phrases all drivers use), **heavy texters**
  (hundreds of SMS a day to a few friends who answer);
- spammers (``--spammers`` is their share of the subscribers): **spam callers**
  (autodialled, hundreds of short calls a day to strangers), **spam texters** (hundreds
  of SMS a day from their own templates), **SIM farms** (8-25 new SIMs, bought on a
  few identity documents and activated in one burst at one point of sale, each sending
  a moderate number of SMS from the farm's shared templates) and **scam callers**
  (new SIMs, tens of calls a day to strangers, long conversations when answered, never
  a text). When there are at least 8 days, some spam callers and texters are
  **sleepers**: activated in the first days of the records, silent, then spamming.

Spammers only ever contact ordinary and heavy users (never each other), so a sleeper's
silence is real. Everything is drawn from numpy generators seeded by `spec.seed` (one
per day), so the same spec writes the same files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["CLASSES", "SPAM_CLASSES", "SimSpec", "simulate", "traffic_days"]

TZ = 7 * 3600
SPAM_CLASSES = ("spam_caller", "spam_texter", "sim_farm", "scam_caller")
HEAVY_CLASSES = ("shop", "delivery", "heavy_texter")
CLASSES = ("ordinary", *HEAVY_CLASSES, *SPAM_CLASSES)
# Mobile prefixes by operator (MIC's 2018 numbering).
PREFIXES = {
    "viettel": ["086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039"],
    "vinaphone": ["088", "091", "094", "081", "082", "083", "084", "085"],
    "mobifone": ["089", "090", "093", "070", "076", "077", "078", "079"],
    "vietnamobile": ["092", "056", "058"],
}
# How each role's share of spammers and of heavy users is split.
_SPAM_SPLIT = {"spam_caller": 0.30, "spam_texter": 0.25, "sim_farm": 0.30, "scam_caller": 0.15}
_HEAVY_SPLIT = {"shop": 0.35, "delivery": 0.40, "heavy_texter": 0.25}
# Relative activity per local hour, 0h..23h.
_RHYTHM = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.2, 0.6, 1.2, 1.8, 2.0, 2.0, 2.0,
                    1.8, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.2, 2.2, 1.8, 1.2, 0.6])
_RHYTHM = _RHYTHM / _RHYTHM.sum()
# Content hashes: personal messages draw random 62-bit values; shared phrases ("ok",
# "đang đến") and the drivers' and spammers' templates have small fixed ids.
_COMMON_PHRASES = 40
_DRIVER_PHRASES = range(100, 105)
_TEMPLATE_BASE = 1_000_000


@dataclass
class SimSpec:
    subscribers: int = 10_000
    days: int = 7
    spammers: float = 0.01
    heavy: float = 0.01
    seed: int = 1
    start: date = date(2026, 1, 5)
    fmt: str = "parquet"          # records file: "parquet" or "csv"
    silent_days: int = 5          # sleepers stay silent at least this long

    def check(self) -> None:
        if self.subscribers < 100:
            raise ValueError("--subscribers must be at least 100")
        if not 1 <= self.days <= 366:
            raise ValueError("--days must be between 1 and 366")
        if not 0 <= self.spammers <= 0.5:
            raise ValueError("--spammers is a fraction between 0 and 0.5")
        if not 0 <= self.heavy <= 0.5 or self.spammers + self.heavy > 0.9:
            raise ValueError("--heavy is a fraction between 0 and 0.5")
        if self.fmt not in ("parquet", "csv"):
            raise ValueError("format must be parquet or csv")


@dataclass
class _Population:
    numbers: pa.Array                     # national numbers, as text
    operator: np.ndarray                  # operator index per number
    operators: list[str]
    role: np.ndarray                      # index into CLASSES
    contacts_ptr: np.ndarray
    contacts: np.ndarray
    legit: np.ndarray                     # indices of non-spammers (spam targets)
    call_rate: np.ndarray
    sms_rate: np.ndarray
    active_from: np.ndarray               # first day of traffic (sleepers later)
    sleeper: np.ndarray
    farm: np.ndarray                      # farm id or -1
    own_templates: np.ndarray             # spam texters: first of 2 template ids
    shop_pool: np.ndarray = field(default_factory=lambda: np.zeros((0, 400), dtype=np.int64))


def _make_numbers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ops = list(PREFIXES)
    prefixes = [(p, k) for k, op in enumerate(ops) for p in PREFIXES[op]]
    space = len(prefixes) * 10_000_000
    picked = np.unique(rng.integers(0, space, size=int(n * 1.05) + 100))
    while len(picked) < n:
        picked = np.unique(np.concatenate([picked, rng.integers(0, space, size=n)]))
    picked = rng.permutation(picked)[:n]
    pidx, rest = np.divmod(picked, 10_000_000)
    pre = np.array([p for p, _ in prefixes])
    text = np.char.add(pre[pidx], np.char.zfill(rest.astype("U7"), 7))
    op = np.array([k for _, k in prefixes])[pidx]
    return text, op, ops


def _population(spec: SimSpec, rng: np.random.Generator) -> _Population:
    n = spec.subscribers
    text, op, ops = _make_numbers(rng, n)
    role = np.zeros(n, dtype=np.int8)
    n_spam = round(n * spec.spammers)
    n_heavy = round(n * spec.heavy)
    order = rng.permutation(n)
    pos = 0
    for split, total in ((_SPAM_SPLIT, n_spam), (_HEAVY_SPLIT, n_heavy)):
        counts = {k: round(total * v) for k, v in split.items()}
        if total >= len(split):
            counts = {k: max(c, 1) for k, c in counts.items()}
        for k, c in counts.items():
            role[order[pos:pos + c]] = CLASSES.index(k)
            pos += c
    spam = np.isin(role, [CLASSES.index(c) for c in SPAM_CLASSES])
    legit = np.flatnonzero(~spam)

    # Contacts graph among legitimate users: communities of ~40 by position in `legit`,
    # 4 links per user (80 % inside the community), every link both ways.
    m = len(legit)
    u = rng.integers(0, m, size=m * 4)
    inside = rng.random(m * 4) < 0.8
    v = np.where(inside, (u // 40) * 40 + rng.integers(0, 40, size=m * 4), rng.integers(0, m, size=m * 4))
    v = np.minimum(v, m - 1)
    keep = u != v
    src = legit[np.concatenate([u[keep], v[keep]])]
    dst = legit[np.concatenate([v[keep], u[keep]])]
    pair = np.unique(src.astype(np.int64) * n + dst)
    src, dst = pair // n, pair % n
    # Random order within each user's list: the first contacts are the closest (called most).
    shuffle = np.lexsort((rng.random(len(src)), src))
    src, dst = src[shuffle], dst[shuffle]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, src + 1, 1)
    ptr = np.cumsum(ptr)

    call_rate = rng.gamma(2.0, 1.5, size=n)
    sms_rate = rng.gamma(2.0, 1.0, size=n)
    active_from = np.zeros(n, dtype=np.int32)
    sleeper = np.zeros(n, dtype=bool)
    if spec.days >= spec.silent_days + 3:
        for cls in ("spam_caller", "spam_texter"):
            idx = np.flatnonzero(role == CLASSES.index(cls))
            chosen = idx[rng.random(len(idx)) < 0.3]
            sleeper[chosen] = True
            # Activated on day 0 or 1, silent for silent_days + 1 at least.
            active_from[chosen] = rng.integers(spec.silent_days + 2, spec.days - 1, size=len(chosen),
                                               endpoint=True)
    farm = np.full(n, -1, dtype=np.int32)
    farm_idx = np.flatnonzero(role == CLASSES.index("sim_farm"))
    # Farms buy their SIMs from one operator: members sorted by operator, then cut.
    farm_idx = farm_idx[np.argsort(op[farm_idx], kind="stable")]
    k = 0
    fid = 0
    while k < len(farm_idx):
        size = int(rng.integers(8, 26))
        farm[farm_idx[k:k + size]] = fid
        k += size
        fid += 1
    own_templates = _TEMPLATE_BASE + 10 * np.arange(n, dtype=np.int64)
    shops = int((role == CLASSES.index("shop")).sum())
    shop_pool = legit[rng.integers(0, len(legit), size=(shops, 400))]
    return _Population(pa.array(text.tolist()), op, ops, role, ptr, dst.astype(np.int32), legit,
                       call_rate, sms_rate, active_from, sleeper, farm, own_templates, shop_pool)


# -- one day's traffic -------------------------------------------------------------------------


class _Day:
    """Columns of one day's events, appended group by group."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, a, b, t, sms, dur, h) -> None:
        size = len(a)
        if not size:
            return
        sms = np.broadcast_to(np.asarray(sms, dtype=bool), (size,))
        dur = np.where(sms, 0, np.broadcast_to(np.asarray(dur), (size,))).astype(np.int32)
        h = np.where(sms, np.broadcast_to(np.asarray(h, dtype=np.int64), (size,)), -1)
        self.parts.append((np.asarray(a, np.int32), np.asarray(b, np.int32), np.asarray(t, np.int64),
                           sms, dur, h))

    def arrays(self):
        cols = [np.concatenate([p[k] for p in self.parts]) for k in range(6)]
        order = np.argsort(cols[2], kind="stable")
        return [c[order] for c in cols]


def _times(rng, day_start: int, size: int, lo_hour: float = 0, hi_hour: float = 24) -> np.ndarray:
    """Times following the daily rhythm, between lo_hour and hi_hour local time."""
    w = _RHYTHM.copy()
    hours = np.arange(24)
    w[(hours < int(lo_hour)) | (hours >= int(np.ceil(hi_hour)))] = 0
    w /= w.sum()
    hour = rng.choice(24, size=size, p=w)
    return day_start + hour * 3600 + rng.integers(0, 3600, size=size)


def _durations(rng, size: int, answered: float, median: float, sigma: float = 1.0) -> np.ndarray:
    d = np.exp(rng.normal(np.log(median), sigma, size=size)).clip(1, 7200).astype(np.int32)
    return np.where(rng.random(size) < answered, d, 0)


def _pick_contact(rng, pop: _Population, users: np.ndarray, p_new: float) -> np.ndarray:
    deg = pop.contacts_ptr[users + 1] - pop.contacts_ptr[users]
    # The square makes the first contacts the most called ones.
    k = np.floor(deg * rng.random(len(users)) ** 2).astype(np.int64)
    has = deg > 0
    out = pop.legit[rng.integers(0, len(pop.legit), size=len(users))]
    pick = has & (rng.random(len(users)) >= p_new)
    out[pick] = pop.contacts[pop.contacts_ptr[users[pick]] + k[pick]]
    return out


def _sequential(rng, day_start: int, who: np.ndarray, start_hour: tuple[float, float],
                gap: tuple[int, int], dur: np.ndarray, pause_p: float = 0.05) -> np.ndarray:
    """Start times of back-to-back calls or SMS, each run of equal `who` (sorted) one
    sender's day: `gap` seconds between the end of one and the start of the next, an
    occasional pause, the first at a random time within `start_hour`."""
    size = len(who)
    if not size:
        return np.zeros(0, dtype=np.int64)
    gaps = rng.integers(gap[0], gap[1] + 1, size=size)
    pauses = np.where(rng.random(size) < pause_p, rng.integers(300, 1800, size=size), 0)
    step = (dur + gaps + pauses).astype(np.int64)
    first = np.r_[True, who[1:] != who[:-1]]
    starts = np.flatnonzero(first)
    lengths = np.diff(np.r_[starts, size])
    # Offsets within each sender's run: cumulative sum of the steps before, restarted per run.
    csum = np.cumsum(step) - step
    offset = csum - np.repeat(csum[starts], lengths)
    begin = day_start + (rng.uniform(*start_hour, size=len(starts)) * 3600).astype(np.int64)
    return np.repeat(begin, lengths) + offset


def _day(spec: SimSpec, pop: _Population, k: int) -> _Day:
    rng = np.random.default_rng([spec.seed, 1000 + k])
    dstart = _local_midnight(spec.start + timedelta(days=k))
    weekend = (spec.start + timedelta(days=k)).weekday() >= 5
    out = _Day()
    role = pop.role
    legit_targets = pop.legit
    n_targets = len(legit_targets)

    def targets(size: int) -> np.ndarray:
        return legit_targets[rng.integers(0, n_targets, size=size)]

    # Ordinary users and heavy users' private lives.
    users = pop.legit
    factor = 0.85 if weekend else 1.0
    calls = rng.poisson(pop.call_rate[users] * factor)
    sms = rng.poisson(pop.sms_rate[users] * factor)
    a = np.repeat(users, calls)
    b = _pick_contact(rng, pop, a, 0.04)
    t = _times(rng, dstart, len(a))
    d = _durations(rng, len(a), 0.8, 60)
    out.add(a, b, t, False, d, 0)
    # A missed call is returned a tenth of the time, within the hour.
    back = (d == 0) & (rng.random(len(a)) < 0.1)
    out.add(b[back], a[back], t[back] + rng.integers(60, 3600, size=back.sum()), False,
            _durations(rng, int(back.sum()), 0.9, 60), 0)
    a = np.repeat(users, sms)
    b = _pick_contact(rng, pop, a, 0.04)
    t = _times(rng, dstart, len(a))
    common = rng.random(len(a)) < 0.08
    h = np.where(common, rng.integers(1, _COMMON_PHRASES + 1, size=len(a)),
                 rng.integers(1 << 40, 1 << 62, size=len(a)))
    out.add(a, b, t, True, 0, h)
    reply = rng.random(len(a)) < 0.5
    rh = np.where(rng.random(reply.sum()) < 0.1, rng.integers(1, _COMMON_PHRASES + 1, size=reply.sum()),
                  rng.integers(1 << 40, 1 << 62, size=reply.sum()))
    out.add(b[reply], a[reply], t[reply] + rng.integers(20, 1800, size=reply.sum()), True, 0, rh)

    # Shops: customers call in (40 a day, from a pool of regulars and passers-by); the
    # shop returns half of the calls later that day and texts a third of the callers.
    shops = np.flatnonzero(role == CLASSES.index("shop"))
    if len(shops):
        c = rng.poisson(40 * factor, size=len(shops))
        local = np.repeat(np.arange(len(shops)), c)
        s = shops[local]
        size = len(s)
        callers = np.where(rng.random(size) < 0.7, pop.shop_pool[local, rng.integers(0, 400, size=size)],
                           targets(size))
        t_in = _times(rng, dstart, size, 7, 21)
        out.add(callers, s, t_in, False, _durations(rng, size, 0.85, 90), 0)
        ret = rng.random(size) < 0.5
        out.add(s[ret], callers[ret], t_in[ret] + rng.integers(300, 7200, size=ret.sum()), False,
                _durations(rng, int(ret.sum()), 0.8, 60), 0)
        txt = rng.random(size) < 0.33
        out.add(s[txt], callers[txt], t_in[txt] + rng.integers(60, 3600, size=txt.sum()), True, 0,
                rng.integers(1 << 40, 1 << 62, size=txt.sum()))

    # Delivery drivers: new customers all day; a missed customer is redialled at once;
    # a third of the customers call back; a quarter get an SMS from the drivers' phrases.
    drivers = np.flatnonzero(role == CLASSES.index("delivery"))
    if len(drivers):
        s = np.repeat(drivers, rng.poisson(45 * factor, size=len(drivers)))
        size = len(s)
        cust = targets(size)
        t0 = _times(rng, dstart, size, 8, 19)
        d0 = _durations(rng, size, 0.75, 25, 0.6)
        out.add(s, cust, t0, False, d0, 0)
        redial = (d0 == 0) & (rng.random(size) < 0.6)
        out.add(s[redial], cust[redial], t0[redial] + rng.integers(15, 40, size=redial.sum()), False,
                _durations(rng, int(redial.sum()), 0.6, 20, 0.6), 0)
        cb = rng.random(size) < 0.35
        out.add(cust[cb], s[cb], t0[cb] + rng.integers(60, 1800, size=cb.sum()), False,
                _durations(rng, int(cb.sum()), 0.95, 30, 0.6), 0)
        tx = rng.random(size) < 0.25
        out.add(s[tx], cust[tx], t0[tx] + 60, True, 0,
                rng.choice(np.array(list(_DRIVER_PHRASES)), size=tx.sum()))

    # Heavy texters: 100-250 SMS a day to their closest friends, who answer most of them.
    texters = np.flatnonzero(role == CLASSES.index("heavy_texter"))
    if len(texters):
        s = np.repeat(texters, rng.integers(100, 251, size=len(texters)))
        size = len(s)
        deg = np.minimum(pop.contacts_ptr[s + 1] - pop.contacts_ptr[s], 6)
        k_ = np.floor(deg * rng.random(size)).astype(np.int64)
        to = np.where(deg > 0, pop.contacts[np.minimum(pop.contacts_ptr[s] + k_, len(pop.contacts) - 1)],
                      targets(size))
        t1 = _times(rng, dstart, size, 7, 24)
        h = np.where(rng.random(size) < 0.1, rng.integers(1, _COMMON_PHRASES + 1, size=size),
                     rng.integers(1 << 40, 1 << 62, size=size))
        out.add(s, to, t1, True, 0, h)
        rp = rng.random(size) < 0.7
        out.add(to[rp], s[rp], t1[rp] + rng.integers(20, 600, size=rp.sum()), True, 0,
                rng.integers(1 << 40, 1 << 62, size=rp.sum()))

    # Spammers, from their first day of activity (sleepers start late).
    def active(cls: str) -> np.ndarray:
        return np.flatnonzero((role == CLASSES.index(cls)) & (pop.active_from <= k))

    callers_ = active("spam_caller")
    if len(callers_):
        s = np.repeat(callers_, rng.poisson(rng.uniform(150, 400, size=len(callers_))))
        size = len(s)
        u = rng.random(size)
        dur = np.where(u < 0.55, 0, np.where(u < 0.85, rng.integers(1, 10, size=size),
                                             rng.integers(10, 61, size=size))).astype(np.int32)
        t2 = _sequential(rng, dstart, s, (8, 9), (2, 15), dur)
        to = targets(size)
        out.add(s, to, t2, False, dur, 0)
        cb = rng.random(size) < 0.03
        out.add(to[cb], s[cb], t2[cb] + rng.integers(60, 7200, size=cb.sum()), False,
                _durations(rng, int(cb.sum()), 0.3, 8, 0.5), 0)
    texters_ = active("spam_texter")
    if len(texters_):
        s = np.repeat(texters_, rng.poisson(rng.uniform(200, 800, size=len(texters_))))
        size = len(s)
        t2 = _sequential(rng, dstart, s, (8, 9), (5, 60), np.zeros(size, dtype=np.int32))
        to = targets(size)
        out.add(s, to, t2, True, 0, pop.own_templates[s] + rng.integers(0, 2, size=size))
        rp = rng.random(size) < 0.01
        out.add(to[rp], s[rp], t2[rp] + rng.integers(60, 3600, size=rp.sum()), True, 0,
                rng.integers(1 << 40, 1 << 62, size=rp.sum()))
    farm_ = active("sim_farm")
    if len(farm_):
        s = np.repeat(farm_, rng.poisson(rng.uniform(30, 80, size=len(farm_))))
        size = len(s)
        tpl = _TEMPLATE_BASE // 2 + 3 * pop.farm[s].astype(np.int64) + rng.integers(0, 3, size=size)
        out.add(s, targets(size), _times(rng, dstart, size, 8, 21), True, 0, tpl)
    scam_ = active("scam_caller")
    if len(scam_):
        s = np.repeat(scam_, rng.poisson(rng.uniform(25, 60, size=len(scam_))))
        size = len(s)
        u = rng.random(size)
        dur = np.where(u < 0.4, 0, np.where(u < 0.65, rng.integers(1, 10, size=size),
                                            np.exp(rng.normal(np.log(180), 0.8, size=size)).clip(10, 1800)))
        dur = dur.astype(np.int32)
        t2 = _sequential(rng, dstart, s, (9, 10), (30, 300), dur, 0.1)
        out.add(s, targets(size), t2, False, dur, 0)
    return out


def _local_midnight(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) - TZ


def traffic_days(spec: SimSpec) -> list[date]:
    return [spec.start + timedelta(days=k) for k in range(spec.days)]


# -- files -------------------------------------------------------------------------------------


def _table(pop: _Population, cols, fmt: str) -> pa.Table:
    a, b, t, sms, dur, h = cols
    kinds = pa.array(["voice", "sms"])
    table = {
        "a_number": pop.numbers.take(pa.array(a)),
        "b_number": pop.numbers.take(pa.array(b)),
        "start_time": pa.array(t, pa.int64()),
        "kind": kinds.take(pa.array(sms.astype(np.int8))),
        "duration_s": pa.array(dur, pa.int32()),
        "operator": pa.array(pop.operators).take(pa.array(pop.operator[a])),
        "content_hash": pa.array(h, pa.int64(), mask=~sms),
    }
    if fmt == "csv":
        iso = (t + TZ).astype("datetime64[s]").astype(str)
        table["start_time"] = pa.array(np.char.add(iso, "+07:00").tolist())
    return pa.table(table)


def _id_cccd(rng, size: int) -> np.ndarray:
    """12-digit CCCD numbers: province code 001-096, century-and-sex digit, year, 6 digits."""
    prov = rng.integers(1, 97, size=size)
    century = rng.integers(0, 4, size=size)
    year = rng.integers(0, 100, size=size)
    tail = rng.integers(0, 1_000_000, size=size)
    return np.char.add(np.char.add(np.char.zfill(prov.astype("U3"), 3), century.astype("U1")),
                       np.char.add(np.char.zfill(year.astype("U2"), 2), np.char.zfill(tail.astype("U6"), 6)))


def _subscribers(spec: SimSpec, pop: _Population, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    n = len(pop.role)
    role = pop.role
    start_day = (spec.start - date(1970, 1, 1)).days
    act = start_day - rng.integers(60, 3000, size=n)
    is_ = {c: role == CLASSES.index(c) for c in CLASSES}
    drivers_new = is_["delivery"] & (rng.random(n) < 0.2)
    act[drivers_new] = start_day - rng.integers(5, 30, size=drivers_new.sum())
    for c in ("spam_caller", "spam_texter", "scam_caller"):
        act[is_[c]] = start_day - rng.integers(1, 26, size=is_[c].sum())
    act[pop.sleeper] = start_day + rng.integers(0, 2, size=pop.sleeper.sum())
    # Identity documents: households of 1-3 numbers; 10 % old 9-digit CMND.
    docs = np.empty(n, dtype=object)
    junk_id = np.zeros(n, dtype=bool)
    legit = np.flatnonzero(~np.isin(role, [CLASSES.index(c) for c in SPAM_CLASSES]))
    sizes = rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1], size=len(legit))
    owner = np.repeat(np.arange(len(sizes)), sizes)[:len(legit)]
    ids = _id_cccd(rng, len(sizes)).astype(object)
    cmnd = rng.random(len(sizes)) < 0.1
    ids[cmnd] = np.char.zfill(rng.integers(0, 10**9, size=cmnd.sum()).astype("U9"), 9).astype(object)
    docs[legit] = ids[owner]
    # A few typing mistakes in ordinary documents (an extra or a missing digit).
    typo = legit[rng.random(len(legit)) < 0.003]
    docs[typo] = [d[:-1] if i % 2 else d + "7" for i, d in enumerate(docs[typo])]
    junk_id[typo] = True
    # Spammers' SIMs: each farm on one or two documents; callers and texters on bought
    # documents shared by 4-8 SIMs; a fifth of the texters on a placeholder document.
    for f in np.unique(pop.farm[pop.farm >= 0]):
        members = np.flatnonzero(pop.farm == f)
        fdocs = _id_cccd(rng, 2).astype(object)
        docs[members] = fdocs[rng.integers(0, 1 + (len(members) > 12), size=len(members))]
        act[members] = start_day - int(rng.integers(5, 21))
        junk_id[members] = True
    others = np.flatnonzero(np.isin(role, [CLASSES.index(c) for c in ("spam_caller", "spam_texter",
                                                                        "scam_caller")]))
    others = rng.permutation(others)
    k = 0
    while k < len(others):
        size = int(rng.integers(4, 9))
        grp = others[k:k + size]
        docs[grp] = _id_cccd(rng, 1).astype(object)[0]
        junk_id[grp] = len(grp) > 3
        k += size
    placeholder = np.flatnonzero(is_["spam_texter"] & (rng.random(n) < 0.2))
    docs[placeholder] = "000000000"
    junk_id[placeholder] = True
    # Points of sale: 500 shops; a farm's SIMs all at one shop on one day (a burst).
    pos = np.char.add("POS-", np.char.zfill(rng.integers(0, 500, size=n).astype("U3"), 3)).astype(object)
    for f in np.unique(pop.farm[pop.farm >= 0]):
        members = np.flatnonzero(pop.farm == f)
        pos[members] = f"POS-{int(rng.integers(0, 500)):03d}"
    dates = (np.array(act, dtype="datetime64[D]")).astype(str)
    table = pa.table({
        "number": pop.numbers,
        "activation_date": pa.array(dates.tolist()),
        "operator": pa.array(pop.operators).take(pa.array(pop.operator)),
        "id_document": pa.array(docs.tolist()),
        "point_of_sale": pa.array(pos.tolist()),
    })
    return table, junk_id


def simulate(spec: SimSpec, out_dir: str | Path, progress=None) -> dict:
    """Write records, subscribers, truth and manifest to `out_dir`; returns the manifest.

    `progress(day_index)` is called after each day is written (for a progress bar).
    """
    spec.check()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    pop = _population(spec, rng)
    rows = 0
    path = out / f"records.{spec.fmt}"
    writer = None
    try:
        for k in range(spec.days):
            table = _table(pop, _day(spec, pop, k).arrays(), spec.fmt)
            rows += table.num_rows
            if spec.fmt == "parquet":
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=1 << 20)
            else:
                if writer is None:
                    writer = pacsv.CSVWriter(path, table.schema)
                writer.write_table(table)
            if progress:
                progress(k)
    finally:
        if writer is not None:
            writer.close()
    subs, junk_id = _subscribers(spec, pop, np.random.default_rng([spec.seed, 7]))
    pacsv.write_csv(subs, out / "subscribers.csv")
    roles = np.array(CLASSES)[pop.role]
    spam = np.isin(roles, SPAM_CLASSES)
    truth = pa.table({
        "number": pop.numbers,
        "class": pa.array(roles.tolist()),
        "spam": pa.array(spam.tolist()),
        "sleeper": pa.array(pop.sleeper.tolist()),
        "farm": pa.array(np.where(pop.farm >= 0, pop.farm, -1).tolist()),
        "junk_id": pa.array(junk_id.tolist()),
    })
    pacsv.write_csv(truth, out / "truth.csv")
    counts = {c: int((pop.role == CLASSES.index(c)).sum()) for c in CLASSES}
    manifest = {"spec": {**asdict(spec), "start": spec.start.isoformat()}, "rows": rows,
                "records": path.name, "classes": counts, "sleepers": int(pop.sleeper.sum()),
                "farms": len(np.unique(pop.farm[pop.farm >= 0]))}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
