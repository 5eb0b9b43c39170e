"""The Spark engine gives the DuckDB engine's result: same numbers flagged, same scores,
same reasons, same features, the same CSV bytes. Spark runs in local mode (one session
for the module, 2 cores, few shuffle partitions, no UI); CI runs it (Java 17 is on the
machine), so there a missing pyspark or Java is a failure, not a skip. Anywhere, once Java is
on the machine, a Spark that does not start is a failure: only a machine without Java (or
without pyspark, outside CI) skips."""

from __future__ import annotations

import csv
import json
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


def test_executors_write_the_same_result_without_the_driver_collecting_it(spark, tmp_path):
    # For a cluster: canonical records on shared storage in, part files out, counts back.
    from ictgov.antispam.records import write_canonical
    from ictgov.antispam.spark import scan_spark_to

    simulate(SimSpec(subscribers=800, days=5, spammers=0.04, heavy=0.03, seed=8), tmp_path)
    records, subs = tmp_path / "records.parquet", tmp_path / "subscribers.csv"
    d = scan(records, subs)
    d.write_csv(tmp_path / "d.csv")
    canon = tmp_path / "shared" / "canonical.parquet"
    canon.parent.mkdir()
    write_canonical(records, canon, subscribers=subs)
    summary = scan_spark_to(str(canon), str(tmp_path / "shared" / "out"), str(canon) + ".subscribers.parquet",
                            spark=spark)
    parts = sorted((tmp_path / "shared" / "out" / "numbers").glob("part-*.csv"))
    assert len(parts) >= 1
    written = pl.concat([pl.read_csv(p, infer_schema=False) for p in parts]).sort("number")
    expected = pl.read_csv(tmp_path / "d.csv", infer_schema=False).sort("number")
    assert written.columns == expected.columns
    as_numbers = [pl.col(c).cast(pl.Float64) for c in expected.columns
                  if c not in ("number", "flagged", "reasons", "day", "operator")]
    assert written.with_columns(as_numbers).equals(expected.with_columns(as_numbers))
    days = pl.concat([pl.read_csv(p, infer_schema=False)
                      for p in (tmp_path / "shared" / "out" / "flagged_days").glob("part-*.csv")])
    assert days.height == d.days.height == summary["flagged_days"]
    assert (summary["records"], summary["numbers"], summary["flagged"]) == (d.rows, d.numbers.height,
                                                                            d.flagged.height)


def test_the_command_line_writes_canonical_records_then_part_files(spark, tmp_path):
    from typer.testing import CliRunner

    from ictgov.cli import app

    simulate(SimSpec(subscribers=300, days=3, spammers=0.05, heavy=0.03, seed=3), tmp_path)
    runner = CliRunner()
    canon = tmp_path / "canon.parquet"
    r = runner.invoke(app, ["antispam", "canonical", str(tmp_path / "records.parquet"), "--out", str(canon),
                            "--subscribers", str(tmp_path / "subscribers.csv")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["antispam", "scan", str(canon), "--engine", "spark", "--parts", "--json",
                            "--subscribers", f"{canon}.subscribers.parquet", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    d = scan(tmp_path / "records.parquet", tmp_path / "subscribers.csv")
    assert (summary["numbers"], summary["flagged"]) == (d.numbers.height, d.flagged.height)
    assert list((tmp_path / "out" / "numbers").glob("part-*.csv"))
    r = runner.invoke(app, ["antispam", "scan", str(tmp_path / "nowhere.parquet"), "--engine", "spark",
                            "--parts", "--out", str(tmp_path / "out2")])
    assert r.exit_code != 0 and "records:" in r.output
    r = runner.invoke(app, ["antispam", "scan", str(canon), "--parts", "--out", str(tmp_path / "out3")])
    assert r.exit_code != 0 and "--engine spark only" in r.output
