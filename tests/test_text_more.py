"""Links, phone numbers, teencode tokens and shingles: the keys that make reports meet."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ictgov.text import (
    TEENCODE,
    TRACKING_PARAMS,
    canonical_url,
    extract_phones,
    extract_urls,
    fold,
    normalize_phone,
    phone_kind,
    shingles,
    teencode_tokens,
    word_shingles,
)

# -- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://M.Facebook.com:443/groups/1/?utm_source=zalo&b=2&a=1#top", "https://facebook.com/groups/1?a=1&b=2"),
        ("https://m.facebook.com/story.php?story_fbid=1&id=2&mibextid=abc",
         "https://facebook.com/story.php?id=2&story_fbid=1"),
        ("https://www.facebook.com/page/posts/123/?__cft__[0]=AZX&__tn__=%2CO%2CP-R",
         "https://facebook.com/page/posts/123"),
        ("mbasic.facebook.com/page", "https://facebook.com/page"),
        ("mobile.twitter.com/x/status/1?ref_src=twsrc%5Etfw", "https://twitter.com/x/status/1"),
        ("facebook.com/x", "https://facebook.com/x"),
        ("www.x.vn/y/", "https://x.vn/y"),
        ("//x.vn/a//", "https://x.vn/a"),
        ("https://x.vn/", "https://x.vn"),
        ("http://x.vn:80/a", "https://x.vn/a"),
        ("x.vn:8080/a", "https://x.vn:8080/a"),
        ("https://user:secret@x.vn/a", "https://x.vn/a"),
        ("https://X.VN./a", "https://x.vn/a"),
        ("https://youtu.be/abc?si=XYZ&t=42", "https://youtu.be/abc?t=42"),
        ("https://www.youtube.com/watch?v=abc&feature=share&gclid=1&igshid=2&zx=3&_ga=4&fbclid=5",
         "https://youtube.com/watch?feature=share&v=abc"),
        ("https://x.vn/a/./b/../c", "https://x.vn/a/c"),
        ("https://x.vn/%7euser/a%2fb", "https://x.vn/~user/a%2Fb"),  # encoded "/" keeps its meaning
        ("https://x.vn/?q=a+b&r=%26", "https://x.vn?q=a%20b&r=%26"),
        ("https://x.vn/?", "https://x.vn"),
        ("m.me/page", "https://m.me/page"),  # never cut below two labels
        ("https://www.m.vn", "https://m.vn"),
        ("http://1.2.3.4/x/", "https://1.2.3.4/x"),
        ("http://[::1]:8080/x", "https://[::1]:8080/x"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_spellings_of_one_link_meet():
    spellings = [
        "https://vi.wikipedia.org/wiki/Hà_Nội",
        "https://vi.wikipedia.org/wiki/Ha\u0300_N%E1%BB%99i",  # decomposed and encoded
        "http://vi.wikipedia.org/wiki/H%c3%a0_N%e1%bb%99i/",
        "vi.wikipedia.org/wiki/H%C3%A0_N%E1%BB%99i#Lịch_sử",
    ]
    assert {canonical_url(u) for u in spellings} == {"https://vi.wikipedia.org/wiki/H%C3%A0_N%E1%BB%99i"}


def test_idna_hosts_meet_in_ascii():
    unicode_host = canonical_url("https://Bộcôngthương.vn/tin")
    assert unicode_host.startswith("https://xn--") and unicode_host.isascii()
    assert canonical_url(unicode_host.upper().replace("HTTPS://", "https://").replace("/TIN", "/tin")) == unicode_host


def test_tracking_list_is_documented():
    assert {"fbclid", "gclid", "igshid", "si", "mibextid", "ref", "ref_src", "__cft__", "__tn__", "zx",
            "_ga"} <= TRACKING_PARAMS
    assert canonical_url("x.vn/a?UTM_Campaign=1&Fbclid=2&id=3") == "https://x.vn/a?id=3"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not a url", "spaces"),
        ("hello", "domain"),
        ("1.5", "domain"),
        ("http://256.1.1.1/", "domain"),
        ("x..vn", "host"),
        ("-x.vn", "domain"),
        ("mailto:a@b.vn", "mailto"),
        ("javascript:alert(1)", "javascript"),
        ("ftp://x.vn/file", "ftp"),
        ("http://", "no host"),
        ("http://x.vn:99999/", "ort"),
        ("http://[::1/", "IPv6"),
        ("https://x.vn/\udc80", "Unicode"),
    ],
)
def test_not_a_url_is_refused_clearly(url, why):
    with pytest.raises(ValueError, match="not a web address") as info:
        canonical_url(url)
    assert why in str(info.value)


_LABELS = st.text(alphabet="abcxyz09-", min_size=1, max_size=6).filter(
    lambda s: not s.startswith("-") and not s.endswith("-"))
_URLS = st.builds(
    lambda scheme, prefix, labels, tld, port, path, query, fragment: (
        f"{scheme}{prefix}{'.'.join(labels)}.{tld}{port}{path}{query}{fragment}"),
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.sampled_from(["", "www.", "m.", "WWW.M.", "mobile."]),
    st.lists(_LABELS, min_size=1, max_size=3),
    st.sampled_from(["vn", "com", "COM.VN", "ly", "xn--p1ai", "việt"]),
    st.sampled_from(["", ":80", ":443", ":8080", ":"]),
    st.lists(st.text(alphabet="aZ9-._~%2Fe5é ả/?:@!$&'()*+,;=[]", max_size=6), max_size=4).map(
        lambda segs: "".join("/" + s.replace("?", "") for s in segs)),
    st.lists(st.tuples(st.sampled_from(["a", "B", "utm_x", "fbclid", "si", "k%3D", "ở", "a b"]),
                       st.text(alphabet="x1%20+=&é/?", max_size=4)), max_size=4).map(
        lambda kv: ("?" + "&".join(f"{k}={v.replace('&', '')}" for k, v in kv)) if kv else ""),
    st.sampled_from(["", "#", "#top", "#!/x"]),
)


@settings(max_examples=300)
@given(_URLS)
def test_canonical_url_is_idempotent(url):
    url = url.replace(" ", "%20")
    try:
        once = canonical_url(url)
    except ValueError:
        return
    assert canonical_url(once) == once
    assert once.startswith("https://") and once.isascii()
    assert "#" not in once


def test_generated_urls_are_mostly_accepted():
    # The idempotence property above must not pass by rejecting everything.
    assert canonical_url("WWW.M.ab-9.xyz.COM.VN:/%2Fe/ả?ở=x1%20&utm_x=1#!/x") == \
        "https://ab-9.xyz.com.vn/%2Fe/%E1%BA%A3?%E1%BB%9F=x1%20"


def test_extract_urls():
    text = ("Xem tại bit.ly/abc, hoặc www.x.vn/y. Link https://m.facebook.com/story.php?story_fbid=1&id=2"
            "&mibextid=xx (nguồn) và (https://x.vn/a_(b)) t.me/kenh; lặp lại: https://bit.ly/abc/")
    assert extract_urls(text) == [
        "https://bit.ly/abc",
        "https://x.vn/y",
        "https://facebook.com/story.php?id=2&story_fbid=1",
        "https://x.vn/a_(b)",
        "https://t.me/kenh",
    ]


@pytest.mark.parametrize(
    "text",
    ["v.a.y t.i.e.n", "Tp.HCM và TP.HN", "email a@gmail.com", "the end.In short", "giá 1.5 triệu", "v.v...",
     "mailto:a@b.vn", ""],
)
def test_extract_urls_ignores_what_is_not_a_link(text):
    assert extract_urls(text) == []


# -- phone numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "national"),
    [
        ("+84 (91) 234-5678", "0912345678"),
        ("84.912.345.678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("(+84) 912345678", "0912345678"),
        ("0912345678", "0912345678"),
        ("091-234-5678", "0912345678"),
        ("  0987 654 321 ", "0987654321"),
        ("0356.789.012", "0356789012"),
        ("tel:+84912345678", "0912345678"),
        ("０９１２３４５６７８", "0912345678"),  # full-width digits from some keyboards
        ("(024) 3825 1234", "02438251234"),
        ("+84 236 382 1234", "02363821234"),
        ("0223456789", "0223456789"),  # 10-digit landline
        ("01689123456", "0389123456"),  # renumbered in 2018
        ("0128 123 4567", "0781234567"),
        ("18008108", "18008108"),
        ("1800 8108", "18008108"),
        ("1900.6600", "19006600"),
        ("1900 123 456", "1900123456"),
        ("5656", "5656"),
        ("113", "113"),
    ],
)
def test_normalize_phone(written, national):
    assert normalize_phone(written) == national


@pytest.mark.parametrize(
    "text",
    ["", "abc", "5.000.000đ", "5.000.000", "12/05/2024", "+1 555 123 4567", "+5656", "56 56", "12",
     "0612345678", "091234567", "09123456789", "0912345678 0987654321", "+84 91 + 234", "0912x45678",
     "0012345", "1800 12", "0168 123 456"],
)
def test_not_a_phone(text):
    assert normalize_phone(text) is None


def test_phone_kind():
    assert phone_kind("0912345678") == "mobile"
    assert phone_kind("02438251234") == "landline"
    assert phone_kind("18008108") == "service"
    assert phone_kind("5656") == "short_code"
    assert phone_kind("+84912345678") is None


_PHONE_TEXT = st.text(alphabet="0123456789841 .-()+", max_size=18)


@given(_PHONE_TEXT)
def test_normalize_phone_is_idempotent(text):
    once = normalize_phone(text)
    if once is not None:
        assert normalize_phone(once) == once
        assert once.isdigit() and phone_kind(once) is not None


@given(st.sampled_from(["0", "+84 ", "84", "0084 ", "+84 (0)"]), st.sampled_from("35789"),
       st.lists(st.integers(0, 9), min_size=8, max_size=8), st.sampled_from(["", " ", ".", "-"]))
def test_every_mobile_spelling_meets(prefix, second, rest, sep):
    digits = second + "".join(map(str, rest))
    written = prefix + sep.join([digits[:2], digits[2:5], digits[5:]])
    assert normalize_phone(written) == "0" + digits
    assert extract_phones(f"Liên hệ {written} nhé") == ["0" + digits]


def test_extract_phones():
    text = ("Gọi ngay 0912.345.678 hoặc +84 98 765 4321 để vay 5.000.000đ, lãi 19.000.000 đồng. "
            "Ngày 12/05/2024 0909123456. Soạn DK gửi 9029. Tổng đài 18008108, hotline: 1900 6600. "
            "Có 2024 người, thế kỷ 1800-1900. CCCD 001203012345. STK 19036012345678. "
            "Gọi lại 0912 345 678 (trùng).")
    assert extract_phones(text) == ["0912345678", "0987654321", "0909123456", "9029", "18008108", "19006600"]


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("số 84.912.345.678 nhé", ["0912345678"]),
        ("(+84) 912 345 678 / 0987654321", ["0912345678", "0987654321"]),
        ("12-05-2024 0912345679", ["0912345679"]),
        ("0912345678 0987654321", ["0912345678", "0987654321"]),
        ("Zalo: 0168.912.3456", ["0389123456"]),
        ("nhắn tin đến số 5656", ["5656"]),
        ("gọi 0 9 1 2 3 4 5 6 7 8", ["0912345678"]),
        ("giá 19.000.000", []),
        ("thưởng 19000000đ", []),
        ("$ 84912345678", []),
        ("5.000.000đ, 2.000.000 VND, 50%", []),
        ("năm 2024 có 5656 người", []),
        ("ngày 02.09.1945 và 2024-05-12", []),
    ],
)
def test_extract_phones_cases(text, phones):
    assert extract_phones(text) == phones


# -- teencode tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Ko dc j đâu", ["khong", "duoc", "gi", "dau"]),
        ("k đk hok được", ["khong", "duoc", "khong", "duoc"]),
        ("ntn vs ng ta", ["nhu", "the", "nao", "voi", "nguoi", "ta"]),
        ("bn ck vào tk", ["ban", "chuyen", "khoan", "vao", "tai", "khoan"]),
        ("cho xin sđt", ["cho", "xin", "so", "dien", "thoai"]),
        ("V.A.Y t.i.ề.n nhanh", ["vay", "tien", "nhanh"]),
        ("v a y t i e n", ["vay", "tien"]),  # cut into the fewest syllables
        ("c l i c k", ["click"]),  # not Vietnamese: kept whole
        ("ch0 t0i", ["cho", "toi"]),
        ("l0an kh0ng thế chấp", ["loan", "khong", "the", "chap"]),
        ("he11o t1en", ["hello", "tien"]),
        ("quaaaa đẹppp", ["qua", "dep"]),
        ("kkkk", ["kkkk"]),
        ("vay 5tr, 500k, 2 củ, 100 tr", ["vay", "5", "trieu", "500", "nghin", "2", "trieu", "100", "trieu"]),
        ("tr k", ["tr", "khong"]),  # units only after a number
        ("5.000.000đ", ["5000000", "dong"]),
        ("100.000.000 VND", ["100000000", "dong"]),
        ("LH 0912.345.678 hoặc +84 91 234 5678", ["lien", "he", "0912345678", "hoac", "0912345678"]),
        ("gọi 0 9 1 2 3 4 5 6 7 8", ["goi", "0912345678"]),
        ("4G 5G mp3 2024", ["4g", "5g", "mp3", "2024"]),
        ("xem https://m.facebook.com/x?fbclid=1 ngay", ["xem", "https://facebook.com/x", "ngay"]),
        ("Truy cập bit.ly/abc.", ["truy", "cap", "https://bit.ly/abc"]),
        ("", []),
    ],
)
def test_teencode_tokens(text, tokens):
    assert teencode_tokens(text) == tokens


def test_teencode_variants_meet():
    standard = teencode_tokens("Không được chuyển khoản cho người lạ")
    for variant in ["ko dc ck cho ng lạ", "KHÔNG ĐƯỢC CHUYỂN KHOẢN cho người lạ", "k đk ck cho ng la",
                    "kh0ng dc ck ch0 ng la", "khônggg được ck cho ng lạ"]:
        assert teencode_tokens(variant) == standard, variant


def test_teencode_table_maps_to_folded_words():
    assert len(TEENCODE) >= 60
    for short, words in TEENCODE.items():
        assert short == fold(short)
        assert words == fold(words)


_VI_CHAT = st.lists(
    st.sampled_from(
        list("aăâeêioôơuưyđbcdghklmnpqrstvxzjwf0123456789 .,+-()/:@%!?AĐKÔ")
        + ["ko", "dc", "vs", "tr", "k", "5tr", "v.a.y", "kh0ng", "quaaa", "0912", "345 678", "+84", "ả",
           "ệ", "ừ", "\u0301", "\u00a0", "\n", ".vn", "bit.ly/", "https://", "www."]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300)
@given(_VI_CHAT)
def test_teencode_tokens_of_folded_text_are_the_same(text):
    assume(not extract_urls(text))  # folding destroys a link: the one thing it may change
    assert teencode_tokens(fold(text)) == teencode_tokens(text)


@given(_VI_CHAT)
def test_teencode_tokens_are_single_words_or_links(text):
    for token in teencode_tokens(text):
        assert token and " " not in token
        assert token.isascii()


# -- shingles ----------------------------------------------------------------------------------


def test_shingles():
    assert shingles("Không có thật", 5) == shingles("khong  co THAT", 5)
    assert shingles("Không có thật", 5) == {"khong", "hong ", "ong c", "ng co", "g co ", " co t", "co th",
                                             "o tha", " that"}
    assert shingles("abc", 5) == {"abc"}
    assert shingles("  ...  ", 5) == set()
    assert shingles("abcd", 2) == {"ab", "bc", "cd"}
    with pytest.raises(ValueError, match="k"):
        shingles("abc", 0)


def test_word_shingles():
    assert word_shingles(["khong", "co", "that", "dau"], 3) == {"khong co that", "co that dau"}
    assert word_shingles(["khong", "co"], 3) == {"khong co"}
    assert word_shingles([], 3) == set()
    assert word_shingles(iter(["a", "b"]), 1) == {"a", "b"}
    assert word_shingles(teencode_tokens("ko co that dau"), 2) == word_shingles(
        teencode_tokens("Không có thật đâu"), 2)
    with pytest.raises(TypeError, match="tokens"):
        word_shingles("khong co that", 3)
    with pytest.raises(ValueError):
        word_shingles(["a"], 0)
