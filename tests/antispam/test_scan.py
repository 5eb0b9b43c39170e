"""The spam-number scan (DuckDB): features computed exactly, criteria and reasons,
thresholds overridden, detection quality on simulated traffic, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ictgov.antispam.cdr import OUTPUT_COLUMNS, scan
from ictgov.antispam.rules import FEATURES, ConfigError, load_thresholds
from ictgov.antispam.simulate import HEAVY_CLASSES, SPAM_CLASSES, SimSpec, simulate
from ictgov.cli import app

X = "0912000000"
R = [f"09120000{k:02d}" for k in range(1, 13)]


def _calls_day(tmp_path: Path) -> Path:
    """X's day 2: twelve calls with known durations and gaps (see the expected values)."""
    rows = [
        # day 0: X called R1; R2 texted X (both are then not new on day 2)
        (X, R[0], "2026-01-05T10:00:00", "voice", 60),
        (R[1], X, "2026-01-05T11:00:00", "sms", 0),
        # day 2, 07:00: R3 calls X first, so X calling R3 back is not a new recipient
        (R[2], X, "2026-01-07T07:00:00", "voice", 20),
    ]
    # (seconds after 08:00, duration): gaps end-to-start 5, 25, 2, 30, 10, 10, 10, 0, 80, 1, 0
    calls = [(0, 0), (5, 0), (30, 8), (40, 20), (90, 0), (100, 0), (110, 0), (120, 100), (220, 0),
             (300, 9), (310, 10), (320, 0)]
    for k, (s, d) in enumerate(calls):
        rows.append((X, R[k], f"2026-01-07T08:{s // 60:02d}:{s % 60:02d}", "voice", d))
    p = tmp_path / "calls.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a_number", "b_number", "start_time", "kind", "duration_s"])
        w.writerows(rows)
    return p


def test_call_features_are_exact(tmp_path):
    result = scan(_calls_day(tmp_path))
    row = result.numbers.filter(pl.col("number") == X).to_dicts()[0]
    assert row["day"].isoformat() == "2026-01-07" and row["days_active"] == 2
    assert row["calls_out"] == 12 and row["sms_out"] == 0 and row["volume"] == 12
    assert row["recipients"] == 12 and row["new_recipients"] == 9
    assert row["new_recipient_share"] == 9 / 12
    assert row["calls_in"] == 1 and row["sms_in"] == 0 and row["out_in_ratio"] == 12.0
    assert row["short_calls"] == 9 and row["short_call_share"] == 9 / 12
    assert row["short_gaps"] == 8 and row["short_gap_share"] == 8 / 11
    assert row["sms_share"] == 0.0 and row["template_senders"] is None and row["sim_age_days"] is None
    # Four criteria met (calls_only needs 20 calls), but 12 calls are below min_volume.
    assert row["score"] == 1.25 and row["flagged"] is False
    assert row["reasons"] == ("new_recipients (new_recipient_share 75% >= 70%); "
                              "out_in_ratio (out_in_ratio 12.0 >= 10); "
                              "short_calls (short_call_share 75% >= 60%); "
                              "short_gaps (short_gap_share 72% >= 50%)")
    # A callee of X is a number seen only as a receiver: no row of its own.
    assert set(result.numbers["number"]) == {X, R[1], R[2]}


def test_thresholds_file_overrides_and_flags(tmp_path):
    cfg = tmp_path / "t.yaml"
    cfg.write_text("flag: {min_volume: 10, min_score: 0.75}\ncriteria:\n  - {id: short_gaps, at_least: 0.8}\n"
                   "  - {id: out_in_ratio, enabled: false}\n")
    result = scan(_calls_day(tmp_path), config=cfg)
    row = result.numbers.filter(pl.col("number") == X).to_dicts()[0]
    assert row["flagged"] is True and row["score"] == 0.75
    assert row["reasons"] == ("new_recipients (new_recipient_share 75% >= 70%); "
                              "short_calls (short_call_share 75% >= 60%)")
    assert result.days.select("number", "day").rows()[0][0] == X


def test_a_criterion_on_recipients_has_them_counted_on_every_day(tmp_path):
    # Recipients are counted only on busy days unless a criterion reads them
    # (`cdr.recipients_cut`): then every day's count is there for the score.
    from ictgov.antispam import cdr

    cfg = tmp_path / "t.yaml"
    cfg.write_text("flag: {min_volume: 3, min_score: 1.0}\ncriteria:\n"
                   "  - {id: one_callee, feature: recipients, at_most: 1, weight: 1.0}\n")
    assert cdr.recipients_cut(load_thresholds(cfg)) == 1
    assert cdr.recipients_cut(load_thresholds()) == load_thresholds().min_recipients
    y = "0912000099"
    p = tmp_path / "few.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a_number", "b_number", "start_time", "kind", "duration_s"])
        w.writerows([(X, R[0], f"2026-01-05T08:0{k}:00", "voice", 30) for k in range(3)]
                    + [(y, R[k], f"2026-01-05T09:0{k}:00", "voice", 30) for k in range(3)])
    got = {r["number"]: r for r in scan(p, config=cfg).numbers.to_dicts()}
    assert got[X]["flagged"] is True and got[X]["reasons"] == "one_callee (recipients 1 <= 1)"
    assert got[y]["flagged"] is False and got[y]["recipients"] == 3


def test_history_days_hold_back_the_new_recipient_share(tmp_path):
    cfg = tmp_path / "t.yaml"
    cfg.write_text("features: {history_days: 3}\n")
    row = scan(_calls_day(tmp_path), config=cfg).numbers.filter(pl.col("number") == X).to_dicts()[0]
    assert row["new_recipient_share"] is None and row["new_recipients"] is None


@pytest.mark.parametrize(("text", "words"), [
    ("criteria:\n  - {id: call_volume, feature: nope}\n", "'nope' is not a feature"),
    ("criteria:\n  - {id: x1, feature: volume}\n", "exactly one of at_least, at_most"),
    ("features: {min_calls: 1}\n", "min_calls: must be at least 2"),
    ("flag: {min_score: high}\n", "must be a number"),
    ("flag: {speed: 1}\n", "flag.speed: unknown setting"),
    ("criteria: [{id: 'a b', feature: volume, at_least: 1}]\n", "letters, digits and underscores"),
    ("[1, 2", "not valid YAML"),
])
def test_bad_thresholds_file_is_named(tmp_path, text, words):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_thresholds(cfg)
    assert str(cfg) in str(e.value) and words in str(e.value)


def test_bundled_thresholds_load():
    th = load_thresholds()
    assert {c.id for c in th.criteria} >= {"sms_volume", "call_volume", "new_recipients", "short_calls",
                                           "short_gaps", "shared_template", "new_sim"}
    assert all(c.main.feature in FEATURES for c in th.criteria)


def test_shared_templates(tmp_path):
    rows = []
    senders = [f"09130000{k:02d}" for k in range(6)]
    for k, s in enumerate(senders):
        for j in range(5):
            rows.append((s, f"0914{k:02d}{j:04d}", f"2026-01-05T09:{k:02d}:{j:02d}", "sms", 0, "TPL-1"))
    for j in range(5):  # the first sender also writes five messages of its own
        rows.append((senders[0], f"09150000{j:02d}", f"2026-01-05T10:00:{j:02d}", "sms", 0, f"own-{j}"))
    p = tmp_path / "t.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a_number", "b_number", "start_time", "kind", "duration_s", "content_hash"])
        w.writerows(rows)
    got = {r["number"]: r for r in scan(p).numbers.to_dicts()}
    assert got[senders[0]]["template_senders"] == 6 and got[senders[0]]["template_share"] == 0.5
    assert got[senders[1]]["template_share"] == 1.0


def test_sms_without_a_template_key_are_not_counted_as_hashed(tmp_path):
    # The triples' counts fit one BIGINT without a hashed-SMS field only when every SMS
    # carries a template key or none does (`cdr.counts64`); a file with both counts them
    # apart: 3 of X's 6 SMS are hashed (fewer than min_template_sms = 5: no template share),
    # 5 of Y's 6 are.
    from ictgov.antispam import cdr, records

    x, y = "0913000001", "0913000002"
    rows = [(x, f"09140000{j:02d}", f"2026-01-05T09:00:{j:02d}", "sms", 0, "TPL" if j < 3 else "")
            for j in range(6)]
    rows += [(y, f"09150000{j:02d}", f"2026-01-05T09:01:{j:02d}", "sms", 0, "TPL" if j < 5 else "")
             for j in range(6)]
    p = tmp_path / "mixed.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a_number", "b_number", "start_time", "kind", "duration_s", "content_hash"])
        w.writerows(rows)
    con = records.connect()
    try:
        src = records.load_records(con, p)
    finally:
        con.close()
    assert src.hashed_sms == "some" and cdr.counts64(src) is None
    got = {r["number"]: r for r in scan(p).numbers.to_dicts()}
    assert got[x]["template_share"] is None and got[x]["template_senders"] is None
    assert got[y]["template_senders"] == 2 and got[y]["template_share"] == 0.0


# -- detection quality on simulated traffic ----------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(SimSpec(subscribers=6000, days=9, spammers=0.02, heavy=0.03, seed=11), out)
    return out


def _quality(result, truth_path: Path) -> dict:
    truth = pl.read_csv(truth_path, schema_overrides={"number": pl.String})
    j = truth.join(result.numbers.select("number", "flagged"), on="number", how="left") \
        .with_columns(pl.col("flagged").fill_null(False))
    spam = j.filter(pl.col("spam"))
    flagged = j.filter(pl.col("flagged"))
    per_class = {c: spam.filter(pl.col("class") == c)["flagged"].mean() for c in SPAM_CLASSES}
    heavy = j.filter(pl.col("class").is_in(HEAVY_CLASSES))
    return {
        "recall": spam["flagged"].mean(),
        "precision": flagged["spam"].mean() if flagged.height else 1.0,
        "per_class": per_class,
        "heavy_flagged": heavy["flagged"].sum(), "heavy": heavy.height,
        "ordinary_flagged": j.filter(pl.col("class") == "ordinary")["flagged"].sum(),
    }


def test_detection_quality_with_subscriber_file(simulated):
    result = scan(simulated / "records.parquet", simulated / "subscribers.csv")
    q = _quality(result, simulated / "truth.csv")
    # Bounds: at least 95 % of spammers found, every class at least 90 %; at least 95 % of
    # the flagged numbers are spammers; no ordinary subscriber and at most 2 % of the
    # heavy legitimate users (shops, drivers, heavy texters) flagged.
    assert q["recall"] >= 0.95, q
    assert min(q["per_class"].values()) >= 0.9, q
    assert q["precision"] >= 0.95, q
    assert q["ordinary_flagged"] == 0, q
    assert q["heavy_flagged"] <= 0.02 * q["heavy"], q
    # Every flag carries its reasons.
    assert result.flagged.filter(pl.col("reasons") == "").height == 0


def test_detection_quality_without_subscriber_file(simulated):
    q = _quality(scan(simulated / "records.parquet"), simulated / "truth.csv")
    assert q["recall"] >= 0.9 and q["precision"] >= 0.95 and q["ordinary_flagged"] == 0, q


def test_groupings_in_parts_give_the_same_result(simulated, tmp_path, monkeypatch):
    # Big files are worked through in parts of whole days (`cdr.day_parts`), and a triple's
    # counts travel packed in one integer unless the file is too big for that
    # (`cdr.PACKED_ROWS`; in a BIGINT when its days are small, `cdr.PACKED64_DAY_ROWS`):
    # every way gives the very same result, numbers without a national
    # form (negative ids) and the subscriber file included.
    from ictgov.antispam import cdr

    with_names = tmp_path / "records.csv"
    with_names.write_text(
        "a_number,b_number,start_time,kind,duration_s,content\n"
        + "".join(f"{a},{b},2026-01-0{5 + k % 3}T08:{k:02d}:00,sms,0,Vay {k}tr\n" for k, (a, b) in enumerate(
            [("VIETTEL", "0987654321"), ("+1 415 555 0100", "0123"), ("0912345678", "VIETTEL")] * 7)),
        encoding="utf-8")
    for records, subscribers in ((simulated / "records.parquet", simulated / "subscribers.csv"),
                                 (with_names, None)):
        whole = scan(records, subscribers, recipients=5)
        assert cdr.day_parts([], whole.rows) is None
        for rows_per_part, packed_rows, packed64, join in (
                (whole.rows // 3, cdr.PACKED_ROWS, 0, 4), (whole.rows // 8, cdr.PACKED_ROWS, 0, 2),
                (1, cdr.PACKED_ROWS, cdr.PACKED64_DAY_ROWS, 4), (1, 0, 0, 4),
                (cdr.ROWS_PER_PART, 0, 0, 4)):
            # 3 or 4 parts, counts in a HUGEINT; about 8 parts joined two by two; one part per
            # day, in a BIGINT (the scan's default for these files); then counts not packed
            monkeypatch.setattr(cdr, "ROWS_PER_PART", rows_per_part)
            monkeypatch.setattr(cdr, "PACKED_ROWS", packed_rows)
            monkeypatch.setattr(cdr, "PACKED64_DAY_ROWS", packed64)
            monkeypatch.setattr(cdr, "JOIN_PART_FACTOR", join)
            parts = scan(records, subscribers, recipients=5)
            assert parts.numbers.equals(whole.numbers) and parts.days.equals(whole.days)
            assert parts.recipients == whole.recipients
            monkeypatch.undo()
    counts = [(d, 10) for d in range(9)] + [(9, 5)]
    monkeypatch.setattr(cdr, "ROWS_PER_PART", 25)
    assert cdr.day_parts(counts, 95) == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert cdr.day_parts(counts, 95, 2) == [(0, 4), (5, 9)]
    assert cdr.day_parts(counts, 95, 4) is None
    assert cdr._grouped(cdr.day_parts(counts, 95), cdr.day_parts(counts, 95, 2)) == [
        [(0, 1), (2, 3), (4, 5)], [(6, 7), (8, 9)]]
    assert cdr._grouped(cdr.day_parts(counts, 95), None) == [cdr.day_parts(counts, 95)]
    monkeypatch.setattr(cdr, "ROWS_PER_PART", 5)
    assert cdr.day_parts(counts, 95) == [(d, d) for d in range(10)]
    assert cdr.day_parts([(3, 95)], 95) is None


def test_number_days_under_several_operators(tmp_path):
    # A number-day's operator is the least operator name of its records, and its recipients
    # are counted once each even when the records of one recipient name several operators
    # (or none): Parquet (operators kept as positions) and CSV (operators as text) give the
    # same result.
    import pyarrow as pa

    x, y, z = "0912000000", "0987000000", "0933000000"
    rows = [(x, R[0], "viettel"), (x, R[0], "mobifone"), (x, R[1], None), (x, R[2], "viettel"),
            (x, R[2], "viettel"), (y, R[0], None), (z, R[0], "viettel"), (z, R[1], "viettel")]
    t0 = 1767582000  # 2026-01-05 10:00 Vietnam time
    cols = {"a_number": [r[0] for r in rows], "b_number": [r[1] for r in rows],
            "start_time": pa.array([t0 + 60 * k for k in range(len(rows))], pa.int64()),
            "kind": ["voice"] * len(rows), "duration_s": pa.array([30] * len(rows), pa.int32()),
            "operator": [r[2] for r in rows]}
    parquet, text = tmp_path / "ops.parquet", tmp_path / "ops.csv"
    pq.write_table(pa.table(cols), parquet)
    pl.DataFrame({k: list(v.to_pylist() if hasattr(v, "to_pylist") else v) for k, v in cols.items()}).write_csv(text)
    got, want = scan(parquet), scan(text)
    assert got.numbers.equals(want.numbers)
    shown = {r["number"]: (r["recipients"], r["operator"]) for r in got.numbers.iter_rows(named=True)}
    assert shown == {x: (3, "mobifone"), y: (1, None), z: (2, "viettel")}


def test_simulation_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    spec = SimSpec(subscribers=300, days=2, spammers=0.05, seed=4)
    ma = simulate(spec, a)
    mb = simulate(spec, b)
    assert ma == mb
    assert pq.read_table(a / "records.parquet").equals(pq.read_table(b / "records.parquet"))
    assert (a / "truth.csv").read_bytes() == (b / "truth.csv").read_bytes()
    assert (a / "subscribers.csv").read_bytes() == (b / "subscribers.csv").read_bytes()
    other = simulate(SimSpec(subscribers=300, days=2, spammers=0.05, seed=5), tmp_path / "c")
    assert other["rows"] != ma["rows"] or (tmp_path / "c" / "truth.csv").read_bytes() != \
        (a / "truth.csv").read_bytes()


def test_simulated_traffic_has_a_daily_rhythm(simulated):
    t = pl.read_parquet(simulated / "records.parquet", columns=["start_time"])
    hour = ((t["start_time"] + 7 * 3600) % 86400 // 3600).value_counts().sort("start_time")
    by_hour = dict(hour.iter_rows())
    assert by_hour[10] > 5 * by_hour[3]


# -- command line -----------------------------------------------------------------------------


def test_cli_simulate_and_scan(tmp_path):
    runner = CliRunner()
    out = tmp_path / "sim"
    res = runner.invoke(app, ["antispam", "simulate", "--subscribers", "400", "--days", "3",
                              "--spammers", "0.05", "--out", str(out), "--format", "csv", "--seed", "2"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"records.csv", "subscribers.csv", "truth.csv", "manifest.json"}
    flags = tmp_path / "flags.csv"
    res = runner.invoke(app, ["antispam", "scan", str(out / "records.csv"), "--subscribers",
                              str(out / "subscribers.csv"), "--out", str(flags), "--json"])
    assert res.exit_code == 0, res.output
    header = flags.read_text().splitlines()[0].split(",")
    assert header == OUTPUT_COLUMNS and header[:4] == ["number", "flagged", "score", "reasons"]
    with open(flags) as fh:
        values = {row["flagged"] for row in csv.DictReader(fh)}
    assert values == {"true", "false"}


def test_cli_reports_bad_input_without_traceback(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("a_number,b_number,start_time,kind\n0912345678,0987654321,2026-01-05,sms\n")
    res = CliRunner().invoke(app, ["antispam", "scan", str(bad), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 1
    assert "missing column duration_s" in res.output and "Traceback" not in res.output
    cfg = tmp_path / "c.yaml"
    cfg.write_text("flag: {min_score: x}\n")
    good = tmp_path / "g.csv"
    good.write_text("a_number,b_number,start_time,kind,duration_s\n0912345678,0987654321,2026-01-05,sms,0\n")
    res = CliRunner().invoke(app, ["antispam", "scan", str(good), "--config", str(cfg), "--out",
                                   str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and "min_score" in res.output


def test_each_number_shows_its_worst_day(simulated):
    # The row of a number is its worst day: flagged first, then the highest score, then the
    # earliest (`cdr.SHOWN_SQL` packs that order in one integer), with the features of that
    # day computed again for it: the same as the scored days say, and as the flagged days'.
    from ictgov.antispam import records as rec
    from ictgov.antispam.cdr import scan_duckdb

    con = rec.connect()
    try:
        result = scan_duckdb(simulated / "records.parquet", simulated / "subscribers.csv", con=con)
        scored = pl.from_arrow(con.sql("SELECT '0' || CAST(number AS VARCHAR) AS number, d, score, flagged "
                                       "FROM day_scored").to_arrow_table())
    finally:
        con.close()
    want = (scored.sort(["number", "flagged", "score", "d"], descending=[False, True, True, False])
            .group_by("number", maintain_order=True)
            .agg(pl.col("d").first(), pl.col("score").first(), pl.col("flagged").first(),
                 pl.len().alias("days_active"), pl.col("flagged").sum().alias("days_flagged")))
    got = result.numbers.select("number", (pl.col("day") - pl.date(1970, 1, 1)).dt.total_days().alias("d"),
                                "score", "flagged", "days_active", "days_flagged")
    assert got.equals(want.with_columns(pl.col("d").cast(pl.Int64), pl.col("days_active").cast(pl.Int64),
                                        pl.col("days_flagged").cast(pl.Int64)))
    # Ties in score on several days are common: the earliest is shown.
    assert scored.group_by("number", "score", "flagged").len().filter(pl.col("len") > 1).height > 100
    shown = result.numbers.filter(pl.col("flagged")).join(result.days, on=["number", "day"], suffix="_d")
    assert shown.height == result.flagged.height
    for c in ("score", "reasons", "operator", *FEATURES):
        assert shown[c].equals(shown[c + "_d"], null_equal=True), c
