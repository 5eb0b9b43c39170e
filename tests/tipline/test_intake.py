"""Taking reports in: checks by field, durable receipt, idempotency, grouping into cases."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from ictgov.tipline.intake import IntakeError, Submission, Upload, status_of, submit
from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.models import Case, Evidence, Report, Suggestion

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLAIM = "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế đã xác nhận"


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_every_bad_field_is_named_and_nothing_is_stored(session, tmp_path):
    sub = Submission(text="ab", urls=["not a url at all"], platform="myspace", category="gossip",
                     contact_email="nope", files=[Upload("x.jpg", b"MZ\x90\x00 not an image")])
    with pytest.raises(IntakeError) as exc:
        submit(session, sub, "web", evidence_dir=tmp_path)
    assert set(exc.value.errors) == {"text", "urls", "platform", "category", "contact_email",
                                     "consent", "files"}
    assert "checked from its content" in exc.value.errors["files"]
    assert count(session, Report) == 0


def test_receipt_status_and_evidence_stored(session, tmp_path):
    result = submit(session, Submission(text=CLAIM, urls=["https://m.facebook.com/post/1?fbclid=x"],
                                        category="health", files=[Upload("a.png", PNG)]),
                    "web", evidence_dir=tmp_path)
    session.commit()
    assert result.report.receipt.startswith("TG-") and len(result.report.receipt) == 11
    assert result.report.urls == ["https://facebook.com/post/1"]
    ev = session.scalar(select(Evidence))
    assert ev.media_type == "image/png" and (tmp_path / ev.sha256[:2] / ev.sha256).read_bytes() == PNG
    st = status_of(session, result.report.receipt.lower())
    assert st["state"] == "new" and st["verdict"] is None
    assert status_of(session, "TG-NOPE") is None


def test_idempotency_key_never_creates_two_reports(session, tmp_path):
    sub = Submission(text=CLAIM)
    first = submit(session, sub, "api", idempotency_key="k-1", evidence_dir=tmp_path)
    session.commit()
    again = submit(session, sub, "api", idempotency_key="k-1", evidence_dir=tmp_path)
    assert again.created is False and again.report.id == first.report.id
    assert count(session, Report) == 1


def test_a_blank_idempotency_key_is_no_key(session, tmp_path):
    # found by the OpenAPI fuzzer: a second report with "Idempotency-Key: " was a 500
    for key in ("", "  "):
        submit(session, Submission(text=CLAIM), "api", idempotency_key=key, matcher=ClaimMatcher(),
               evidence_dir=tmp_path)
        session.commit()
    assert count(session, Report) == 2
    assert session.scalar(select(func.count()).where(Report.idempotency_key.is_not(None))) == 0


@pytest.mark.parametrize("text", ["!!!!!!", "🔥🔥🔥🔥🔥", "- - - - -"])
def test_text_with_nothing_to_compare_is_refused_by_field(session, text):
    # found by the OpenAPI fuzzer: symbols only reached the matcher and was a 500
    with pytest.raises(IntakeError) as exc:
        submit(session, Submission(text=text), "api", matcher=ClaimMatcher())
    assert set(exc.value.errors) == {"text"} and "only symbols" in exc.value.errors["text"]
    ok = submit(session, Submission(text=text, urls=["https://example.com/x"]), "api", matcher=ClaimMatcher())
    assert ok.created


def test_hotline_needs_caller_and_time(session):
    with pytest.raises(IntakeError) as exc:
        submit(session, Submission(text=CLAIM), "hotline")
    assert set(exc.value.errors) == {"caller_number", "call_time"}
    r = submit(session, Submission(text=CLAIM, caller_number="+84 912 345 678",
                                   call_time=datetime(2021, 7, 1, 9, 30)), "hotline")
    assert r.report.caller_number == "0912345678" and r.report.channel == "hotline"


def test_reworded_report_joins_the_same_case_and_unrelated_opens_a_new_one(session):
    matcher = ClaimMatcher()
    # each report is its own transaction, as on the web: the index learns of it at its commit
    a = submit(session, Submission(text=CLAIM, category="health"), "web", matcher=matcher)
    session.commit()
    b = submit(session, Submission(text="uong nuoc chanh nong moi sang chua khoi hoan toan benh ung thu, bo y te da xac nhan"),
               "web", matcher=matcher)
    session.commit()
    c = submit(session, Submission(text="Bão số 9 sẽ đổ bộ vào Hà Nội tối nay với sức gió cấp 17"), "web",
               matcher=matcher)
    session.commit()
    assert b.decision == "join" and b.case.id == a.case.id and a.case.report_count == 2
    assert c.decision == "new" and c.case.id != a.case.id
    assert count(session, Case) == 2


def test_middle_band_is_suggested_to_a_fact_checker(session):
    matcher = ClaimMatcher(auto_threshold=0.99, suggest_threshold=0.3)
    a = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    session.commit()
    b = submit(session, Submission(text="Có thật là nước chanh nóng chữa được ung thư không? Nghe nói Bộ Y tế xác nhận"),
               "web", matcher=matcher)
    session.commit()
    assert b.decision == "suggest" and b.case.id != a.case.id
    sug = session.scalar(select(Suggestion))
    assert sug.case_id == a.case.id and sug.report_id == b.report.id and sug.decision is None


def test_a_failed_commit_leaves_nothing_in_the_claim_index(session):
    """SQLITE_BUSY or a full disk at the commit: the report is not stored, so the index must not
    hold its id either; the database hands that id to the next report, which must be stored,
    indexed and grouped as usual (it used to fail with "item_id N is already stored")."""
    matcher = ClaimMatcher()
    lost = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    lost_id = lost.report.id
    session.rollback()  # what the web does when the commit raises
    assert lost_id not in matcher and len(matcher) == 0
    first = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    session.commit()
    assert first.report.id in matcher
    again = submit(session, Submission(text=CLAIM.lower()), "web", matcher=matcher)
    session.commit()
    assert again.decision == "join" and again.case.id == first.case.id
    assert count(session, Report) == 2 and len(matcher) == 2


def test_a_report_already_indexed_by_a_catch_up_is_not_added_twice(session):
    matcher = ClaimMatcher()
    r = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    session.flush()
    matcher.add(r.report.id, r.case.id, r.report.text)  # another request's catch-up got there first
    session.commit()  # must not raise
    assert len(matcher) == 1


# -- evidence: the type from the bytes -------------------------------------------------------


def _mp3_frames(n: int = 3) -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 144 * 128000 // 44100 = 417 bytes a frame
    header = b"\xff\xfb\x90\x64"
    return (header + b"\x00" * 413) * n


def _ftyp(brand: bytes, compatible: bytes = b"isommp41") -> bytes:
    body = brand + b"\x00\x00\x02\x00" + compatible
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08free"


GENUINE = {
    "anh.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64, "image/jpeg"),
    "exif.jpg": (b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00" + b"\x00" * 64, "image/jpeg"),
    "man-hinh.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "image/png"),
    "cong-van.pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    "clip.mp4": (_ftyp(b"isom"), "video/mp4"),
    "clip2.mp4": (_ftyp(b"mp42"), "video/mp4"),
    "iphone.mp4": (_ftyp(b"M4V "), "video/mp4"),
    "ghi-am.mp3": (_mp3_frames(), "audio/mpeg"),
    "tagged.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"TIT2" + b"\x00" * 6 + _mp3_frames(2), "audio/mpeg"),
}
LIARS = {
    "photo.jpg": b"\xff\xd8\xff",                                  # a SOI marker and nothing after it
    "anh.heic.mp4": _ftyp(b"heic", b"mif1heic"),                   # an iPhone photo
    "avif.mp4": _ftyp(b"mif1", b"avifmiaf"),
    "voice.m4a.mp4": _ftyp(b"M4A ", b"M4A mp42"),                 # audio, not video
    "movie.mov.mp4": _ftyp(b"qt  ", b"qt  "),                      # QuickTime
    "tiny.mp4": b"\x00\x00\x00\x08ftypisom",                       # a box too short to be one
    "fake.mp3": b"\xff\xfb" + b"MZ\x90\x00" * 40,                 # two sync-looking bytes
    "bad-bitrate.mp3": b"\xff\xfb\xf0\x64" + b"\x00" * 800,        # bitrate index 15 is invalid
    "aac.mp3": b"\xff\xf1\x50\x80" + b"\x00" * 800,                # ADTS AAC, not Layer III
    "no-second-frame.mp3": b"\xff\xfb\x90\x64" + b"\x00" * 413 + b"GIF89a" + b"\x00" * 400,
    "bad-tag.mp3": b"ID3\x09\x00\x00\x00\x00\x00\x0a" + b"\x00" * 40,   # ID3 version 9
    "unsafe-size.mp3": b"ID3\x03\x00\x00\x80\x80\x80\x80" + b"\x00" * 40,
    "letter.pdf": b"%PDF written in a text file",
    "note.pdf": b"Just some text, named .pdf",
    "program.jpg": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
    "page.png": b"<html><script>alert(1)</script></html>",
    "empty.png": b"",
}


@pytest.mark.parametrize("name", sorted(GENUINE))
def test_genuine_evidence_is_accepted_with_its_type(session, tmp_path, name):
    from ictgov.tipline.intake import sniff_media_type

    data, media_type = GENUINE[name]
    assert sniff_media_type(data) == media_type
    r = submit(session, Submission(text=CLAIM, files=[Upload(name, data)]), "web", evidence_dir=tmp_path)
    session.commit()
    assert [(e.filename, e.media_type) for e in r.report.evidence] == [(name, media_type)]


@pytest.mark.parametrize("name", sorted(LIARS))
def test_a_file_that_lies_about_its_type_is_refused(session, tmp_path, name):
    from ictgov.tipline.intake import sniff_media_type

    assert sniff_media_type(LIARS[name]) is None
    with pytest.raises(IntakeError) as exc:
        submit(session, Submission(text=CLAIM, files=[Upload(name, LIARS[name])]), "web", evidence_dir=tmp_path)
    assert name in exc.value.errors["files"] and "checked from its content" in exc.value.errors["files"]
    assert count(session, Report) == 0


def test_five_files_of_five_mb_at_most(session, tmp_path):
    from ictgov.tipline.intake import MAX_FILE_BYTES

    png = GENUINE["man-hinh.png"][0]
    at_limit = png + b"\x00" * (MAX_FILE_BYTES - len(png))
    assert MAX_FILE_BYTES == 5 * 1024 * 1024
    over = Upload("lon.png", at_limit + b"\x00")
    with pytest.raises(IntakeError) as exc:
        submit(session, Submission(text=CLAIM, files=[over]), "web", evidence_dir=tmp_path)
    assert exc.value.errors["files"] == "lon.png: larger than 5 MB"
    six = [Upload(f"{i}.png", png + bytes([i])) for i in range(6)]
    with pytest.raises(IntakeError) as exc:
        submit(session, Submission(text=CLAIM, files=six), "web", evidence_dir=tmp_path)
    assert exc.value.errors["files"] == "at most 5 files"
    assert count(session, Report) == 0 and not any(p.is_file() for p in tmp_path.rglob("*"))
    ok = submit(session, Submission(text=CLAIM, files=[Upload("vua.png", at_limit)] + six[:4]), "web",
                evidence_dir=tmp_path)
    session.commit()
    assert len(ok.report.evidence) == 5 and max(e.size for e in ok.report.evidence) == MAX_FILE_BYTES


def test_receipts_use_the_whole_alphabet_at_every_position():
    from ictgov.tipline.intake import RECEIPT_ALPHABET, new_receipt

    receipts = [new_receipt() for _ in range(3000)]
    assert len(set(receipts)) == len(receipts)
    assert all(r.startswith("TG-") and len(r) == 11 for r in receipts)
    for position in range(3, 11):
        assert {r[position] for r in receipts} == set(RECEIPT_ALPHABET)
