"""The anti-spam JSON API: the SMS gateway (5656), the advertisers' do-not-call check, survey answers."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select

from ictgov.antispam import dnc, flags
from ictgov.antispam.models import SpamReport
from ictgov.auth import User, issue_token
from ictgov.db import session_scope


def token_for(engine, make_user, username, role, **kw) -> dict[str, str]:
    uid = make_user(username, role, **kw)
    with session_scope(engine) as s:
        return {"Authorization": f"Bearer {issue_token(s, s.get(User, uid), 'test')}"}


def test_sms_inbound_reports_and_replies(client, engine, make_user):
    h = token_for(engine, make_user, "gw", "operator", operator_code="VIETTEL")
    body = {"from": "+84912345678", "text": "S [0987.654.321][Vay tien nhanh]", "id": "smsc-1"}
    r = client.post("/api/antispam/sms-inbound", json=body, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["kind"], out["source"], out["content"], out["operator"]) == (
        "sms_report", "0987654321", "Vay tien nhanh", "VIETTEL")
    assert out["receipt"].startswith("TR-") and out["receipt"] in out["reply"]
    assert client.post("/api/antispam/sms-inbound", json=body, headers=h).json()["receipt"] == out["receipt"]
    with session_scope(engine) as s:
        assert len(list(s.scalars(select(SpamReport)))) == 1
    help_ = client.post("/api/antispam/sms-inbound", json={"from": "0912345678", "text": "abc"}, headers=h).json()
    assert help_["kind"] == "invalid" and help_["receipt"] is None and "Sai cu phap" in help_["reply"]
    dk = client.post("/api/antispam/sms-inbound", json={"from": "0912345678", "text": "dk dnc"}, headers=h)
    assert dk.json()["kind"] == "dnc_register"
    with session_scope(engine) as s:
        assert dnc.is_listed(s, "0912345678")


def test_sms_inbound_names_the_bad_field_and_needs_a_gateway(client, engine, make_user):
    h = token_for(engine, make_user, "gw", "admin")
    r = client.post("/api/antispam/sms-inbound", json={"from": "12", "text": "S 0987654321 x"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "from"
    r = client.post("/api/antispam/sms-inbound", json={"text": "S 0987654321 x"}, headers=h)
    assert r.status_code == 422 and "from" in r.text
    # without a token: refused (a cookie-less POST without a Bearer token fails the CSRF check first)
    assert client.post("/api/antispam/sms-inbound", json={"from": "0912345678", "text": "x"}).status_code == 403
    bogus = {"Authorization": "Bearer not-a-token"}
    assert client.post("/api/antispam/sms-inbound", json={"from": "0912345678", "text": "x"},
                       headers=bogus).status_code == 401
    ent = token_for(engine, make_user, "shop", "enterprise", enterprise_ref="0101234567")
    assert client.post("/api/antispam/sms-inbound", json={"from": "0912345678", "text": "x"},
                       headers=ent).status_code == 403


def test_dnc_check_tells_only_which_numbers_are_listed(client, engine, make_user):
    with session_scope(engine) as s:
        dnc.join(s, "0912345678", "web")
        dnc.join(s, "0903456789", "shortcode")
    h = token_for(engine, make_user, "shop", "enterprise", enterprise_ref="0101234567")
    r = client.post("/api/antispam/dnc/check", json={"numbers": ["+84 912 345 678", "0987654321", "0903456789"]},
                    headers=h)
    assert r.status_code == 200
    assert r.json() == {"checked": 3, "do_not_contact": ["+84 912 345 678", "0903456789"]}
    bad = client.post("/api/antispam/dnc/check", json={"numbers": ["0912345678", "oops"]}, headers=h)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "numbers.1"
    analyst = token_for(engine, make_user, "ana", "analyst")
    assert client.post("/api/antispam/dnc/check", json={"numbers": []}, headers=analyst).status_code == 403


def test_survey_answer_on_own_network_only(client, engine, make_user):
    vt = token_for(engine, make_user, "vt", "operator", operator_code="VIETTEL")
    mb = token_for(engine, make_user, "mb", "operator", operator_code="MOBIFONE")
    with session_scope(engine) as s:
        flags.load_scan(s, pl.DataFrame({"number": ["0987654321"], "flagged": [True], "score": [2.0],
                                         "reasons": ["call_volume"]}), scan="t")
        staff = s.scalar(select(User).where(User.username == "vt"))
        survey_id = flags.send_survey(s, flags.visible(s, staff)[0], staff, ["0912345678"])[0].id
    assert client.post(f"/api/antispam/surveys/{survey_id}/answer", json={"spam": True}, headers=mb).status_code == 404
    r = client.post(f"/api/antispam/surveys/{survey_id}/answer", json={"spam": True}, headers=vt)
    assert r.status_code == 200 and r.json()["yes"] == 1
    assert client.post(f"/api/antispam/surveys/{survey_id}/answer", json={"spam": False},
                       headers=vt).status_code == 422
