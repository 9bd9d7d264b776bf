"""Error answers: JSON ``{"error": "…"}`` under /api/, a Vietnamese page elsewhere.

Nothing answers with a stack trace; unexpected errors are logged with theirs.
"""

from __future__ import annotations

from flask import Flask, Request, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from web.security import is_api_request

# Short, fixed API messages: a parser's wording (which can echo input) is not passed on.
API_MESSAGES = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request too large",
    415: "unsupported media type",
    422: "unprocessable request",
    429: "too many requests",
    500: "internal server error",
    501: "not implemented",
    503: "service unavailable",
}

PAGE_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    413: "Dữ liệu gửi lên quá lớn",
    429: "Quá nhiều lần thử",
    500: "Lỗi hệ thống",
}


# What a page's 400 says was wrong, for the mistakes a person makes in an address.
HINTS = {
    "date": "Ngày không hợp lệ: cần dạng năm-tháng-ngày (ví dụ 2026-11-23), năm từ 1900 đến "
            "9998.",
    "month": "Tháng không hợp lệ: cần dạng năm-tháng (ví dụ 2026-11), năm từ 1900 đến 9998.",
    "log_filter": "Bộ lọc không hợp lệ: khoảng ngày tối đa 366 ngày, từ ngày không sau đến "
                  "ngày; loại vi phạm, trạng thái và số trang theo danh sách có sẵn.",
}


def bad_request(hint: str) -> BadRequest:
    """A 400 whose page says what was wrong (``HINTS[hint]``): ``raise bad_request("date")``."""
    exc = BadRequest()
    exc.hint = HINTS[hint]
    return exc


class ApiError(HTTPException):
    """Raise from an API view to answer ``{"error": message}`` with ``code``."""

    def __init__(self, code: int, message: str):
        super().__init__(description=message)
        self.code = code


class AppRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            raise ApiError(415, "expected a JSON body (Content-Type: application/json)")
        raise ApiError(400, "malformed JSON")


def init_app(app: Flask) -> None:
    app.request_class = AppRequest

    @app.before_request
    def _refuse_nul_characters():
        # No text a person types holds NUL, and PostgreSQL refuses it in a query (500).
        # Path segments reach views through converters, which handle their own refusals.
        fields = list(request.args.values())
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields.extend(request.form.values())
        if any("\x00" in value for value in fields):
            raise ApiError(400, "invalid characters in the request") if is_api_request() \
                else BadRequest()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_response(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(InternalServerError())


def error_response(exc: HTTPException):
    code = exc.code or 500
    if is_api_request():
        if isinstance(exc, ApiError):
            message = exc.description
        else:
            message = API_MESSAGES.get(code, exc.name.lower())
        response = jsonify(error=message)
        response.status_code = code
    else:
        from web.i18n import _

        if isinstance(exc, CSRFError):
            title = _("Biểu mẫu đã hết hạn hoặc không hợp lệ, vui lòng thử lại")
        else:
            title = _(PAGE_TITLES.get(code, "Lỗi"))
        try:
            body = render_template("errors/error.html", code=code, title=title,
                                   hint=getattr(exc, "hint", None))
        except Exception:  # the page itself failed (e.g. the database is down): plain text
            current_app.logger.exception("error page failed")
            body, code = f"{code} {title}", code
            response = make_response(body)
            response.mimetype = "text/plain"
        else:
            response = make_response(body)
        response.status_code = code
    if getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if code == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
