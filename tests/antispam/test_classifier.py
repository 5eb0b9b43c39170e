"""The SMS content classifier: features, the estimator contract, obfuscation, files, commands.

Messages come from a small generator below (Vietnamese and English, spam and ham, with the
obfuscations spammers use), never from the shared data sets; the tests that read the shared
sets skip when ../shared/data is absent.
"""

from __future__ import annotations

import json
import random
import tomllib
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from typer.testing import CliRunner

from ictgov.antispam import classifier as clf_mod
from ictgov.antispam.classifier import (
    DataError,
    SpamClassifier,
    cv_splits,
    deduplicate,
    evaluate,
    load,
    load_default,
    read_tsv,
    retrain,
    save,
)
from ictgov.antispam.features import SIGNALS, fold_many, prepare
from ictgov.cli import app
from ictgov.text import fold

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
UCI = SHARED / "uci_sms_spam" / "SMSSpamCollection"
VI = SHARED / "vi_sms_written" / "vi_sms_written.tsv"
runner = CliRunner()

# -- a generator of SMS-like messages ---------------------------------------------------------

SPAM_VI = [
    "Vay tiền nhanh {n} triệu, không cần thế chấp, giải ngân trong {m} phút. Liên hệ {phone}",
    "Chúc mừng quý khách đã trúng thưởng {prize}. Nhận quà ngay tại {link}",
    "[QC] Khuyến mãi {pct}% toàn bộ sản phẩm tại {shop}, chỉ hôm nay. Chi tiết {link}",
    "Tài khoản ngân hàng của bạn sẽ bị khóa. Xác thực ngay tại {link} để tránh gián đoạn",
    "Nhà cái uy tín số một, nạp {n}00k tặng {m}00k, đăng ký ngay tại {link}",
    "Tuyển cộng tác viên làm tại nhà, thu nhập {n} triệu mỗi tháng, liên hệ Zalo {phone}",
    "Bán đất nền dự án {place} giá chỉ {n} triệu/m2, sổ đỏ sẵn sàng, gọi ngay {phone}",
    "Hỗ trợ vay vốn lãi suất thấp, duyệt hồ sơ trong ngày, nhắn tin {phone} để được tư vấn",
    "Bạn được tặng {n}00.000đ vào ví điện tử, bấm {link} để nhận trước {m} giờ hôm nay",
]
SPAM_EN = [
    "URGENT! You have won a {prize_en}. Call {phone_uk} now to claim your prize",
    "FREE entry to win a {prize_en}! Text WIN to {short} now. T&C apply",
    "Your bank account has been suspended. Verify your details at {link}",
    "Congratulations! You are selected for a cash prize of £{n}000. Reply YES to {short}",
    "Claim your free ringtone now! Send TONE to {short}, only 150p per week",
]
HAM_VI = [
    "Chiều nay {m} giờ họp ở phòng {room} nhé anh",
    "Mẹ ơi con về muộn, mẹ ăn cơm trước đi nhé",
    "Mai anh qua đón em lúc {m} giờ được không",
    "Tối nay đi ăn lẩu không mọi người, quán cũ nhé",
    "Con đến trường rồi, chiều con đi học thêm về muộn",
    "Anh ơi em gửi tài liệu qua email rồi, anh xem giúp em với",
    "Đơn hàng của chị đang được giao, em gọi không được, chị nghe máy giúp em",
    "Sinh nhật vui vẻ nha bạn, chúc mọi điều tốt đẹp",
    "Cuối tuần này cả nhà về quê thăm ông bà không con",
]
HAM_EN = [
    "Hey, are we still meeting at {m} tonight?",
    "I'll be late, the traffic is terrible today",
    "Can you pick up some milk on the way home",
    "Thanks for dinner last night, it was lovely",
    "Did you finish the report? Send it when you can",
    "Happy birthday! Hope you have a great day",
    "Call me when you wake up, nothing urgent",
]
TEEN = {"không": "ko", "được": "dc", "rồi": "r", "với": "vs", "anh": "a", "em": "e", "gì": "j"}
FILL = {
    "prize": ["xe máy SH", "iPhone 15", "100 triệu đồng", "chuyến du lịch Đà Nẵng"],
    "prize_en": ["holiday to Spain", "Nokia phone", "£1000 cash", "brand new car"],
    "shop": ["Shop Hoa Mai", "Siêu thị Điện Máy Xanh Lá", "Thời trang Mây"],
    "place": ["Long An", "Bình Dương", "Đồng Nai", "Bắc Ninh"],
    "room": ["201", "305", "họp lớn"],
}


def _phone(rng: random.Random) -> str:
    number = "09" + "".join(rng.choice("0123456789") for _ in range(8))
    style = rng.randrange(3)
    if style == 1:
        return f"{number[:4]}.{number[4:7]}.{number[7:]}"
    return f"{number[:4]} {number[4:7]} {number[7:]}" if style == 2 else number


def _link(rng: random.Random) -> str:
    slug = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(6))
    return rng.choice([f"bit.ly/{slug}", f"https://{slug}-vn.top/nhan", f"http://www.{slug}.com/x"])


def strip_marks(text: str) -> str:
    """Text without Vietnamese diacritics (đ -> d), case kept."""
    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c)))


def dotted(word: str) -> str:
    return ".".join(word)


def spaced(word: str) -> str:
    return " ".join(word.upper())


def zero_for_o(text: str) -> str:
    return text.replace("o", "0").replace("ô", "0")


def obfuscate(text: str, rng: random.Random) -> str:
    """What spammers do to one message: one or two words dotted or spaced, o as 0, no marks."""
    words = text.split(" ")
    for _ in range(rng.randrange(1, 3)):
        k = rng.randrange(len(words))
        if words[k].isalpha() and len(words[k]) > 2:
            words[k] = rng.choice([dotted, spaced])(words[k])
    text = " ".join(words)
    if rng.random() < 0.4:
        text = zero_for_o(text)
    return strip_marks(text) if rng.random() < 0.5 else text


def generate(n: int, seed: int = 0, spam_share: float = 0.35) -> list[tuple[str, str]]:
    """(label, text) pairs, Vietnamese and English, spam obfuscated and ham in teencode at times."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        spam = rng.random() < spam_share
        vietnamese = rng.random() < 0.65
        template = rng.choice((SPAM_VI if vietnamese else SPAM_EN) if spam
                              else (HAM_VI if vietnamese else HAM_EN))
        values = {k: rng.choice(v) for k, v in FILL.items()}
        text = template.format(n=rng.randrange(2, 90), m=rng.randrange(1, 12), pct=rng.choice([30, 50, 70]),
                               phone=_phone(rng), phone_uk="0906" + str(rng.randrange(10**6, 10**7)),
                               short=rng.randrange(80000, 89999), link=_link(rng), **values)
        if spam and rng.random() < 0.4:
            text = obfuscate(text, rng)
        elif not spam and vietnamese and rng.random() < 0.4:
            text = " ".join(TEEN.get(w, w) for w in text.split(" "))
        if vietnamese and rng.random() < 0.4:
            text = strip_marks(text)
        out.append(("spam" if spam else "ham", text))
    return out


def write_tsv(path: Path, pairs) -> Path:
    path.write_text("".join(f"{label}\t{text}\n" for label, text in pairs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained() -> SpamClassifier:
    pairs = deduplicate(generate(900, seed=1)).pairs
    return SpamClassifier().fit([t for _, t in pairs], [label for label, _ in pairs])


# -- features ----------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(
    list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĐƠz0189 .,-_/\n\r\t")
    + ["\u0301", "\u0323", "\u200b", "ß", "æ", "ﬁ", "½", "😀", "Ж", "İ", "\u00a0"])), max_size=6))
def test_fold_many_is_fold(texts):
    assert fold_many(texts) == [fold(t) for t in texts]


def _folded_view(text: str) -> str:
    return prepare([text]).folded.tobytes().decode("utf-32-le")


def test_folded_view_undoes_obfuscation():
    plain = _folded_view("Vay tiền nhanh, không cần thế chấp")
    assert plain == "vaytiennhanhkhongcanthechap"
    for variant in ("V.a.y t.i.ề.n nhanh, không cần thế chấp", "V A Y  T I E N nhanh, không cần thế chấp",
                    "Vay tien nhanh, kh0ng can the chap", "VAY TIỀN NHANH!!! ko cần thế chấp",
                    "Vayyyy tiền nhanh, không cần thế chấp"):
        assert _folded_view(variant) == plain, variant
    assert _folded_view("vay 5tr, lh 0912.345.678") == _folded_view("vay 5 triệu, liên hệ 0912 345 678")


def test_signals():
    batch = prepare(["[QC] Giảm 50% tại shop.vn/sale, gọi 0912 345 678, chỉ 199.000đ",
                     "Win £1000 now, call 09061701461 or visit www.prize.co.uk",
                     "hẹn 7h tối nhé", "(AD) new offer", "see you at 5. ok.bye"])
    got = [dict(zip(SIGNALS, row.tolist())) for row in batch.signals]
    assert got[0] == {"link": 1, "phone": 1, "money": 1, "ad_prefix": 1}
    assert got[1] == {"link": 1, "phone": 1, "money": 1, "ad_prefix": 0}
    assert not any(got[2].values()) and not any(got[4].values())
    assert got[3]["ad_prefix"] == 1


def test_line_breaks_inside_a_message_do_not_split_it(trained):
    p = trained.predict_proba(["Vay tiền nhanh\nkhông cần thế chấp", "ok", "a\r\nb"])
    assert p.shape == (3, 2)
    assert np.allclose(p[0], trained.predict_proba(["Vay tiền nhanh không cần thế chấp"])[0], atol=1e-6)


# -- the estimator -----------------------------------------------------------------------------

def test_scikit_learn_contract(trained):
    assert trained.classes_.tolist() == ["ham", "spam"]
    texts = [t for _, t in generate(50, seed=7)]
    proba = trained.predict_proba(texts)
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(trained.predict(texts)) <= {"ham", "spam"}
    assert (trained.predict(texts) == np.where(proba[:, 1] >= 0.5, "spam", "ham")).all()
    assert clone(trained).get_params() == trained.get_params()
    assert not hasattr(clone(trained), "coef_")
    # 0/1 labels: the positive class is 1
    pairs = generate(200, seed=3)
    numeric = SpamClassifier().fit([t for _, t in pairs], [int(label == "spam") for label, _ in pairs])
    assert numeric.classes_.tolist() == [0, 1]


def test_input_is_checked():
    with pytest.raises(TypeError, match="not one string"):
        SpamClassifier().fit("vay tien", ["spam"])
    with pytest.raises(TypeError, match=r"X\[1\] must be a str"):
        SpamClassifier().fit(["a", 3], ["spam", "ham"])
    with pytest.raises(ValueError, match="exactly two classes"):
        SpamClassifier().fit(["a", "b"], ["spam", "spam"])
    with pytest.raises(ValueError, match="n_bits"):
        SpamClassifier(n_bits=40).fit(["a", "b"], ["spam", "ham"])


def test_batches_give_the_same_scores_as_one_by_one(trained):
    texts = [t for _, t in generate(40, seed=11)] + ["", "x", ""]
    together = trained.decision_function(texts)
    alone = np.array([trained.decision_function([t])[0] for t in texts])
    small = clone(trained).set_params(batch_size=3)
    for name in ("classes_", "coef_", "intercept_", "calibration_"):
        setattr(small, name, getattr(trained, name))
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(together, small.decision_function(texts), atol=1e-5)
    # the fast path equals the feature matrix times the weights
    matrix = trained.transform(texts) @ trained.coef_[0].astype(np.float64) + trained.intercept_[0]
    assert np.allclose(together, matrix, atol=1e-5)


def test_generated_spam_is_told_from_ham(trained):
    test = deduplicate(generate(300, seed=99)).pairs
    predicted = trained.predict([t for _, t in test])
    truth = np.array([label for label, _ in test])
    assert (predicted == truth).mean() > 0.9


ORIGINAL = "Vay tiền nhanh 30 triệu, không cần thế chấp, giải ngân trong ngày. Liên hệ 0913 456 789"
VARIANTS = {
    "dotted": "V.a.y t.i.ề.n nhanh 30 triệu, không cần thế chấp, giải ngân trong ngày. Liên hệ 0913 456 789",
    "zero for o": "Vay tiền nhanh 30 triệu, kh0ng cần thế chấp, giải ngân tr0ng ngày. Liên hệ 0913 456 789",
    "spaced": "V A Y  T I Ề N nhanh 30 triệu, không cần thế chấp, giải ngân trong ngày. Liên hệ 0913 456 789",
    "no diacritics": "Vay tien nhanh 30 trieu, khong can the chap, giai ngan trong ngay. Lien he 0913 456 789",
    "all at once": "V.A.Y T I E N nhanh 30tr, k0 can the chap, giai ngan tr0ng ngay. LH 0 9 1 3 4 5 6 7 8 9",
}


@pytest.mark.parametrize("name", VARIANTS)
def test_obfuscated_spam_scores_like_the_original(trained, name):
    original, variant = trained.predict_proba([ORIGINAL, VARIANTS[name]])[:, 1]
    assert original > 0.8
    assert variant > 0.5 and abs(variant - original) < 0.2, (original, variant)


def test_save_and_load_give_identical_probabilities(trained, tmp_path):
    path = save(trained, tmp_path / "model", {"model_id": "test", "metrics": []})
    assert path.name == "sms_spam.joblib" and (tmp_path / "model" / "MODEL_CARD.md").is_file()
    loaded = load(tmp_path / "model")
    texts = [t for _, t in generate(60, seed=5)]
    assert np.array_equal(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert loaded.get_params() == trained.get_params() and loaded.card_["model_id"] == "test"
    (tmp_path / "junk.joblib").write_bytes(b"not a model")
    with pytest.raises(Exception):  # noqa: B017 - whatever joblib raises for a non-pickle
        load(tmp_path / "junk.joblib")


# -- files and evaluation ------------------------------------------------------------------------

def test_read_tsv_accepts_the_shared_formats(tmp_path):
    f = tmp_path / "a.tsv"
    f.write_bytes("\ufefflabel\ttext\nspam\tVay tiền\tngay\nHAM\tok\r\n\n1\tWin now\n0 \tsee you\n".encode())
    assert read_tsv(f) == [("spam", "Vay tiền\tngay"), ("ham", "ok"), ("spam", "Win now"), ("ham", "see you")]


def test_bad_lines_are_named_by_number(tmp_path):
    f = tmp_path / "bad.tsv"
    f.write_bytes(b"spam\tok text\nno tab here\nspma\tmisspelt label\nham\t   \nham\tfine\n"
                  b"spam\t\xff\xfe broken\n")
    with pytest.raises(DataError) as info:
        read_tsv(f)
    message = str(info.value)
    assert "line 2: no tab" in message and "line 3: label 'spma'" in message
    assert "line 4: the text is empty" in message and "line 6: not UTF-8" in message
    assert "line 1" not in message and "line 5" not in message
    r = runner.invoke(app, ["antispam", "train", "--data", str(f), "--out", str(tmp_path / "m")])
    assert r.exit_code == 1
    assert "line 2: no tab" in r.output and "line 6: not UTF-8" in r.output
    assert not (tmp_path / "m").exists()


def test_deduplicate_keeps_first_place_and_last_label():
    d = deduplicate([("ham", "hello  there"), ("spam", "win"), ("spam", "hello there"), ("spam", "win")])
    assert d.pairs == [("spam", "hello  there"), ("spam", "win")]
    assert (d.rows, d.duplicates, d.conflicts) == (4, 2, 1)


def test_evaluate_deduplicates_before_splitting(monkeypatch):
    seen = []

    class Recorder(SpamClassifier):
        def fit(self, X, y):
            seen.append({"train": set(X)})
            return super().fit(X, y)

        def predict(self, X):
            seen[-1]["test"] = set(X)
            return super().predict(X)

    monkeypatch.setattr(clf_mod, "SpamClassifier", Recorder)
    pairs = generate(240, seed=21)
    duplicated = pairs + pairs[:120] + [(label, text + "  ") for label, text in pairs[:60]]
    result = evaluate(duplicated, folds=4)
    unique = len(deduplicate(pairs).pairs)
    assert result["unique"] == unique and result["duplicates"] == len(duplicated) - unique
    assert len(seen) == 4
    def keys(texts):
        return {" ".join(t.split()) for t in texts}

    for split in seen:
        assert not keys(split["train"]) & keys(split["test"])
    assert sum(len(f["test"]) for f in seen) == unique


def test_similar_grouped_splits_keep_template_siblings_together():
    texts = [f"Mã xác thực của bạn là {n}. Không chia sẻ mã này với ai." for n in range(100000, 100020)]
    texts += [t for _, t in generate(80, seed=2)]
    texts = [t for _, t in deduplicate([("ham", t) for t in texts]).pairs]
    labels = ["spam" if i % 3 == 0 else "ham" for i in range(len(texts))]
    for train_idx, test_idx in cv_splits(texts, labels, folds=4, groups="similar"):
        otp = [i for i in range(20)]
        assert set(otp) <= set(train_idx) or set(otp) <= set(test_idx)


# -- commands ------------------------------------------------------------------------------------

def test_commands_train_evaluate_classify_retrain(tmp_path):
    data = write_tsv(tmp_path / "train.tsv", generate(400, seed=8))
    out = tmp_path / "model"
    r = runner.invoke(app, ["antispam", "train", "--data", str(data), "--out", str(out)])
    assert r.exit_code == 0, r.output
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "train.tsv" in card and "Intended use" in card and "Limits" in card

    r = runner.invoke(app, ["antispam", "evaluate", "--data", str(data), "--folds", "3"])
    assert r.exit_code == 0, r.output
    assert "duplicates" in r.stdout and "precision" in r.stdout
    rows = [line.split() for line in r.stdout.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"], ["mean"])]
    assert [row[0] for row in rows] == ["1", "2", "3", "mean"]
    assert all(0.0 <= float(row[-1]) <= 1.0 for row in rows)
    r = runner.invoke(app, ["antispam", "evaluate", "--data", str(data), "--folds", "3", "--json"])
    assert len(json.loads(r.stdout)["folds"]) == 3

    messages = ["Vay tiền nhanh 50 triệu không cần thế chấp, liên hệ 0912 345 678",
                "Mai anh qua đón em lúc 7 giờ nhé", ""]
    r = runner.invoke(app, ["antispam", "classify", "--model", str(out)], input="\n".join(messages) + "\n")
    assert r.exit_code == 0, r.output
    answers = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(answers) == 3 and all(set(a) == {"label", "score"} for a in answers)
    assert answers[0]["label"] == "spam" and answers[1]["label"] == "ham"
    assert answers[0]["score"] > 0.5 > answers[1]["score"]

    confirmed = write_tsv(tmp_path / "confirmed.tsv", [("spam", "Nhận ngay quà tặng tri ân khách hàng tại qua-tang.top")])
    r = runner.invoke(app, ["antispam", "retrain", "--base", str(data), "--confirmed", str(confirmed),
                            "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert load(tmp_path / "again").card_["confirmed_reports"] == 1


def test_retrain_function_takes_pairs_from_the_reports_table(tmp_path):
    base = write_tsv(tmp_path / "base.tsv", generate(300, seed=4))
    reported = "Ưu đãi độc quyền hôm nay: mở thẻ tín dụng hạn mức 200 triệu, đăng ký tại the-vip.top"
    model = retrain([base], iter([("spam", reported), ("ham", "Chiều nay họp lúc 3 giờ nhé")]),
                    tmp_path / "m")
    assert model.card_["confirmed_reports"] == 2
    assert load(tmp_path / "m").predict([reported])[0] == "spam"
    with pytest.raises(DataError, match="item 1: label 'maybe'"):
        retrain([base], [("maybe", "x")], tmp_path / "n")


def test_classify_reads_stdin_with_the_shipped_model():
    r = runner.invoke(app, ["antispam", "classify", "--batch", "1"],
                      input="URGENT! You have won a £1000 cash prize. Call 09061701461 to claim\n"
                            "Are we still on for lunch tomorrow?\n")
    assert r.exit_code == 0, r.output
    labels = [json.loads(line)["label"] for line in r.stdout.splitlines()]
    assert labels == ["spam", "ham"]
    r = runner.invoke(app, ["antispam", "classify"], input=b"ok\n\xff bad\n")
    assert r.exit_code == 1 and "stdin line 2: not UTF-8" in r.output


# -- the shipped model -----------------------------------------------------------------------------

def test_shipped_model_loads_and_classifies():
    model = load_default()
    assert model is load_default()  # cached
    assert model.classes_.tolist() == ["ham", "spam"]
    assert model.card_["model_id"] and model.card_["data"]
    test = deduplicate(generate(300, seed=123)).pairs
    predicted = model.predict([t for _, t in test])
    truth = np.array([label for label, _ in test])
    assert (predicted == truth).mean() > 0.85


@pytest.mark.parametrize("name", VARIANTS)
def test_shipped_model_sees_through_obfuscation(name):
    original, variant = load_default().predict_proba([ORIGINAL, VARIANTS[name]])[:, 1]
    assert original > 0.8 and variant > 0.5 and abs(variant - original) < 0.25, (original, variant)


def test_shipped_model_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "antispam/model/*" in config["tool"]["setuptools"]["package-data"]["ictgov"]
    model_dir = ROOT / "src" / "ictgov" / "antispam" / "model"
    assert (model_dir / "sms_spam.joblib").is_file() and (model_dir / "MODEL_CARD.md").is_file()


# -- the shared data sets (skipped without ../shared/data) ----------------------------------------

needs_shared = pytest.mark.skipif(not (UCI.is_file() and VI.is_file()),
                                  reason="../shared/data (uci_sms_spam, vi_sms_written) is absent")


@needs_shared
def test_shared_sets_read_with_their_documented_counts():
    uci, vi = read_tsv(UCI), read_tsv(VI)
    assert len(uci) == 5574 and sum(label == "spam" for label, _ in uci) == 747
    assert len(vi) == 2000 and sum(label == "spam" for label, _ in vi) == 600
    assert len(deduplicate(uci).pairs) <= 5171 and len(deduplicate(vi).pairs) == 2000


@needs_shared
def test_shipped_model_was_trained_on_the_shared_sets():
    data = {d["name"]: d for d in load_default().card_["data"]}
    assert data["SMSSpamCollection"]["sha256"].startswith("7d039a24a6083ed9")
    assert data["vi_sms_written.tsv"]["rows"] == 2000


# -- the shipped model's quality -------------------------------------------------------------------
# The shipped model was trained on all of UCI and vi_sms_written, so scoring it on any part of
# them would measure memory: its quality on UCI is the card's cross-validation (measured when it
# was trained, after de-duplication, over five fold seeds), and what can be checked fast and
# honestly here is messages it has never seen: the generated Vietnamese and English ones below,
# obfuscated the way spammers do.


def _card_f1(split: str) -> list[dict]:
    return [m for m in load_default().card_["metrics"]
            if m["data"] == "SMSSpamCollection" and m["groups"] == split]


def test_shipped_card_meets_the_uci_target_over_five_fold_seeds():
    random_split = _card_f1("none")
    assert sorted(m["seed"] for m in random_split) == [0, 1, 2, 3, 4]
    for m in random_split:
        # measured after de-duplication: fewer distinct messages than rows, 5-fold
        assert m["deduplicated"] is True and m["folds"] == 5
        assert m["rows"] == 5574 and m["unique"] < 5171
        assert len(m["per_fold_f1"]) == 5 and m["f1"] == pytest.approx(np.mean(m["per_fold_f1"]), abs=1e-3)
    f1 = [m["f1"] for m in random_split]
    assert np.mean(f1) >= 0.96, f1
    assert min(f1) >= 0.955, f1
    card = (ROOT / "src" / "ictgov" / "antispam" / "model" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Over the fold seeds" in card and f"{np.mean(f1):.4f}" in card


def test_shipped_model_on_unseen_generated_messages():
    """F1 of spam on 600 generated messages (none in the training data), a third obfuscated."""
    test = deduplicate(generate(600, seed=2024)).pairs
    predicted = load_default().predict([t for _, t in test]) == "spam"
    truth = np.array([label == "spam" for label, _ in test])
    tp = int((predicted & truth).sum())
    precision, recall = tp / max(predicted.sum(), 1), tp / max(truth.sum(), 1)
    f1 = 2 * precision * recall / (precision + recall)
    assert truth.sum() > 150 and f1 >= 0.9, (precision, recall, f1)
