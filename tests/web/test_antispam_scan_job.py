"""Long anti-spam work leaves the request: an operator's uploaded records are scanned by the
job antispam.scan and become its flags (with the recipients to survey); staff retrain the
classifier from labelled reports as the job antispam.retrain. Each job's page shows the
outcome, and only to who may see it."""

from __future__ import annotations

import csv
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ictgov.antispam import reports
from ictgov.antispam.models import FlaggedNumber, Survey
from ictgov.antispam.simulate import SimSpec, simulate
from ictgov.db import session_scope
from ictgov.tipline.models import OutboxMessage

from .conftest import csrf_token, login


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Simulated traffic with spammers, and its ground truth."""
    out = tmp_path_factory.mktemp("sim")
    simulate(SimSpec(subscribers=400, days=3, spammers=0.03, heavy=0.02, seed=3, fmt="csv"), out)
    truth = {r["number"]: r["class"] for r in csv.DictReader(open(out / "truth.csv"))}
    return out / "records.csv", truth


def as_user(app, username):
    c = TestClient(app, follow_redirects=False)
    assert login(c, username).status_code == 303
    return c


def upload(client, path, name=None, operator=""):
    token = csrf_token(client, "/nha-mang/quet")
    return client.post("/nha-mang/quet", data={"csrf_token": token, "operator": operator},
                       files={"records": (name or path.name, path.read_bytes(), "text/csv")})


def test_uploaded_records_are_scanned_by_a_job_and_become_the_operators_flags(
        app, engine, make_user, records, settings_data_dir):
    path, truth = records
    make_user("vt", "operator", operator_code="VIETTEL")
    vt = as_user(app, "vt")
    r = upload(vt, path)
    assert r.status_code == 303 and r.headers["location"].startswith("/nha-mang/quet/")
    page = vt.get(r.headers["location"])
    assert page.status_code == 200 and 'data-state="done"' in page.text
    with session_scope(engine) as s:
        found = s.scalars(select(FlaggedNumber)).all()
        assert found, "the scan flagged nobody"
        assert {f.operator_code for f in found} == {"VIETTEL"}
        assert all(f.reasons for f in found)
        # the flagged numbers are the simulation's spammers, not its shops and drivers
        spammers = {"spam_caller", "spam_texter", "sim_farm", "scam_caller"}
        assert all(truth.get(f.number) in spammers for f in found), \
            [(f.number, truth.get(f.number)) for f in found]
        n_flagged = len(found)
        target = max(found, key=lambda f: len(f.features.get("survey_recipients", [])))
        known = target.features["survey_recipients"]
        flag_id, number = target.id, target.number
    assert f"{n_flagged} số bị gắn cờ" in re.sub(r"<[^>]+>", "", page.text)
    assert 0 < len(known) <= 20 and number not in known
    assert not list((settings_data_dir / "antispam" / "uploads").glob("*")), "the stored upload is removed"

    # the survey form holds the scan's recipients: sent as it is, nobody types a number
    flags_page = vt.get("/nha-mang/so-nghi-van")
    assert 'data-testid="survey-known"' in flags_page.text and known[0] in flags_page.text
    sent = vt.post(f"/nha-mang/so-nghi-van/{flag_id}/survey",
                   data={"recipients": "\n".join(known), "csrf_token": csrf_token(vt, "/nha-mang/so-nghi-van")})
    assert sent.status_code == 303
    with session_scope(engine) as s:
        assert {x.recipient for x in s.scalars(select(Survey).where(Survey.flag_id == flag_id))} == set(known)
        assert set(s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.subject == "survey"))) == set(known)
    assert known[0] not in vt.get("/nha-mang/so-nghi-van").text.split(f'id="flag-{flag_id}"')[1].split("</tr>")[0] \
        .split("<textarea")[1]  # asked ones are not offered again

    # the same file again updates the open flags, no duplicates
    again = vt.get(upload(vt, path).headers["location"])
    assert 'data-state="done"' in again.text
    with session_scope(engine) as s:
        assert len(s.scalars(select(FlaggedNumber)).all()) == n_flagged

    # another operator cannot read the job's page
    make_user("mb", "operator", operator_code="MOBIFONE")
    assert as_user(app, "mb").get(r.headers["location"]).status_code == 404


def test_a_bad_file_is_answered_and_nothing_is_loaded(app, engine, make_user, tmp_path):
    make_user("vt", "operator", operator_code="VIETTEL")
    vt = as_user(app, "vt")
    bad = tmp_path / "cdr.csv"
    bad.write_text("a_number,b_number,start_time,kind,duration_s\n0987000111,0912000222,yesterday,voice,30\n")
    page = vt.get(upload(vt, bad).headers["location"])
    assert page.status_code == 422 and 'data-state="rejected"' in page.text and "cdr.csv" in page.text
    assert "start_time" in page.text
    with session_scope(engine) as s:
        assert s.scalar(select(FlaggedNumber)) is None
    # not a records file at all, and no file: named, 422
    txt = vt.post("/nha-mang/quet", data={"csrf_token": csrf_token(vt, "/nha-mang/quet")},
                  files={"records": ("notes.txt", b"hello", "text/plain")})
    assert txt.status_code == 422 and 'data-testid="scan-error"' in txt.text
    none = vt.post("/nha-mang/quet", data={"csrf_token": csrf_token(vt, "/nha-mang/quet")})
    assert none.status_code == 422


def test_staff_choose_the_operator(app, engine, make_user, records):
    path, _ = records
    make_user("ana", "analyst")
    ana = as_user(app, "ana")
    missing = upload(ana, path)
    assert missing.status_code == 422 and "Hãy chọn nhà mạng." in missing.text
    r = upload(ana, path, operator="MOBIFONE")
    assert 'data-state="done"' in ana.get(r.headers["location"]).text
    with session_scope(engine) as s:
        assert set(s.scalars(select(FlaggedNumber.operator_code))) == {"MOBIFONE"}


def test_staff_retrain_from_labelled_reports_as_a_job(app, engine, make_user, tmp_path, monkeypatch):
    from ictgov.antispam import classifier

    base = tmp_path / "base.tsv"
    lines = [f"spam\tVay tien nhanh {i} trieu, lai suat 0%, goi 09{i:08d}" for i in range(12)]
    lines += [f"ham\tChieu nay {i} gio minh di an com nhe" for i in range(20)]
    base.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(classifier, "DEFAULT_BASE", (str(base),))
    make_user("ana", "analyst")
    ana = as_user(app, "ana")
    token = csrf_token(ana, "/chan-rac/quan-ly")
    # nothing labelled yet: the job answers why, nothing is written
    first = ana.get(ana.post("/chan-rac/quan-ly/huan-luyen", data={"csrf_token": token}).headers["location"])
    assert first.status_code == 422 and "no report has been labelled" in first.text
    with session_scope(engine) as s:
        for text, label in (("S 0987654321 Vay tien nhanh 50tr giai ngan 5 phut", "spam"),
                            ("S 0987654322 Me oi chieu nay con ve muon", "ham")):
            report = reports.receive_sms(s, text, "0912345678").report
            report.label = label
    r = ana.post("/chan-rac/quan-ly/huan-luyen", data={"csrf_token": token})
    page = ana.get(r.headers["location"])
    assert page.status_code == 200 and 'data-state="done"' in page.text
    model_dir = next((app.state.settings.data_dir / "antispam" / "models").iterdir())
    assert model_dir.name in page.text and (model_dir / "MODEL_CARD.md").is_file()
    loaded = classifier.load(model_dir)
    assert loaded.card_["confirmed_reports"] == 2
    # operators do not retrain
    make_user("vt", "operator", operator_code="VIETTEL")
    vt = as_user(app, "vt")
    assert vt.post("/chan-rac/quan-ly/huan-luyen",
                   data={"csrf_token": csrf_token(vt, "/nha-mang/phan-anh")}).status_code == 403


@pytest.fixture
def settings_data_dir(app):
    return app.state.settings.data_dir
