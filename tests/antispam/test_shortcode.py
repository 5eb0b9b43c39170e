"""The 5656 syntaxes as citizens type them, the replies, and the command line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ictgov.antispam.shortcode import KINDS, REPLIES, parse
from ictgov.cli import app


@pytest.mark.parametrize("text, kind, source, content", [
    ("S [0901234567][Vay tien nhanh lai suat thap]", "sms_report", "0901234567", "Vay tien nhanh lai suat thap"),
    ("s (+84 90 123 4567)(mua ban dat nen)", "sms_report", "0901234567", "mua ban dat nen"),
    ("S 090.123.4567 mua ban dat nen", "sms_report", "0901234567", "mua ban dat nen"),
    ("S 84901234567 [vay von]", "sms_report", "0901234567", "vay von"),
    ("S0901234567 vay von", "sms_report", "0901234567", "vay von"),
    ("S:  [0901 234 567]   [  vay   von ]", "sms_report", "0901234567", "vay von"),
    ("S [shopee vn][Ban da trung thuong]", "sms_report", "SHOPEE VN", "Ban da trung thuong"),
    ("S [BRAND][[QC] Khuyen mai 50%]", "sms_report", "BRAND", "[QC] Khuyen mai 50%"),
    ("S [9029][Dang ky goi cuoc]", "sms_report", "9029", "Dang ky goi cuoc"),
    ("S [0901234567][vay tien", "sms_report", "0901234567", "vay tien"),
    ("V (0985931054)(Cuộc gọi quảng cáo bất động sản)", "call_report", "0985931054",
     "Cuộc gọi quảng cáo bất động sản"),
    ("v 0985931054", "call_report", "0985931054", ""),
    ("LD [84912345678][gia danh cong an]", "scam_call_report", "0912345678", "gia danh cong an"),
    ("ld (+84) 912-345-678 goi doa", "scam_call_report", "0912345678", "goi doa"),
    ("DK DNC", "dnc_register", None, ""),
    ("  dk   dnc ", "dnc_register", None, ""),
    ("ĐK DNC", "dnc_register", None, ""),
    ("HUY DNC", "dnc_cancel", None, ""),
    ("Hủy dnc", "dnc_cancel", None, ""),
    ("FW [QC] Giam gia 50% tai cua hang", "forward", None, "[QC] Giam gia 50% tai cua hang"),
    ("fw [[QC] Mua 1 tang 1]", "forward", None, "[QC] Mua 1 tang 1"),
    # bare form whose content starts with a figure: the figure is not part of the number
    ("S 0901234567 50 trieu vay nhanh", "sms_report", "0901234567", "50 trieu vay nhanh"),
    ("S 090.123.4567 1 ty", "sms_report", "0901234567", "1 ty"),
    ("LD 0901 234 567 2 lan goi", "scam_call_report", "0901234567", "2 lan goi"),
    ("S +84 90 123 4567 50 trieu", "sms_report", "0901234567", "50 trieu"),
    ("V 84901234567 3 cuoc goi", "call_report", "0901234567", "3 cuoc goi"),
    ("S [0901234567 50 trieu", "sms_report", "0901234567", "50 trieu"),
    ("S 1900 1234 5 tin nhan", "sms_report", "19001234", "5 tin nhan"),
    ("S 5656 100 nghin", "sms_report", "5656", "100 nghin"),
])
def test_syntaxes_are_read_tolerantly(text, kind, source, content):
    msg = parse(text)
    assert (msg.kind, msg.source, msg.content) == (kind, source, content), msg.problem
    assert msg.problem is None


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "SPAM 0901234567", "S", "S []", "S [][abc]", "FW", "FW []",
    "LD [VIETTEL][goi lua dao]", "S [123456789012345][x]", "DK", "DNC", "[0901234567][x]",
])
def test_anything_else_gets_the_help_reply(text):
    msg = parse(text)
    assert msg.kind == "invalid" and msg.source is None
    assert msg.reply == REPLIES["invalid"] and msg.problem


def test_replies_fit_one_plain_sms_and_carry_the_receipt():
    long_brand = "S [" + "A" * 30 + "][x]"
    for text in ("S [0901234567][x]", "V [0901234567][x]", "LD [0901234567][x]", "FW [x]",
                 "DK DNC", "HUY DNC", "nonsense", long_brand):
        reply = parse(text, ref="AS-7K2M9Q4P").reply
        assert reply.isascii() and len(reply) <= 160, reply
    assert "AS-7K2M9Q4P" in parse("S [0901234567][x]", ref="AS-7K2M9Q4P").reply


@given(st.text(max_size=300))
@settings(max_examples=500)
def test_parse_never_raises_and_always_answers(text):
    msg = parse(text)
    assert msg.kind in KINDS and msg.reply
    assert (msg.kind == "invalid") == (msg.problem is not None)
    if msg.source is not None:
        assert msg.source == msg.source.strip() and msg.source.upper() == msg.source


NUMBER_FORMS = [
    lambda n: n, lambda n: "+84" + n[1:], lambda n: "84" + n[1:],
    lambda n: f"{n[:4]}.{n[4:7]}.{n[7:]}", lambda n: f"{n[:4]} {n[4:7]} {n[7:]}",
    lambda n: f"+84 {n[1:3]} {n[3:6]} {n[6:]}",
]
WRAPS = [lambda a, b: f"[{a}][{b}]", lambda a, b: f"({a})({b})", lambda a, b: f"[{a}] [{b}]",
         lambda a, b: f"({a}) ({b})", lambda a, b: f"{a} {b}", lambda a, b: f"{a} [{b}]"]
WORDS = st.sampled_from(["vay", "tien", "nhanh", "trúng", "thưởng", "xe", "máy", "lãi", "suất", "0%",
                         "khuyến", "mại", "bất", "động", "sản", "https://bit.ly/x1", "50.000đ",
                         # numeric words, which a bare form's number must not swallow
                         "50", "1", "2", "100", "5.000.000", "3-4", "0", "12", "24h"])


@given(kind=st.sampled_from(["S", "V", "LD"]), keyword_case=st.sampled_from([str.upper, str.lower]),
       prefix=st.sampled_from(["9", "3", "7", "8", "5"]), rest=st.text("0123456789", min_size=8, max_size=8),
       form=st.sampled_from(NUMBER_FORMS), wrap=st.sampled_from(WRAPS),
       words=st.lists(WORDS, min_size=1, max_size=8), spaces=st.sampled_from([" ", "  ", " \t "]))
def test_generated_reports_round_trip(kind, keyword_case, prefix, rest, form, wrap, words, spaces):
    number = "0" + prefix + rest
    content = " ".join(words)
    text = keyword_case(kind) + spaces + wrap(form(number), content)
    msg = parse(text)
    expected = {"S": "sms_report", "V": "call_report", "LD": "scam_call_report"}[kind]
    assert (msg.kind, msg.source, msg.content) == (expected, number, content), (text, msg.problem)


runner = CliRunner()


def test_cli_prints_the_four_keys_and_refuses_a_bad_sender():
    r = runner.invoke(app, ["antispam", "shortcode", "S [+84 90.123.4567][vay tien]",
                            "--from", "+84912345678", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"kind": "sms_report", "source": "0901234567", "content": "vay tien",
                                    "reply": REPLIES["sms_report"].format(source="0901234567", ref="")}
    r = runner.invoke(app, ["antispam", "shortcode", "DK DNC", "--from", "0912345678", "--json"])
    assert json.loads(r.stdout)["kind"] == "dnc_register" and json.loads(r.stdout)["source"] is None
    r = runner.invoke(app, ["antispam", "shortcode", "xin chao", "--from", "0912345678"])
    assert r.exit_code == 0 and "invalid" in r.stdout and "Sai cu phap" in r.stdout
    r = runner.invoke(app, ["antispam", "shortcode", "DK DNC", "--from", "not-a-number"])
    assert r.exit_code == 2 and "--from" in r.output
