"""Benchmark: loopback load on the real server — public pages and the intake API, SQLite and PostgreSQL.

For each backend the real `ictgov serve` (one uvicorn process) starts on a database of its
own with the bundled sample and the demo reports (`ictgov sample load`). Then, for a fixed
time each, N concurrent asyncio clients (httpx, one connection each):

1. baseline: GET /healthz only — what the server and this client do with no work per request;
2. dashboard: the dashboard pages only (/, /stats, an indicator, the review) — the target's case;
3. the mix a day of the ministry's site sees: the dashboard pages (/, /stats, an indicator,
   the review), the public fake-news pages (/tin-gia, its statistics, the report form), the
   public anti-spam pages (report form, do-not-call, appeal, status lookup), and intake:
   reports posted to POST /api/tipline/reports with their own Idempotency-Key and SMS to
   5656 posted by the operator's gateway to POST /api/antispam/sms-inbound with their own
   gateway message id.

Prints per group requests/s and p50/p95/p99 latency, every non-2xx/3xx answer (there must be
none), and the ratio of the mix's throughput to the baseline's in the same run.

    .venv/bin/python bench/load.py [--seconds 20] [--clients 50] [--backends sqlite,postgres]
                                   [--workers 1,2]

Target (issue 6): p95 <= 150 ms for the dashboard pages at 50 concurrent clients. The clients
run on the same machine as the server and take their share of its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server  # noqa: E402

DASHBOARD = ["/", "/stats", "/stats/ict_revenue_usd", "/review?period=2021H1"]
PUBLIC = ["/tin-gia", "/tin-gia/thong-ke", "/phan-anh"]
ANTISPAM = ["/chan-rac/phan-anh", "/chan-rac/dnc", "/chan-rac/khieu-nai", "/chan-rac/tra-cuu"]
PAGES = {"dashboard": DASHBOARD, "public": PUBLIC, "antispam": ANTISPAM}
# shares of the mix: mostly reading, some reporting (intake: half tipline API, half 5656)
MIX = [("dashboard", 0.45), ("public", 0.25), ("antispam", 0.15), ("intake", 0.15)]
TARGET_P95_MS = 150.0


def _claim(rng: random.Random, i: int) -> dict:
    subject = rng.choice(["Bộ Y tế", "Ngân hàng Nhà nước", "Công an tỉnh", "Sở Giáo dục", "Điện lực"])
    claim = rng.choice(["sẽ thu hồi tiền mặt cũ", "cấm xe máy vào nội thành", "phát thuốc chữa ung thư",
                        "cho học sinh nghỉ cả tháng", "khóa tài khoản hàng loạt"])
    return {"text": f"{subject} {claim} từ tuần sau, tin số {i} {rng.randrange(10**6)}",
            "category": rng.choice(["health", "economy_finance", "other"]), "platform": "facebook"}


def _sms(rng: random.Random, i: int, seed: int) -> dict:
    spammer = f"09{rng.randrange(10**8):08d}"
    return {"from": f"091{rng.randrange(10**7):07d}", "id": f"load-{seed}-{i}",
            "text": f"S [{spammer}][Vay tien nhanh {i}, giai ngan trong 5 phut]"}


async def _run(base: str, tokens: dict, seconds: float, clients: int, mix: bool, seed: int,
               only: str | None = None) -> dict:
    lat: dict[str, list[float]] = defaultdict(list)
    bad: list[str] = []
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        async with httpx.AsyncClient(base_url=base, timeout=30,
                                     limits=httpx.Limits(max_connections=1)) as c:
            while time.perf_counter() < stop:
                group = only or "healthz"
                if mix:
                    group = rng.choices([g for g, _ in MIX], [w for _, w in MIX])[0]
                t = time.perf_counter()
                if group == "healthz":
                    r = await c.get("/healthz")
                elif group == "intake" and rng.random() < 0.5:
                    i = next(counter)
                    r = await c.post("/api/tipline/reports", json=_claim(rng, i), headers={
                        "Authorization": f"Bearer {tokens['tipline']}", "Idempotency-Key": f"load-{seed}-{i}"})
                elif group == "intake":
                    r = await c.post("/api/antispam/sms-inbound", json=_sms(rng, next(counter), seed),
                                     headers={"Authorization": f"Bearer {tokens['antispam']}"})
                else:
                    r = await c.get(rng.choice(PAGES[group]))
                lat[group].append(time.perf_counter() - t)
                if r.status_code >= 400:
                    bad.append(f"{r.request.method} {r.request.url.path}: {r.status_code}")

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return {"elapsed": time.perf_counter() - t0, "lat": lat, "bad": bad}


async def _warm(base: str, backend: str, workers: int) -> None:
    """Every page a few times over several connections, so each worker has its caches and claim
    index before the clock starts."""
    async def one(k: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            for path in DASHBOARD + PUBLIC + ANTISPAM:
                r = await c.get(path)
                if r.status_code != 200:
                    raise RuntimeError(f"{path} does not answer 200 on {backend}: {r.status_code}")

    await asyncio.gather(*(one(k) for k in range(4 * workers)))


def _summary(name: str, values: list[float], elapsed: float) -> tuple[str, float]:
    ms = np.array(values) * 1000
    p95 = float(np.percentile(ms, 95))
    return (f"  {name:<10} {len(ms):>7,} requests {len(ms) / elapsed:>8.0f}/s   p50 {np.percentile(ms, 50):6.1f} ms"
            f"   p95 {p95:6.1f} ms   p99 {np.percentile(ms, 99):6.1f} ms"), p95


def bench(backend: str, seconds: float, clients: int, workers: int) -> bool:
    setup = [["sample", "load"],
             ["users", "create", "gateway", "--role", "hotline_agent", "--password", "load-pass-123"],
             ["users", "create", "smsc", "--role", "operator", "--operator", "VINAPHONE", "--password",
              "load-pass-123"]]
    with Server(backend, setup, workers=workers) as srv:
        tokens = {"tipline": srv.cli("users", "token", "gateway").strip().split()[-1],
                  "antispam": srv.cli("users", "token", "smsc").strip().split()[-1]}
        asyncio.run(_warm(srv.base, backend, workers))
        base = asyncio.run(_run(srv.base, tokens, seconds, clients, mix=False, seed=1))
        dash = asyncio.run(_run(srv.base, tokens, seconds, clients, mix=False, seed=3, only="dashboard"))
        load = asyncio.run(_run(srv.base, tokens, seconds, clients, mix=True, seed=2))
    print(f"{backend}: {clients} clients, {seconds:.0f} s each, {workers} uvicorn worker process(es)")
    line, _ = _summary("healthz", base["lat"]["healthz"], base["elapsed"])
    print(line + "   (baseline)")
    line, dash_p95 = _summary("dashboard", dash["lat"]["dashboard"], dash["elapsed"])
    print(line + "   (dashboard pages only)")
    dash_rate = len(dash["lat"]["dashboard"]) / dash["elapsed"]
    print("  the mix:")
    p95s = {}
    for group, _ in MIX:
        line, p95s[group] = _summary(group, load["lat"][group], load["elapsed"])
        print(line)
    base_rate = len(base["lat"]["healthz"]) / base["elapsed"]
    mix_rate = sum(len(v) for v in load["lat"].values()) / load["elapsed"]
    print(f"  dashboard-only throughput / healthz throughput = {dash_rate / base_rate:.3f}")
    print(f"  mix throughput / healthz throughput = {mix_rate / base_rate:.3f}")
    bad = base["bad"] + dash["bad"] + load["bad"]
    if bad:
        print(f"  ERRORS: {len(bad)}, e.g. {bad[:5]}")
    ok = dash_p95 <= TARGET_P95_MS and not bad
    print(f"  dashboard pages at {clients} clients: p95 {dash_p95:.1f} ms (target <= {TARGET_P95_MS:.0f} ms): "
          f"{'MET' if ok else 'NOT MET'}; within the mix p95 {p95s['dashboard']:.1f} ms")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--workers", default="1,2", help="uvicorn worker processes, one run per value")
    args = ap.parse_args()
    results = [bench(b.strip(), args.seconds, args.clients, int(w))
               for b in args.backends.split(",") if b.strip() for w in args.workers.split(",")]
    print(f"TARGET {'MET' if all(results) else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
