"""The Spark engine gives the DuckDB engine's result: same numbers flagged, same scores,
same reasons, same features, the same CSV bytes. Spark runs in local mode (one session
for the module, 2 cores, few shuffle partitions, no UI); CI runs it (Java 17 is on the
machine), so there a missing pyspark or Java is a failure, not a skip. Anywhere, once Java is
on the machine, a Spark that does not start is a failure: only a machine without Java (or
without pyspark, outside CI) skips."""

from __future__ import annotations

import csv
import os
import shutil

import polars as pl
import pytest

from ictgov.antispam.cdr import scan
from ictgov.antispam.simulate import SimSpec, simulate


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must run the Spark engine")
        pytest.skip(why)


try:
    import pyspark  # noqa: F401
    HAVE_PYSPARK = True
except ImportError:
    HAVE_PYSPARK = False


def have_java() -> bool:
    return bool(shutil.which("java") or os.environ.get("JAVA_HOME"))


def start_spark():
    """A local Spark session, or a skip only when this machine has no Java (or, outside CI,
    no pyspark without Java either). With Java here, a missing pyspark (the `test` extra
    installs it) or a Spark that does not start fails the tests."""
    _need(have_java(), "no Java runtime (the Makefile installs default-jre-headless as root)")
    if not HAVE_PYSPARK:
        pytest.fail("Java is installed but pyspark is not: install the test extra (pip install -e '.[test]')")
    from ictgov.antispam.spark import get_session

    try:
        return get_session("local[2]", shuffle_partitions=2, short_jobs=True)
    except Exception as exc:  # Java is here, so Spark must start: never a silent skip
        pytest.fail(f"Java is installed but Spark did not start: {type(exc).__name__}: {exc}")


def test_a_spark_that_does_not_start_fails_rather_than_skips(monkeypatch):
    import ictgov.antispam.spark as spark_module

    def broken(*args, **kwargs):
        raise RuntimeError("Java gateway process exited before sending its port number")

    monkeypatch.setattr(spark_module, "get_session", broken)
    monkeypatch.setitem(globals(), "HAVE_PYSPARK", True)
    monkeypatch.setenv("JAVA_HOME", "/usr/lib/jvm/default-java")
    with pytest.raises(pytest.fail.Exception, match="Spark did not start"):
        start_spark()


@pytest.fixture(scope="module")
def spark():
    session = start_spark()
    # Small data: adaptive planning only adds jobs.
    session.conf.set("spark.sql.adaptive.enabled", "false")
    yield session
    session.stop()


def _same(a, b):
    assert a.numbers.columns == b.numbers.columns
    assert a.numbers.equals(b.numbers), a.numbers.join(b.numbers, on="number", suffix="_b").head()
    assert a.days.equals(b.days)


def test_engines_agree_on_simulated_data(spark, tmp_path):
    simulate(SimSpec(subscribers=800, days=5, spammers=0.04, heavy=0.03, seed=8), tmp_path)
    records, subs = tmp_path / "records.parquet", tmp_path / "subscribers.csv"
    d = scan(records, subs)
    s = scan(records, subs, engine="spark", spark=spark)
    assert d.engine == "duckdb" and s.engine == "spark"
    _same(d, s)
    assert d.flagged.height > 0 and d.flagged.filter(pl.col("reasons") == "").height == 0
    d.write_csv(tmp_path / "d.csv")
    s.write_csv(tmp_path / "s.csv")
    assert (tmp_path / "d.csv").read_bytes() == (tmp_path / "s.csv").read_bytes()


def test_engines_agree_on_edge_cases(spark, tmp_path):
    """Ties in time, spellings of numbers, templates from content, a callback, custom
    thresholds and no subscriber file."""
    rows = []
    x = "+84 912 000 000"
    for k in range(14):  # two calls in each second: the order is start, duration, b_number
        rows.append((x, f"09120000{k:02d}", f"2026-01-07T08:00:{k // 2:02d}", "voice", k % 3, ""))
    rows.append(("0912000003", "0912000000", "2026-01-07T07:00:00", "voice", 30, ""))
    rows.append(("0912000000", "0912000001", "2026-01-05T07:00:00", "sms", 0, "hi"))
    for k in range(6):
        for j in range(6):
            rows.append((f"0913 00000{k}", f"09140{k}{j:04d}", f"2026-01-07T09:{k:02d}:{j:02d}", "sms", 0,
                         f"Vay {j + 1}tr lãi thấp"))
    p = tmp_path / "edge.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a_number", "b_number", "start_time", "kind", "duration_s", "content"])
        w.writerows(rows)
    cfg = tmp_path / "t.yaml"
    cfg.write_text("flag: {min_volume: 5, min_score: 0.5}\nfeatures: {template_min_senders: 3}\n")
    d = scan(p, config=cfg)
    s = scan(p, config=cfg, engine="spark", spark=spark)
    _same(d, s)
    assert d.flagged.height >= 7
