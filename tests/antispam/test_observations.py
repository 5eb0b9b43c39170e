"""The anti-spam work appears in the stats engine, by operator and month, so the review can
say how much spam went down."""

from __future__ import annotations

import pytest

from datetime import date, datetime

import yaml

from ictgov.antispam import flags, observations, reports
from ictgov.antispam.models import SpamTraffic
from ictgov.stats.areas import load_reference_areas
from ictgov.stats.figures import Figures
from ictgov.stats.indicators import DEFINITIONS_DIR, load_definitions


def test_every_element_written_is_defined():
    defined = {e["code"]: e for e in yaml.safe_load((DEFINITIONS_DIR / "elements.yaml").read_text())}
    assert set(observations.ELEMENTS) <= set(defined)
    assert all(defined[c].get("computed_by") == "antispam" for c in observations.ELEMENTS)


def test_reports_flags_and_detected_spam_become_observations(session):
    import polars as pl

    load_reference_areas(session)
    load_definitions(session)
    a = reports.receive_sms(session, "V 0987654321 goi moi mua bao hiem", "0912345678").report
    b = reports.receive_sms(session, "S BANKABC tai khoan bi khoa", "0912345678").report
    # 23:30 UTC on 30 June is 1 July in Vietnam: counted in July
    a.created_at, b.created_at = datetime(2021, 6, 10, 3), datetime(2021, 6, 30, 23, 30)
    flags.load_scan(session, pl.DataFrame({"number": ["0987654321"], "flagged": [True], "score": [2.0],
                                           "reasons": ["call_volume"], "calls_out": [300]}), scan="t")
    from ictgov.antispam.models import FlaggedNumber

    session.query(FlaggedNumber).one().flagged_at = datetime(2021, 6, 5, 2)
    # December 2020 and June 2021 spam calls, on two operators: June is 31.9 % down
    for day, op, calls in [(date(2020, 12, 3), "VIETTEL", 7000), (date(2020, 12, 4), "VINAPHONE", 5000),
                           (date(2021, 6, 3), "VIETTEL", 4000), (date(2021, 6, 9), "VINAPHONE", 4172)]:
        session.add(SpamTraffic(day=day, operator_code=op, spam_calls=calls, spam_sms=10, numbers=3, scan="t"))
    session.flush()
    report = observations.sync(session)
    session.commit()
    assert report.created > 0
    fig = Figures.load(session)
    vn, viettel = fig.area("VN").id, fig.area("VIETTEL").id
    assert fig.value("antispam_reports_received", vn, "2021-06") == 1
    assert fig.value("antispam_reports_received", vn, "2021-07") == 1
    assert fig.value("antispam_reports_call", viettel, "2021-06") == 1
    assert fig.value("antispam_reports_sms", viettel, "2021H2") is None  # a brandname: no operator
    assert fig.value("antispam_spam_calls_detected", vn, "2020-12") == 12000
    assert fig.value("antispam_spam_calls_detected", viettel, "2021H1") == 4000
    assert fig.value("antispam_numbers_flagged", viettel, "2021-06") == 1
    change = observations.change(session, "antispam_spam_calls_detected", "2020-12", "2021-06")
    assert change["change_pct"] == -31.9
    # and by day, in Vietnam's calendar: the report of 23:30 UTC on 30 June is on 1 July
    assert fig.value("antispam_spam_calls_detected", vn, "2021-06-09") == 4172
    assert fig.value("antispam_spam_calls_detected", viettel, "2021-06-03") == 4000
    assert fig.value("antispam_reports_received", vn, "2021-07-01") == 1
    assert fig.value("antispam_reports_received", vn, "2021-06-30") is None
    day = observations.change(session, "antispam_spam_calls_detected", "2020-12-03", "2021-06-03", area="VIETTEL")
    assert day["change_pct"] == pytest.approx(-42.9, abs=0.05)
    again = observations.sync(session)
    assert again.created == 0 and again.revised == 0
    assert [d["day"] for d in observations.daily(session, first=date(2021, 1, 1))] == ["2021-06-03", "2021-06-09"]
