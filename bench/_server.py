"""The real `ictgov serve` as a child process, for the benchmarks that load it over loopback.

`Server(env)` prepares a database (SQLite file or a PostgreSQL database of its own, created and
dropped here), runs the CLI commands given, starts the server on a free port and waits for
/healthz; leaving the `with` block stops it and drops the PostgreSQL database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
POSTGRES_ADMIN = os.environ.get("ICTGOV_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` and its live descendants (Linux only)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        # after the command: state ppid ... utime (12th) stime (13th)
        children.setdefault(int(fields[1]), []).append(int(d.name))
        times[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo.extend(children.get(p, []))
    return total


class Server:
    def __init__(self, backend: str = "sqlite", setup: list[list[str]] | None = None, workers: int = 1) -> None:
        if backend not in ("sqlite", "postgres"):
            raise ValueError(f"backend: {backend!r} must be sqlite or postgres")
        self.backend, self.setup, self.workers = backend, setup or [], workers
        self.base = ""

    def cli(self, *args: str) -> str:
        return subprocess.run([str(BIN / "ictgov"), *args], env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def __enter__(self) -> "Server":
        self._tmp = tempfile.TemporaryDirectory(prefix=f"ictgov-bench-{self.backend}-")
        tmp = Path(self._tmp.name)
        self.env = {**os.environ, "ICTGOV_DATA_DIR": str(tmp), "ICTGOV_SECRET_KEY": "bench-secret"}
        if self.backend == "sqlite":
            self.sqlite_path = tmp / "bench.sqlite3"
            self.env["ICTGOV_DATABASE_URL"] = f"sqlite:///{self.sqlite_path}"
        else:
            import psycopg

            self._pg_name = f"ictgov_bench_{os.getpid()}"
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}"')
                c.execute(f'CREATE DATABASE "{self._pg_name}"')
            url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + self._pg_name
            self.env["ICTGOV_DATABASE_URL"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.cli("db", "upgrade")
        for args in self.setup:
            self.cli(*args)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        cmd = [str(BIN / "ictgov"), "serve", "--port", str(port), "--workers", str(self.workers)]
        self.log = tmp / "server.log"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 180  # a busy machine starts it slowly
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                tail = [ln for ln in self.log.read_text().splitlines() if '"ictgov.access"' not in ln][-15:]
                self.__exit__(None, None, None)
                raise RuntimeError(f"the server did not start on {self.backend}: " + "\n".join(tail))
            time.sleep(0.1)

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the server's processes have used so far: the server and
        its uvicorn workers (Linux /proc; None elsewhere). Less noisy than wall time on a
        shared machine: a receipt's CPU cost does not depend on what else runs."""
        return tree_cpu_seconds(self.proc.pid)

    def __exit__(self, *exc) -> None:
        if getattr(self, "proc", None) is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
        self._tmp.cleanup()
