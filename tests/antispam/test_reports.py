"""Citizens' spam reports: intake by short code and web, routing by prefix, answers, labels."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ictgov.antispam import reports
from ictgov.antispam.models import SpamReport
from ictgov.antispam.operators import operator_of, operators
from ictgov.antispam.reports import Evidence, ReportError, ReportInput
from ictgov.audit import entries
from ictgov.auth import User, create_user, hash_password

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
AMR = b"#!AMR\n" + b"\x3c" * 40


def _operator(session, name: str, code: str) -> User:
    user = User(username=name, password_hash=hash_password("password-123"), role="operator",
                operator_code=code)
    session.add(user)
    session.flush()
    return user


@pytest.mark.parametrize("number,operator", [
    ("0912345678", "VINAPHONE"), ("+84 98 765 4321", "VIETTEL"), ("0901.234.567", "MOBIFONE"),
    ("0921234567", "VIETNAMOBILE"), ("0591234567", "GMOBILE"), ("0871234567", "ITEL"),
    ("01688123456", "VIETTEL"),  # an old 11-digit number, converted in 2018
    ("02438123456", None), ("19001234", None), ("0551234567", None),
])
def test_operator_comes_from_the_prefix(number, operator):
    assert operator_of(number) == operator


def test_prefix_table_names_only_known_operators():
    from ictgov.stats.areas import _rows

    units = {r["code"] for r in _rows("reporting_units.csv") if r["level"] == "operator"}
    assert set(operators()) <= units


def test_shortcode_report_is_stored_routed_and_its_reply_carries_the_receipt(session):
    inbound = reports.receive_sms(session, "S [0912 345 678][Vay tien nhanh 50tr lai suat 0%, giai ngan 5 phut, truy cap vaynhanh.top]", "+84987654321")
    session.commit()
    report = inbound.report
    assert report.kind == "sms" and report.channel == "shortcode"
    assert report.source == "0912345678" and report.operator_code == "VINAPHONE"
    assert report.status == "routed" and report.reporter_number == "0987654321"
    assert report.receipt in inbound.message.reply and report.receipt.startswith("TR-")
    assert report.spam_score is not None and report.spam_score > 0.5
    log = entries(session, "antispam_report")
    assert log[0].entity_id == report.receipt
    assert "0987654321" not in str(log[0].after) and "0912345678" not in str(log[0].after)


def test_brandname_and_forward_stay_with_the_ministry(session):
    brand = reports.receive_sms(session, "S (BANKABC)(Tai khoan cua ban bi khoa)", "0912345678").report
    fw = reports.receive_sms(session, "FW [QC] Giam gia 50% tai cua hang", "0912345678").report
    assert (brand.source, brand.operator_code, brand.status) == ("BANKABC", None, "received")
    assert (fw.kind, fw.source, fw.status) == ("forward", None, "received")


def test_invalid_shortcode_stores_nothing_and_gets_the_help(session):
    inbound = reports.receive_sms(session, "xin chao", "0912345678")
    assert inbound.report is None and inbound.message.kind == "invalid"
    assert session.scalar(select(SpamReport)) is None


def test_same_gateway_message_makes_one_report(session):
    a = reports.receive_sms(session, "V 0987654321 goi quang cao bat dong san", "0912345678", gateway_id="m-1")
    b = reports.receive_sms(session, "V 0987654321 goi quang cao bat dong san", "0912345678", gateway_id="m-1")
    assert a.report.id == b.report.id
    assert len(list(session.scalars(select(SpamReport)))) == 1


def test_dnc_by_shortcode(session):
    from ictgov.antispam import dnc

    assert reports.receive_sms(session, "DK DNC", "0912345678").dnc_listed is True
    assert dnc.is_listed(session, "+84912345678")
    assert reports.receive_sms(session, "HUY DNC", "0912345678").dnc_listed is False
    assert not dnc.is_listed(session, "0912345678")


def test_web_report_checks_every_field(session):
    with pytest.raises(ReportError) as exc:
        reports.submit(session, ReportInput("email", "12345", "", "x",
                                            Evidence("a.png", b"GIF89a" + b"\x00" * 10)), "web")
    assert set(exc.value.errors) == {"kind", "reporter_number", "source", "content", "evidence"}
    assert "checked from its content" in exc.value.errors["evidence"]
    with pytest.raises(ReportError) as exc:
        reports.submit(session, ReportInput("scam_call", "0912345678", "BANKABC", "goi gia danh cong an"), "web")
    assert set(exc.value.errors) == {"source"}
    with pytest.raises(ReportError) as exc:
        reports.submit(session, ReportInput("sms", "0912345678", "0987654321", "spam",
                                            Evidence("big.png", PNG + b"\x00" * (5 * 1024 * 1024))), "web")
    assert exc.value.errors["evidence"].endswith("larger than 5 MB")


def test_web_report_keeps_its_evidence_typed_from_the_bytes(session, tmp_path):
    r = reports.submit(session, ReportInput("call", "0912345678", "0987 654 321", "Goi moi mua dat nen",
                                            Evidence("ghi-am.mp3", AMR)), "web", evidence_dir=tmp_path)
    assert r.evidence_media_type == "audio/amr" and r.evidence_size == len(AMR)
    assert open(r.evidence_path, "rb").read() == AMR
    assert r.spam_score is None  # calls are not scored by the SMS classifier


def test_operator_answers_only_its_own_reports_and_the_citizen_sees_the_answer(session):
    viettel = _operator(session, "vt", "VIETTEL")
    mobi = _operator(session, "mb", "MOBIFONE")
    r = reports.receive_sms(session, "S 0987654321 Vay tien nhanh", "0912345678").report
    with pytest.raises(PermissionError):
        reports.answer(session, r, mobi, "blocked", "Da chan thue bao")
    with pytest.raises(ReportError) as exc:
        reports.answer(session, r, viettel, "exploded", "")
    assert set(exc.value.errors) == {"action", "answer"}
    reports.answer(session, r, viettel, "blocked", "Đã chặn chiều gọi đi của thuê bao.")
    status = reports.status_of(session, r.receipt.lower())
    assert status["status"] == "answered" and status["answer_action"] == "blocked"
    assert status["answer"] == "Đã chặn chiều gọi đi của thuê bao."
    assert "0912345678" not in str(status)
    assert [e.action for e in entries(session, "antispam_report")][:1] == ["answer"]
    assert [x.receipt for x in reports.visible(session, viettel)] == [r.receipt]
    assert reports.visible(session, mobi) == []


def test_staff_labels_feed_retraining(session):
    staff = create_user(session, "ana", "password-123", "analyst")
    op = _operator(session, "vt", "VIETTEL")
    r = reports.receive_sms(session, "S 0987654321 Vay tien nhanh khong the chap", "0912345678").report
    h = reports.receive_sms(session, "S 0987654321 Mai di hop luc 8h nhe", "0912345678").report
    with pytest.raises(PermissionError):
        reports.set_label(session, r, op, "spam")
    reports.set_label(session, r, staff, "spam")
    reports.set_label(session, h, staff, "ham")
    assert reports.confirmed_pairs(session) == [("spam", r.content), ("ham", h.content)]
