"""From a scan to the blocklist: flags with reasons, surveys, confirmation, export, appeals."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from ictgov.antispam import flags
from ictgov.antispam.cdr import scan
from ictgov.antispam.flags import FlagError
from ictgov.antispam.models import FlaggedNumber, SpamTraffic
from ictgov.antispam.simulate import SimSpec, simulate
from ictgov.audit import entries
from ictgov.auth import User, create_user, hash_password
from ictgov.tipline.models import OutboxMessage


def _operator(session, name: str, code: str) -> User:
    user = User(username=name, password_hash=hash_password("password-123"), role="operator",
                operator_code=code)
    session.add(user)
    session.flush()
    return user


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(SimSpec(subscribers=400, days=3, spammers=0.03, heavy=0.02, seed=3, fmt="csv"), out)
    result = scan(out / "records.csv", out / "subscribers.csv")
    result.write_csv(out / "scan.csv")
    result.days.write_csv(out / "days.csv")
    truth = {r["number"]: r["class"] for r in csv.DictReader(open(out / "truth.csv"))}
    return out, result, truth


def test_scan_output_becomes_flags_with_reasons_and_daily_traffic(session, scanned):
    out, result, truth = scanned
    counts = flags.load_scan(session, out / "scan.csv", scan="sim-2026-01", days=out / "days.csv")
    loaded = list(session.scalars(select(FlaggedNumber)))
    assert counts["flagged"] == len(loaded) == result.flagged.height > 0
    assert {f.number for f in loaded} == set(result.flagged["number"])
    # the simulator's spammers, each on the operator of its prefix
    assert all(truth[f.number] not in ("ordinary", "shop", "delivery", "heavy_texter") for f in loaded)
    assert all(f.operator_code in ("VIETTEL", "VINAPHONE", "MOBIFONE", "VIETNAMOBILE") for f in loaded)
    assert all(f.reasons and ">=" in f.reasons and f.score >= 1 for f in loaded)
    traffic = list(session.scalars(select(SpamTraffic)))
    days = result.days
    assert sum(t.spam_calls for t in traffic) == days["calls_out"].sum()
    assert sum(t.spam_sms for t in traffic) == days["sms_out"].sum()
    # the same scan again: no second flag for an open number, the days replaced, not added
    again = flags.load_scan(session, out / "scan.csv", scan="sim-2026-01", days=out / "days.csv")
    assert again["flagged"] == 0 and again["updated"] == len(loaded)
    assert sum(t.spam_calls for t in session.scalars(select(SpamTraffic))) == days["calls_out"].sum()


def test_not_a_scan_output_is_refused(session, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("number,score\n0912345678,2\n")
    with pytest.raises(FlagError, match="no column flagged, reasons"):
        flags.load_scan(session, bad, scan="x")


def _one_flag(session, number="0987654321", operator="VIETTEL") -> FlaggedNumber:
    import polars as pl

    frame = pl.DataFrame({"number": [number], "flagged": [True], "score": [1.75],
                          "reasons": ["call_volume (calls_out 345 >= 150)"], "operator": [operator.lower()],
                          "calls_out": [345], "sms_out": [0], "day": ["2026-01-05"]})
    flags.load_scan(session, frame, scan="t")
    return session.scalar(select(FlaggedNumber).where(FlaggedNumber.number == number))


def test_survey_confirm_export_mark_blocked(session):
    vt, mb = _operator(session, "vt", "VIETTEL"), _operator(session, "mb", "MOBIFONE")
    flag = _one_flag(session)
    with pytest.raises(PermissionError):
        flags.send_survey(session, flag, mb, ["0912345678"])
    asked = flags.send_survey(session, flag, vt, ["0912345678", "+84 912 345 678", "0903456789"])
    assert len(asked) == 2  # the same recipient twice is asked once
    sms = list(session.scalars(select(OutboxMessage).where(OutboxMessage.subject == "survey")))
    assert {m.recipient for m in sms} == {"0912345678", "0903456789"} and "0987654321" in sms[0].body
    flags.answer_survey(session, asked[0], True, vt)
    assert flags.tally(flag) == {"asked": 2, "yes": 1, "no": 0, "waiting": 1}
    with pytest.raises(FlagError):
        flags.answer_survey(session, asked[0], False, vt)
    with pytest.raises(PermissionError):
        flags.confirm(session, flag, mb)
    entry = flags.confirm(session, flag, vt, "Người nhận xác nhận là cuộc gọi rác")
    assert flag.status == "confirmed" and entry.operator_code == "VIETTEL"
    rows = list(csv.DictReader(io.StringIO(flags.blocklist_csv(session, "VIETTEL"))))
    assert [r["number"] for r in rows] == ["0987654321"] and "call_volume" in rows[0]["reasons"]
    assert flags.blocklist_csv(session, "MOBIFONE").splitlines() == ["number,operator,added_at,flag_id,reasons"]
    assert flags.mark_blocked(session, vt, "VIETTEL") == 1 and flag.status == "blocked"
    with pytest.raises(FlagError):
        flags.confirm(session, flag, vt)
    actions = [e.action for e in reversed(entries(session, "antispam_flag"))]
    assert actions == ["flag", "survey", "survey_answer", "confirmed", "blocked"]


def test_clear_takes_a_number_off_the_list(session):
    vt = _operator(session, "vt", "VIETTEL")
    flag = _one_flag(session)
    flags.confirm(session, flag, vt)
    with pytest.raises(FlagError, match="note"):
        flags.clear(session, flag, vt, "")
    flags.clear(session, flag, vt, "Thuê bao là cửa hàng giao hàng, không phải rác")
    assert flag.status == "cleared" and flags.blocklist(session, "VIETTEL") == []


def test_appeal_decided_by_staff_lifts_the_block(session):
    vt = _operator(session, "vt", "VIETTEL")
    staff = create_user(session, "ana", "password-123", "analyst")
    flag = _one_flag(session)
    with pytest.raises(FlagError, match="not on any blocklist"):
        flags.submit_appeal(session, flag.number, "Tôi là tài xế giao hàng, gọi cho khách")
    flags.confirm(session, flag, vt)
    with pytest.raises(FlagError) as exc:
        flags.submit_appeal(session, flag.number, "sai")
    assert set(exc.value.errors) == {"reason"}
    appeal = flags.submit_appeal(session, "+84987654321", "Tôi là tài xế giao hàng, gọi cho khách")
    assert appeal.receipt.startswith("KN-") and appeal.operator_code == "VIETTEL"
    with pytest.raises(FlagError, match="already waiting"):
        flags.submit_appeal(session, flag.number, "Tôi là tài xế giao hàng, gọi cho khách")
    with pytest.raises(PermissionError):
        flags.decide_appeal(session, appeal, vt, True, "Đồng ý")
    assert [a.receipt for a in flags.appeals_visible(session, vt)] == [appeal.receipt]
    flags.decide_appeal(session, appeal, staff, True, "Xác minh là tài xế giao hàng")
    assert appeal.status == "granted" and flag.status == "cleared"
    assert flags.blocklist(session, None) == []
    assert flags.appeal_status(session, appeal.receipt)["status"] == "granted"
    with pytest.raises(FlagError, match="already granted"):
        flags.decide_appeal(session, appeal, staff, False, "Không đồng ý")


def test_cli_load_scan_sync_stats_and_retrain_from_reports(engine, scanned):
    from typer.testing import CliRunner

    from ictgov.cli import app

    out, result, _ = scanned
    runner = CliRunner()
    r = runner.invoke(app, ["antispam", "load-scan", str(out / "scan.csv"), "--days", str(out / "days.csv"),
                            "--name", "sim"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"{result.flagged.height} numbers flagged")
    bad = runner.invoke(app, ["antispam", "load-scan", str(out / "nope.csv"), "--name", "x"])
    assert bad.exit_code == 2 and "nope.csv: no such file" in bad.output
    assert runner.invoke(app, ["antispam", "sync-stats"]).exit_code == 0
    none = runner.invoke(app, ["antispam", "retrain", "--from-reports", "--base", str(out / "scan.csv")])
    assert none.exit_code == 1 and "no report has been labelled" in none.output
    both = runner.invoke(app, ["antispam", "retrain"])
    assert both.exit_code == 1 and "--confirmed FILE or --from-reports" in both.output
