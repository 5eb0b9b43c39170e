"""Junk-SIM audit of a subscriber file."""

from __future__ import annotations

import csv

import polars as pl
import pytest
from typer.testing import CliRunner

from ictgov.antispam import records as rec
from ictgov.antispam.junk_sim import FINDING_COLUMNS, audit_subscribers, id_document_problem
from ictgov.antispam.simulate import SimSpec, simulate
from ictgov.cli import app


@pytest.mark.parametrize(("doc", "problem"), [
    ("012345678", None),                       # 9-digit CMND
    ("001 203 012 345", None),                 # CCCD with spaces
    ("079.099.123.456", None),
    ("B1234567", None),                        # passport
    ("", "missing"),
    (None, "missing"),
    ("000000000", "placeholder (one repeated digit)"),
    ("0123456789", "10 digits (a CMND has 9, a CCCD 12)"),
    ("097203012345", "province code 097 outside 001-096"),
    ("000203012345", "province code 000 outside 001-096"),
    ("ABC-12", "not a CMND, CCCD or passport number"),
])
def test_identity_numbers(doc, problem):
    assert id_document_problem(doc) == problem


def test_passports_can_be_refused():
    assert id_document_problem("B1234567", accept_passports=False) == "not a CMND, CCCD number"


def _write(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["number", "activation_date", "operator", "id_document", "point_of_sale"])
        w.writerows(rows)
    return path


def test_rules_on_a_small_file(tmp_path):
    rows = []
    # Four numbers on one CCCD at Viettel (limit 3); three on another; a fourth number of
    # that second document at another operator does not count with them.
    for k in range(4):
        rows.append((f"098000000{k}", "2025-01-02", "viettel", "001203012345", "POS-1"))
    for k in range(3):
        rows.append((f"097000000{k}", "2025-01-03", "viettel", "001 203 099 999", "POS-1"))
    rows.append(("0910000000", "2025-01-03", "vinaphone", "001203099999", "POS-1"))
    # A point of sale that activates 1 SIM a day, then 12 in one day.
    for day in range(1, 6):
        rows.append((f"03600000{day:02d}", f"2025-02-{day:02d}", "viettel", f"0012030{day:05d}", "POS-2"))
    for k in range(12):
        rows.append((f"03700000{k:02d}", "2025-02-10", "viettel", f"0792030{k:05d}", "POS-2"))
    rows.append(("0380000000", "2025-02-11", "viettel", "12345", "POS-3"))
    p = _write(tmp_path / "subs.csv", rows)
    result = audit_subscribers(p)
    f = result.findings
    assert f.columns == FINDING_COLUMNS
    limit = f.filter(pl.col("rule") == "JS-ID-LIMIT")
    assert sorted(limit["number"]) == [f"098000000{k}" for k in range(4)]
    assert limit["detail"][0] == "identity document holds 4 numbers at viettel (limit 3)"
    burst = f.filter(pl.col("rule") == "JS-POS-BURST")
    assert sorted(burst["number"]) == [f"03700000{k:02d}" for k in range(12)]
    assert burst["detail"][0] == "POS-2 activated 12 SIMs on 2025-02-10 (usual 1 a day)"
    bad = f.filter(pl.col("rule") == "JS-ID-MALFORMED")
    assert bad.select("number", "detail").rows() == [("0380000000", "identity number 5 digits (a CMND has 9, a CCCD 12)")]
    assert result.counts == {"JS-ID-LIMIT": 4, "JS-ID-MALFORMED": 1, "JS-POS-BURST": 12, "JS-SILENT-SPAM": 0}
    assert result.subscribers == len(rows)


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("number,activation_date,operator\n0912345678,2025-01-01,viettel\n")
    with pytest.raises(rec.InputError, match="missing columns id_document, point_of_sale"):
        audit_subscribers(p)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("junk")
    simulate(SimSpec(subscribers=3000, days=10, spammers=0.03, seed=21), out)
    return out


def test_simulated_junk_sims_are_found(simulated):
    result = audit_subscribers(simulated / "subscribers.csv", simulated / "records.parquet")
    truth = pl.read_csv(simulated / "truth.csv", schema_overrides={"number": pl.String})
    j = result.findings.join(truth, on="number")
    # Every sleeper (silent, then spamming) is found, and nothing else by that rule.
    silent = j.filter(pl.col("rule") == "JS-SILENT-SPAM")
    sleepers = set(truth.filter(pl.col("sleeper"))["number"])
    assert sleepers and set(silent["number"]) == sleepers
    # SIM farms: bought on few documents and activated in one burst at one point of sale.
    farm = set(truth.filter(pl.col("class") == "sim_farm")["number"])
    assert set(j.filter(pl.col("rule") == "JS-ID-LIMIT")["number"]) & farm
    burst = j.filter(pl.col("rule") == "JS-POS-BURST")
    assert set(burst["number"]) <= farm and burst.height > 0
    # Ordinary subscribers appear only for a malformed document (the simulated typos).
    ordinary = j.filter(~pl.col("spam"))
    assert set(ordinary["rule"]) <= {"JS-ID-MALFORMED"}
    assert result.scan is not None and result.scan.flagged.height > 0


def test_cli_sim_audit(simulated, tmp_path):
    out = tmp_path / "junk.csv"
    res = CliRunner().invoke(app, ["antispam", "sim-audit", str(simulated / "subscribers.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == ",".join(FINDING_COLUMNS)
    assert "JS-SILENT-SPAM" in res.output
