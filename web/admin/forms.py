"""Forms of the admin blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, Regexp

from attendance.access import MIN_PASSWORD_LENGTH, ROLE_LABELS
from attendance.imports import KIND_LABELS
from web.auth.forms import REQUIRED, TOO_LONG

# The role picker's order: the most common first.
ROLE_CHOICES = [(role, ROLE_LABELS[role]) for role in ("staff", "unit_head", "inspector", "admin")]


class UserForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[
        DataRequired(REQUIRED), Length(min=2, max=80, message="Từ 2 đến 80 ký tự"),
        Regexp(r"^[A-Za-z0-9_.@-]+$", message="Chỉ dùng chữ không dấu, số và . _ @ -"),
    ])
    # Selects are rendered from ROLE_CHOICES / the unit list by the template (see
    # ``select_field`` in macros.html): WTForms' SelectField choices API is in flux.
    role = StringField("Vai trò", validators=[
        DataRequired(REQUIRED), AnyOf([v for v, _ in ROLE_CHOICES], message="Vai trò không hợp lệ"),
    ])
    unit = StringField("Đơn vị (thủ trưởng đơn vị)", validators=[Optional(), Length(max=40)])
    employee = StringField("Mã cán bộ (cán bộ, công chức)",
                           validators=[Optional(), Length(max=40, message=TOO_LONG)])
    password = PasswordField("Mật khẩu", validators=[
        DataRequired(REQUIRED),
        Length(min=MIN_PASSWORD_LENGTH, message="Mật khẩu phải có ít nhất 8 ký tự"),
        Length(max=1024, message="Mật khẩu dài quá 1024 ký tự"),
    ])
    confirm = PasswordField("Nhập lại mật khẩu", validators=[
        DataRequired(REQUIRED), EqualTo("password", message="Hai mật khẩu không khớp"),
    ])


class StationForm(FlaskForm):
    code = StringField("Mã điểm quét", validators=[
        DataRequired(REQUIRED), Length(max=40, message=TOO_LONG),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="Chỉ dùng chữ không dấu, số và . _ -"),
    ])
    name = StringField("Tên / vị trí", validators=[Optional(), Length(max=255, message=TOO_LONG)])
    unit = StringField("Đơn vị", validators=[DataRequired(REQUIRED), Length(max=40)])


IMPORT_KINDS = list(KIND_LABELS.items())
_KIND_VALUES = [v for v, _ in IMPORT_KINDS]


class ImportForm(FlaskForm):
    kind = StringField("Loại dữ liệu", validators=[
        DataRequired(REQUIRED), AnyOf(_KIND_VALUES, message="Loại dữ liệu không hợp lệ"),
    ])


class ConfirmImportForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired(), AnyOf(_KIND_VALUES)])
    upload = HiddenField(validators=[DataRequired(), Length(max=80)])
    # The name the admin's file had, for the audit log (the upload is kept under ``upload``).
    filename = HiddenField(validators=[Optional(), Length(max=255)])
    skip_bad_rows = BooleanField("Bỏ qua dòng lỗi, chỉ nhập các dòng hợp lệ")


class UserEditForm(FlaskForm):
    role = StringField("Vai trò", validators=[
        DataRequired(REQUIRED), AnyOf([v for v, _ in ROLE_CHOICES], message="Vai trò không hợp lệ"),
    ])
    unit = StringField("Đơn vị (thủ trưởng đơn vị)", validators=[Optional(), Length(max=40)])
    employee = StringField("Mã cán bộ (cán bộ, công chức)",
                           validators=[Optional(), Length(max=40, message=TOO_LONG)])


class UserActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired(), AnyOf(["0", "1"])])
