"""Benchmark: HTTP intake of the fake-news centre — receipts per second on SQLite.

Starts the real application (`ictgov serve`, one uvicorn process, or --workers) on a fresh SQLite database
in a temporary directory, creates a partner account with an API token, and posts reports to
POST /api/tipline/reports from an asyncio client with N requests in flight. Every report is a
distinct generated claim with its own Idempotency-Key, so each answer is a new receipt that was
committed before it was sent. Prints receipts per second, request latency p50/p99 and the
server's CPU time per receipt (steadier than wall time when the machine is shared), and
checks that the database holds exactly as many reports as receipts were received.

Baseline, measured in the same run on the same server with the same client and concurrency:
GET /healthz (routing, middleware and the HTTP round trip, no database). The printed ratio
"intake / baseline" is the share of the server's bare request rate that a committed,
grouped report keeps: what the intake itself costs, whatever the machine.

    .venv/bin/python bench/tipline_intake.py [--reports 3000] [--concurrency 16]

Target (issue 3): >= 300 receipts/s. bench/tipline_match.py runs this too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

try:
    import aiohttp
except ImportError:  # pragma: no cover - a message, not a traceback
    sys.exit("bench/tipline_intake.py needs aiohttp: pip install -e '.[bench]'")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server  # noqa: E402

SUBJECTS = ["Bộ Y tế", "Ngân hàng Nhà nước", "Công an tỉnh", "UBND thành phố", "Bộ Giáo dục",
            "Tập đoàn điện lực", "Tổng cục Thuế", "Đài khí tượng"]
CLAIMS = ["sẽ thu hồi toàn bộ tiền mặt cũ", "cấm xe máy vào nội thành", "phát hiện thuốc giả chữa ung thư",
          "cho học sinh nghỉ học cả tháng", "tăng giá điện gấp đôi", "khóa tài khoản ngân hàng hàng loạt",
          "tặng quà cho người đăng ký qua đường link", "cảnh báo bão lớn chưa từng có"]


def _report(i: int, rng: random.Random) -> dict:
    text = (f"{rng.choice(SUBJECTS)} {rng.choice(CLAIMS)} từ ngày {1 + i % 28}/{1 + i % 12}, "
            f"mã tin {i} {rng.randrange(10**6)}")
    return {"text": text, "category": rng.choice(["health", "economy_finance", "scam_links", "other"]),
            "platform": rng.choice(["facebook", "zalo", "tiktok"])}


def _client(base: str, concurrency: int):
    # aiohttp, not httpx: on these two cores httpx spent about 3.5 ms of CPU per request
    # against 0.3 ms for aiohttp (2026-12-07), and the client shares the cores with the server.
    connector = aiohttp.TCPConnector(limit=concurrency)
    return aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=60))


async def _get_all(base: str, path: str, n: int, concurrency: int) -> list[float]:
    """The baseline: `n` GETs of `path` with `concurrency` in flight; their latencies."""
    latencies: list[float] = []
    left = iter(range(n))
    async with _client(base, concurrency) as client:
        async def worker() -> None:
            for _ in left:
                t = time.perf_counter()
                async with client.get(path) as r:
                    await r.read()
                latencies.append(time.perf_counter() - t)
                if r.status != 200:
                    raise RuntimeError(f"{path}: HTTP {r.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def _post_all(base: str, token: str, n: int, concurrency: int, seed: int) -> tuple[list[float], list[str]]:
    rng = random.Random(seed)
    bodies = [_report(i, rng) for i in range(n)]
    latencies: list[float] = []
    receipts: list[str] = []
    left = iter(range(n))
    async with _client(base, concurrency) as client:
        async def worker() -> None:
            for i in left:
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{seed}-{i}"}
                t = time.perf_counter()
                async with client.post("/api/tipline/reports", json=bodies[i], headers=headers) as r:
                    body = await r.json() if r.status == 201 else await r.text()
                latencies.append(time.perf_counter() - t)
                if r.status != 201:
                    raise RuntimeError(f"report {i}: HTTP {r.status}: {str(body)[:300]}")
                receipts.append(body["receipt"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, receipts


def _batches(base: str) -> tuple[float, float]:
    """(reports, transactions) the intake writer has committed so far, from /metrics."""
    import httpx

    found = {}
    for line in httpx.get(base + "/metrics", timeout=10).text.splitlines():
        for name in ("sum", "count"):
            if line.startswith(f"ictgov_tipline_intake_batch_reports_{name} "):
                found[name] = float(line.split()[1])
    return found.get("sum", 0.0), found.get("count", 0.0)


def measure_intake(reports: int = 3000, concurrency: int = 16, seed: int = 11, workers: int = 1) -> dict:
    """Run the server, post `reports`, return rate and latencies (see the module docstring)."""
    setup = [["users", "create", "gateway", "--role", "hotline_agent", "--password", "bench-pass-123"]]
    with Server("sqlite", setup, workers=workers) as srv:
        token = srv.cli("users", "token", "gateway").strip().split()[-1]
        # warm-up: each worker builds its claim index on its first report
        asyncio.run(_post_all(srv.base, token, 20 * workers, 2 * workers, seed + 1))
        t0 = time.perf_counter()
        base_lat = asyncio.run(_get_all(srv.base, "/healthz", reports, concurrency))
        base_elapsed = time.perf_counter() - t0
        batches0 = _batches(srv.base)
        t0, cpu0 = time.perf_counter(), srv.cpu_seconds()
        lat, receipts = asyncio.run(_post_all(srv.base, token, reports, concurrency, seed))
        elapsed, cpu1 = time.perf_counter() - t0, srv.cpu_seconds()
        batches1 = _batches(srv.base)
        stored = sqlite3.connect(srv.sqlite_path).execute("SELECT count(*) FROM tipline_reports").fetchone()[0]
    lat_ms = np.array(lat) * 1000
    return {"reports": reports, "concurrency": concurrency, "workers": workers, "seconds": elapsed,
            "receipts_per_s": len(receipts) / elapsed, "p50_ms": float(np.percentile(lat_ms, 50)),
            "p99_ms": float(np.percentile(lat_ms, 99)), "distinct_receipts": len(set(receipts)),
            "stored": stored - 20 * workers, "baseline_per_s": len(base_lat) / base_elapsed,
            "baseline_p50_ms": float(np.percentile(np.array(base_lat) * 1000, 50)),
            "ratio": (len(receipts) / elapsed) / (len(base_lat) / base_elapsed),
            "server_cpu_ms": None if cpu0 is None else (cpu1 - cpu0) * 1000 / max(len(receipts), 1),
            # /metrics answers from one worker process: the mean is that of all only with one
            "mean_batch": ((batches1[0] - batches0[0]) / max(batches1[1] - batches0[1], 1)
                           if workers == 1 else None)}


def print_intake(r: dict) -> bool:
    ok = r["receipts_per_s"] >= 300 and r["stored"] == r["distinct_receipts"] == r["reports"]
    print(f"HTTP intake (SQLite, {r.get('workers', 1)} uvicorn worker process(es), {r['concurrency']} requests in flight): "
          f"{r['reports']:,} reports in {r['seconds']:.1f} s = {r['receipts_per_s']:.0f} receipts/s "
          f"(target >= 300); latency p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; "
          f"stored {r['stored']:,}, distinct receipts {r['distinct_receipts']:,}")
    if r.get("server_cpu_ms") is not None:
        print(f"server CPU per receipt (user + system, all its processes): {r['server_cpu_ms']:.2f} ms")
    if r.get("mean_batch") is not None:
        print(f"reports per intake transaction (mean): {r['mean_batch']:.1f}")
    print(f"baseline GET /healthz (same server, client and concurrency): {r['baseline_per_s']:.0f} requests/s, "
          f"p50 {r['baseline_p50_ms']:.1f} ms; ratio intake / baseline = {r['ratio']:.2f}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", default="1", help="uvicorn worker processes, one run per value (1,2)")
    args = ap.parse_args()
    ok = all([print_intake(measure_intake(args.reports, args.concurrency, workers=int(w)))
              for w in args.workers.split(",")])
    print(f"TARGET {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
