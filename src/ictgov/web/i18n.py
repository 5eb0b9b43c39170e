"""Vietnamese first, English second: message catalogs, `t()`, and the language of a request.

A message is registered once as a (Vietnamese, English) pair, so a key cannot exist in
one language only::

    from ictgov.web.i18n import register
    register({
        "stats.title": ("Chỉ tiêu", "Indicators"),
        "stats.rows": ("{n} dòng", "{n} rows"),
    })

Templates call ``t("stats.rows", n=3)`` (bound to the request's language by
``deps.render``); Python calls ``t("stats.rows", lang, n=3)``. Placeholders use
``str.format`` names and must be the same in both languages.

The language of a request: ``?lang=en|vi`` (remembered in a cookie), else the cookie,
else Vietnamese. `LanguageMiddleware` decides it once and puts it in
``request.state.lang``.

A missing key is an error under pytest (or with ICTGOV_I18N_STRICT=1), so a test that
renders the page fails; in production the key itself is shown and a warning logged.
"""

from __future__ import annotations

import logging
import os
import string
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

log = logging.getLogger(__name__)

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_COOKIE = "ictgov_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# Vietnam keeps one offset all year (no daylight saving).
VN_TZ = timezone(timedelta(hours=7), "ICT")

CATALOGS: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def register(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add (Vietnamese, English) pairs; a key registered twice must say the same thing."""
    for key, pair in messages.items():
        if not isinstance(pair, tuple) or len(pair) != 2 or not all(pair):
            raise ValueError(f"i18n {key!r}: give a (vi, en) pair of non-empty strings")
        vi, en = (unicodedata.normalize("NFC", s) for s in pair)
        if _fields(vi) != _fields(en):
            raise ValueError(f"i18n {key!r}: placeholders differ: {_fields(vi)} vs {_fields(en)}")
        if key in CATALOGS["vi"] and (CATALOGS["vi"][key], CATALOGS["en"][key]) != (vi, en):
            raise ValueError(f"i18n {key!r}: registered twice with different text")
        CATALOGS["vi"][key] = vi
        CATALOGS["en"][key] = en


def _strict() -> bool:
    return bool(os.environ.get("ICTGOV_I18N_STRICT")) or "PYTEST_CURRENT_TEST" in os.environ


def t(key: str, lang: str = DEFAULT_LANG, /, **kw: object) -> str:
    """The message `key` in `lang`, with `kw` filled in."""
    catalog = CATALOGS.get(lang) or CATALOGS[DEFAULT_LANG]
    text = catalog.get(key)
    if text is None:
        if _strict():
            raise KeyError(f"i18n: no message {key!r} (register it in both vi and en)")
        log.warning("i18n: missing message %r", key)
        return key
    if not kw:
        return text
    try:
        return text.format(**kw)
    except (KeyError, IndexError):
        if _strict():
            raise
        return text


def translator(lang: str) -> Callable[..., str]:
    """`t` bound to one language, as templates get it."""

    def bound(key: str, /, **kw: object) -> str:
        return t(key, lang, **kw)

    return bound


def has(key: str) -> bool:
    return key in CATALOGS["vi"]


def missing_keys() -> dict[str, list[str]]:
    """Keys that one language has and another lacks (always empty while `register` is used)."""
    every = set().union(*CATALOGS.values())
    gaps = {lang: sorted(every - set(CATALOGS[lang])) for lang in LANGS}
    return {lang: keys for lang, keys in gaps.items() if keys}


def normalise_lang(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()[:2]
    return value if value in LANGS else None


def switch_url(path: str, query_string: str, lang: str) -> str:
    """The current page in another language: same path and query, `lang` replaced."""
    params = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "lang"]
    params.append(("lang", lang))
    return f"{path}?{urlencode(params)}"


# --- formatting ----------------------------------------------------------------------


def format_number(value: float | None, lang: str = DEFAULT_LANG, digits: int | None = None) -> str:
    """1234567.5 -> "1.234.567,5" (vi) or "1,234,567.5" (en); None -> "–"."""
    if value is None:
        return "–"
    if digits is None:
        digits = 0 if float(value).is_integer() else 2
    text = f"{value:,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_datetime(value: datetime | date | None, lang: str = DEFAULT_LANG) -> str:
    """A stored UTC time in Vietnam's time: "23/11/2025 14:05" (vi), "2025-11-23 14:05" (en)."""
    if value is None:
        return "–"
    if not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(VN_TZ)
    return local.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")


# --- the language of a request --------------------------------------------------------


class LanguageMiddleware:
    """Pure ASGI: decide the request's language once; remember `?lang=` in a cookie."""

    def __init__(self, app, default: str = DEFAULT_LANG, secure: bool = False) -> None:
        self.app = app
        self.default = normalise_lang(default) or DEFAULT_LANG
        self.secure = secure

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        chosen = normalise_lang(query.get("lang"))
        lang = chosen or self._from_cookie(scope) or self.default
        scope.setdefault("state", {})["lang"] = lang
        if chosen is None:
            await self.app(scope, receive, send)
            return

        cookie = f"{LANG_COOKIE}={chosen}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax"
        if self.secure:
            cookie += "; Secure"

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _from_cookie(scope) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                jar = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except CookieError:  # a malformed Cookie header: as if there were none
                    return None
                if LANG_COOKIE in jar:
                    return normalise_lang(jar[LANG_COOKIE].value)
        return None


# --- the shell's own messages ---------------------------------------------------------

register({
    # layout
    "app.name": ("ictgov", "ictgov"),
    "app.title": ("ictgov — Bộ Thông tin và Truyền thông",
                  "ictgov — Ministry of Information and Communications"),
    "app.footer": ("Nền tảng mở của Bộ Thông tin và Truyền thông và các Sở.",
                   ("Open platform of the Ministry of Information and Communications "
                   "and the provincial departments.")),
    "nav.label": ("Điều hướng chính", "Main navigation"),
    "nav.skip": ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    "nav.home": ("Tổng quan", "Dashboard"),
    "nav.stats": ("Chỉ tiêu", "Indicators"),
    "nav.upload": ("Tải lên", "Upload"),
    "nav.review": ("Báo cáo", "Review"),
    "nav.admin": ("Quản trị", "Admin"),
    "nav.tipline": ("Tin giả", "Fake news"),
    "nav.tipline_report": ("Phản ánh", "Report"),
    "nav.factcheck": ("Kiểm chứng", "Fact-checking"),
    "nav.hotline": ("Tổng đài", "Hotline"),
    "nav.dx": ("Chuyển đổi số", "Digital transformation"),
    "nav.login": ("Đăng nhập", "Log in"),
    "nav.logout": ("Đăng xuất", "Log out"),
    "nav.signed_in_as": ("Tài khoản: {name}", "Signed in as {name}"),
    "lang.label": ("Ngôn ngữ", "Language"),
    "lang.vi": ("Tiếng Việt", "Tiếng Việt"),
    "lang.en": ("English", "English"),
    # roles
    "role.admin": ("Quản trị viên", "Administrator"),
    "role.analyst": ("Chuyên viên phân tích", "Analyst"),
    "role.province_officer": ("Cán bộ Sở", "Provincial officer"),
    "role.fact_checker": ("Kiểm chứng viên", "Fact-checker"),
    "role.hotline_agent": ("Tổng đài viên", "Hotline agent"),
    "role.operator": ("Doanh nghiệp viễn thông", "Telecom operator"),
    "role.enterprise": ("Doanh nghiệp", "Enterprise"),
    "role.press_agency": ("Cơ quan báo chí", "Press agency"),
    "role.appraiser": ("Thành viên hội đồng thẩm định", "Appraisal council member"),
    "role.provider": ("Nhà cung cấp nền tảng", "Platform provider"),
    # login
    "login.title": ("Đăng nhập", "Log in"),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Log in"),
    "login.invalid": ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password."),
    "login.required": ("Hãy nhập tên đăng nhập và mật khẩu.", "Enter your username and password."),
    "login.rate_limited": ("Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút.",
                           "Too many failed log-ins. Try again in {minutes} minutes."),
    "login.logged_out": ("Bạn đã đăng xuất.", "You have logged out."),
    # errors
    "job.running": ("Đang xử lý ở chế độ nền: {state}, {pct}%. Trang tự cập nhật.",
                    "Working in the background: {state}, {pct}%. This page updates itself."),
    "job.failed": ("Tác vụ nền gặp lỗi và đã được ghi lại cho quản trị viên: {error}",
                   "The background job failed; the error is recorded for the administrators: {error}"),
    "error.title": ("Lỗi {status}", "Error {status}"),
    "error.back_home": ("Về trang chủ", "Back to the home page"),
    "error.400": ("Yêu cầu không hợp lệ.", "The request is not valid."),
    "error.401": ("Bạn cần đăng nhập.", "You need to log in."),
    "error.403": ("Bạn không có quyền thực hiện việc này.", "You are not allowed to do this."),
    "error.404": ("Không tìm thấy trang.", "Page not found."),
    "error.405": ("Phương thức không được hỗ trợ.", "This method is not allowed here."),
    "error.409": ("Xung đột với dữ liệu hiện có.", "This conflicts with existing data."),
    "error.413": ("Dữ liệu gửi lên quá lớn.", "What was sent is too large."),
    "error.422": ("Dữ liệu gửi lên không hợp lệ.", "What was sent is not valid."),
    "error.429": ("Quá nhiều yêu cầu. Hãy thử lại sau.", "Too many requests. Try again later."),
    "error.500": ("Đã có lỗi ở máy chủ. Lỗi đã được ghi lại.",
                  "Something went wrong on the server. It has been logged."),
    "error.503": ("Dịch vụ tạm thời không sẵn sàng.", "The service is temporarily unavailable."),
    "error.other": ("Không thể xử lý yêu cầu.", "The request could not be handled."),
    "error.csrf": (("Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã CSRF). "
                    "Hãy tải lại trang và gửi lại."),
                   ("The form has expired or is not valid (CSRF token missing or wrong). "
                   "Reload the page and send it again.")),
    "error.fields": ("Các trường cần sửa:", "Fields to correct:"),
    "error.detail": ("Chi tiết: {detail}", "Detail: {detail}"),
    # forms and fields
    "form.save": ("Lưu", "Save"),
    "form.filter": ("Lọc", "Filter"),
    "form.optional": ("không bắt buộc", "optional"),
    "field.username": ("Tên đăng nhập", "Username"),
    "field.full_name": ("Họ và tên", "Full name"),
    "field.email": ("Thư điện tử", "E-mail"),
    "field.password": ("Mật khẩu", "Password"),
    "field.role": ("Vai trò", "Role"),
    "field.province_code": ("Mã tỉnh (GSO)", "Province code (GSO)"),
    "field.operator_code": ("Mã nhà mạng", "Operator code"),
    "field.enterprise_ref": ("Mã số thuế doanh nghiệp", "Enterprise tax code"),
    "field.province_code.hint": ("Chỉ cho Cán bộ Sở, ví dụ 01 (Hà Nội).",
                                 "Only for a provincial officer, e.g. 01 (Hà Nội)."),
    "field.operator_code.hint": ("Chỉ cho doanh nghiệp viễn thông, ví dụ VTL.",
                                 "Only for a telecom operator, e.g. VTL."),
    "field.enterprise_ref.hint": ("Chỉ cho doanh nghiệp hoặc nhà cung cấp nền tảng.",
                                  "Only for an enterprise or a platform provider."),
    "field.agency_ref": ("Mã cơ quan báo chí", "Press agency code"),
    "field.agency_ref.hint": ("Chỉ cho cơ quan báo chí (số giấy phép hoạt động).",
                              "Only for a press agency (its licence number)."),
    "field.password.hint": ("Ít nhất 8 ký tự.", "At least 8 characters."),
    "account.role_unknown": ("Vai trò không hợp lệ.", "Unknown role."),
    "account.username_invalid": ("Bắt buộc, tối đa 80 ký tự.", "Required, at most 80 characters."),
    "account.username_taken": ("Tên đăng nhập «{value}» đã có người dùng.",
                               "Username «{value}» is taken."),
    "account.password_short": ("Mật khẩu cần ít nhất 8 ký tự.",
                               "The password needs at least 8 characters."),
    "account.binding_required": ("Bắt buộc với vai trò {role}.", "Required for the role {role}."),
    "account.binding_forbidden": ("Chỉ dùng cho vai trò {role}.", "Only for the role {role}."),
    "account.no_province": ("Không có tỉnh mã «{value}».", "No province with code «{value}»."),
    # admin: users
    "admin.users": ("Người dùng", "Users"),
    "admin.audit": ("Nhật ký thay đổi", "Audit log"),
    "admin.users.title": ("Quản lý người dùng", "Users"),
    "admin.users.create": ("Tạo tài khoản", "Create an account"),
    "admin.users.created": ("Đã tạo tài khoản {username}.", "Account {username} created."),
    "admin.users.none": ("Chưa có người dùng.", "No users yet."),
    "admin.users.binding": ("Đơn vị", "Organisation"),
    "admin.users.status": ("Trạng thái", "Status"),
    "admin.users.active": ("Đang hoạt động", "Active"),
    "admin.users.inactive": ("Đã khoá", "Deactivated"),
    "admin.users.last_login": ("Đăng nhập gần nhất", "Last log-in"),
    "admin.users.tokens": ("Mã truy cập API", "API tokens"),
    "admin.users.actions": ("Thao tác", "Actions"),
    "admin.users.deactivate": ("Khoá", "Deactivate"),
    "admin.users.activate": ("Mở khoá", "Reactivate"),
    "admin.users.deactivated": ("Đã khoá tài khoản {username}.", "Account {username} deactivated."),
    "admin.users.activated": ("Đã mở khoá tài khoản {username}.",
                              "Account {username} reactivated."),
    "admin.users.not_self": ("Không thể tự khoá tài khoản của mình.",
                             "You cannot deactivate your own account."),
    "admin.users.not_found": ("Không có người dùng này.", "No such user."),
    "admin.tokens.name": ("Tên mã", "Token name"),
    "admin.tokens.issue": ("Cấp mã API", "Issue an API token"),
    "admin.tokens.issued": ("Mã API mới cho {username} (chỉ hiện một lần, hãy lưu lại ngay):",
                            "New API token for {username} (shown once only, copy it now):"),
    "admin.tokens.revoke": ("Thu hồi", "Revoke"),
    "admin.tokens.revoked": ("Đã thu hồi mã {prefix}….", "Token {prefix}… revoked."),
    "admin.tokens.not_found": ("Không có mã này.", "No such token."),
    "admin.tokens.name_required": ("Hãy đặt tên cho mã (tối đa 100 ký tự).",
                                   "Give the token a name (at most 100 characters)."),
    # admin: audit
    "admin.audit.title": ("Nhật ký thay đổi", "Audit log"),
    "admin.audit.entity": ("Đối tượng", "Entity"),
    "admin.audit.all": ("Tất cả", "All"),
    "admin.audit.at": ("Thời điểm", "When"),
    "admin.audit.actor": ("Người thực hiện", "Actor"),
    "admin.audit.action": ("Thao tác", "Action"),
    "admin.audit.entity_id": ("Mã", "Id"),
    "admin.audit.change": ("Thay đổi", "Change"),
    "admin.audit.before": ("Trước", "Before"),
    "admin.audit.after": ("Sau", "After"),
    "admin.audit.none": ("Không có mục nào.", "No entries."),
    "admin.audit.count": ("{n} mục mới nhất", "Latest {n} entries"),
})
