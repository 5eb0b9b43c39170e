"""Benchmark: claim matching at 1 M stored reports against brute-force cosine in the same run.

Stored reports are made from ../shared/data/vi_news_unc (headlines and sentences of 90 % of the
articles), each one a variant written by `generate_variants` (words dropped / added / swapped,
no diacritics, teencode, prefixes, links with tracking parameters, case and punctuation).
Then 10,000 new reports are matched: 70 % variants of stored claims, 30 % sentences of the
held-out 10 % of articles (unrelated to anything stored).

    .venv/bin/python bench/tipline_match.py [--stored 1000000] [--queries 10000] [--brute 1000]

Prints p50/p99 latency of `ClaimMatcher.match`, its recall against brute-force cosine over all
stored reports (the top k above the suggestion threshold), and brute-force time / matcher time;
then the HTTP intake rate (bench/tipline_intake.py: receipts per second on SQLite).
Brute force runs on a random sample of the queries (`--brute`; all of them when it is ≥
--queries). Targets: p99 ≤ 20 ms, recall ≥ 0.99, ≥ 300 receipts/s.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

from ictgov.tipline.evaluate import generate_variants
from ictgov.tipline.match import ClaimMatcher

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "vi_news_unc" / "unc_news_2653.jsonl"
SENT_MIN, SENT_MAX = 30, 300


def load_units(path: Path, seed: int) -> tuple[list[str], list[str]]:
    """Claims (headlines and sentences) of 90 % of the articles, and of the other 10 %."""
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    rng.shuffle(articles)
    cut = len(articles) * 9 // 10

    def units(arts) -> list[str]:
        out, seen = [], set()
        for a in arts:
            for s in [a["title"], *a["text"].split("\n")]:
                s = re.sub(r"\s+", " ", s).strip()
                if SENT_MIN <= len(s) <= SENT_MAX and s not in seen:
                    seen.add(s)
                    out.append(s)
        return out

    stored, held = units(articles[:cut]), units(articles[cut:])
    held_set = set(stored)
    return stored, [s for s in held if s not in held_set]


def pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--brute", type=int, default=None,
                    help="queries checked by brute force (default: all up to 200k stored, else 1000)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--intake", type=int, default=2000,
                    help="reports posted over HTTP to measure receipts/s (0: skip; see bench/tipline_intake.py)")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} is absent (see shared/data/vi_news_unc/SOURCE.md)")
        return 0
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    claims, unrelated = load_units(args.data, args.seed)
    print(f"claims {len(claims):,} (90 % of articles), held-out sentences {len(unrelated):,}")

    # stored reports: the first pass over the claims as written, then variants
    items = []
    for i in range(args.stored):
        base = claims[i % len(claims)]
        text = base if i < len(claims) else generate_variants(base, rng, 1)[0]
        items.append((i, i % len(claims), text))
    n_used = min(args.stored, len(claims))
    queries, kinds = [], []
    for _ in range(args.queries):
        if rng.random() < 0.7:
            queries.append(generate_variants(claims[rng.randrange(n_used)], rng, 1)[0])
            kinds.append("variant")
        else:
            queries.append(unrelated[rng.randrange(len(unrelated))])
            kinds.append("unrelated")
    t1 = time.perf_counter()
    print(f"generated {len(items):,} stored and {len(queries):,} new reports in {t1 - t0:.1f} s")

    m = ClaimMatcher()
    step = 100_000
    for s in range(0, len(items), step):
        m.add_many(items[s:s + step])
    m.refresh_idf()
    gc.collect()
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"indexed {len(m):,} stored reports in {t2 - t1:.1f} s "
          f"({len(m.segments_)} segments; peak RSS {rss:.1f} GiB)")
    print(f"thresholds: auto {m.auto_threshold}, suggest {m.suggest_threshold}; k = {args.k}")

    # matcher
    for q in queries[:50]:
        m.match(q, k=args.k)  # warm-up
    lat = np.empty(len(queries))
    results, capped, cands = [], 0, []
    for i, q in enumerate(queries):
        a = time.perf_counter()
        r = m.match(q, k=args.k)
        lat[i] = time.perf_counter() - a
        results.append(r)
        capped += bool(m.last_stats_.get("capped"))
        cands.append(m.last_stats_.get("candidates", 0))
    lat_ms = lat * 1000

    # brute force on a sample
    n_brute = args.brute if args.brute is not None else (len(queries) if args.stored <= 200_000 else 1000)
    n_brute = min(n_brute, len(queries))
    sample = sorted(random.Random(args.seed + 1).sample(range(len(queries)), n_brute))
    bt = np.empty(len(sample))
    want = found = 0
    by_kind = {"variant": [0, 0], "unrelated": [0, 0]}
    missed = []
    for j, i in enumerate(sample):
        a = time.perf_counter()
        b = m.match_brute_force(queries[i], k=args.k)
        bt[j] = time.perf_counter() - a
        got = {x.item_id for x in results[i]}
        floor = results[i][-1].score if len(results[i]) == args.k else 2.0
        for x in b:
            ok = x.item_id in got or floor >= x.score - 1e-6
            want += 1
            found += ok
            by_kind[kinds[i]][0] += 1
            by_kind[kinds[i]][1] += ok
            if not ok:
                missed.append((i, x.score))
    recall = found / want if want else 1.0
    sample_lat = lat[sample]
    ratio = bt.mean() / sample_lat.mean()

    print()
    print(f"matcher over {len(queries):,} new reports ({sum(k == 'variant' for k in kinds):,} variants, "
          f"{sum(k == 'unrelated' for k in kinds):,} unrelated)")
    print(f"  latency p50 {pct(lat_ms, 50):7.2f} ms   p99 {pct(lat_ms, 99):7.2f} ms   "
          f"max {lat_ms.max():7.2f} ms   target p99 <= 20 ms")
    print(f"  candidates scored per query: median {int(np.median(cands))}, p99 {int(pct(np.array(cands), 99))}; "
          f"queries that hit the posting cap: {capped}")
    print("  answered join/suggest/new: "
          + " / ".join(str(sum(m.decide(r).kind == k for r in results)) for k in ("join", "suggest", "new")))
    print(f"brute-force cosine over all {len(m):,} stored reports, on {n_brute:,} of the queries"
          + (" (a sample: full brute force is too slow)" if n_brute < len(queries) else ""))
    print(f"  brute-force latency p50 {pct(bt * 1000, 50):.1f} ms; matcher on the same queries "
          f"p50 {pct(sample_lat * 1000, 50):.2f} ms")
    print(f"  recall of brute force's top-{args.k} matches >= {m.suggest_threshold}: {recall:.4f} "
          f"({found}/{want})   target >= 0.99")
    for k, (w, f) in by_kind.items():
        if w:
            print(f"    {k:9s} {f / w:.4f} ({f}/{w})")
    if missed:
        print(f"  missed (query, score), first 10: {missed[:10]}")
    print(f"  speed-up (brute-force mean time / matcher mean time): {ratio:.1f}x")
    ok = pct(lat_ms, 99) <= 20 and recall >= 0.99
    intake_ok = True
    if args.intake:
        del m, items, results
        gc.collect()
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from tipline_intake import measure_intake, print_intake

        print()
        intake_ok = print_intake(measure_intake(args.intake))
    print(f"\nTARGETS {'MET' if ok and intake_ok else 'NOT MET'}: p99 {pct(lat_ms, 99):.2f} ms (<= 20), "
          f"recall {recall:.4f} (>= 0.99)" + (", intake >= 300 receipts/s" if args.intake else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
