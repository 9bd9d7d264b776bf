"""Sign-in, password and language forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from attendance.access import MIN_PASSWORD_LENGTH


REQUIRED = "Vui lòng nhập trường này"
TOO_LONG = "Quá dài"


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=80, message=TOO_LONG)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=1024, message=TOO_LONG)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(REQUIRED)])
    new = PasswordField(
        "Mật khẩu mới", validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD_LENGTH, max=1024, message="Mật khẩu phải có ít nhất 8 ký tự"),
        ],
    )
    confirm = PasswordField(
        "Nhập lại mật khẩu mới", validators=[DataRequired(REQUIRED), EqualTo("new", message="Hai mật khẩu không khớp")]
    )


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired(REQUIRED)])
    next = HiddenField()
