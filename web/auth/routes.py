"""Views of the auth blueprint."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from attendance import access
from web.auth import bp
from web.auth.forms import LanguageForm, LoginForm, PasswordForm
from web.auth.throttle import LoginThrottle
from web.db import get_db, now
from web.i18n import LANGUAGES, _
from web.security import SignedInUser, current_account, safe_next, signed_in_required


def throttle() -> LoginThrottle:
    ext = current_app.extensions
    if "login_throttle" not in ext:
        cfg = current_app.config
        ext["login_throttle"] = LoginThrottle(
            cfg["LOGIN_THROTTLE_ATTEMPTS"],
            cfg["LOGIN_THROTTLE_ADDRESS_ATTEMPTS"],
            cfg["LOGIN_THROTTLE_WINDOW_SECONDS"],
        )
    return ext["login_throttle"]


def client_address() -> str:
    # Behind a reverse proxy, wrap the app in werkzeug's ProxyFix so this is the client's.
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_account() is not None:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = client_address()
        moment = now().timestamp()
        wait = throttle().retry_after(username, address, moment)
        if wait:
            flash(_("Quá nhiều lần đăng nhập không thành công. Vui lòng thử lại sau {minutes} phút.",
                    minutes=max(1, (wait + 59) // 60)), "error")
            response = current_app.make_response(render_template("auth/login.html", form=form))
            response.status_code = 429
            response.headers["Retry-After"] = str(wait)
            return response
        db = get_db()
        user = access.find_user(db, username)  # whatever the case
        # The password is checked even for an unknown or inactive user, so neither the
        # answer nor its timing tells whether an account exists.
        ok = access.verify_password(user.password_hash if user else None, form.password.data)
        if ok and user is not None and user.active:
            throttle().succeeded(username, address)
            if access.password_needs_rehash(user.password_hash):
                user.password_hash = access.hash_password(form.password.data)
            session.clear()  # a fresh session: nothing from before signing in carries over
            login_user(SignedInUser(user))
            session.permanent = True
            access.log_action(db, actor=user.username, action="auth.login", at=now(),
                              details={"address": address})
            return redirect(safe_next(form.next.data) or url_for("home.index"))
        throttle().failed(username, address, moment)
        flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
    elif request.method == "POST":
        status = 400
    response = current_app.make_response(render_template("auth/login.html", form=form))
    response.status_code = status
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in_required
def change_password():
    user = current_account()
    form = PasswordForm()
    if form.validate_on_submit():
        if not access.verify_password(user.password_hash, form.current.data):
            form.current.errors.append("Mật khẩu hiện tại không đúng")
        else:
            try:
                access.set_password(user, form.new.data)
            except access.AccessError:
                form.new.errors.append("Mật khẩu mới không hợp lệ (ít nhất 8 ký tự, khác tên đăng nhập)")
            else:
                access.log_action(get_db(), actor=user.username, action="auth.password_changed",
                                  at=now(), target=f"user:{user.username}")
                # The session id carries the password's fingerprint: sign in again under it.
                login_user(SignedInUser(user))
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.lang.data not in LANGUAGES:
        abort(400)
    session["lang"] = form.lang.data
    user = current_account()
    if user is not None:
        user.language = form.lang.data
    return redirect(safe_next(form.next.data) or url_for("home.index"))
