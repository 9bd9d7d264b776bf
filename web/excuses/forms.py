"""Forms of the excuses blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from web.auth.forms import REQUIRED, TOO_LONG

# (value, Vietnamese label); selects are rendered by macros.select_field.
KIND_CHOICES = [("leave", "Nghỉ phép"), ("business_trip", "Đi công tác"), ("other", "Lý do khác")]
PART_CHOICES = [("full", "Cả ngày"), ("morning", "Buổi sáng"), ("afternoon", "Buổi chiều")]
STATUS_CHOICES = [("pending", "Chờ duyệt"), ("approved", "Đã duyệt"), ("rejected", "Từ chối"),
                  ("withdrawn", "Đã rút"), ("revoked", "Đã hủy duyệt")]
BAD_DATE = "Ngày không hợp lệ"


class ExcuseForm(FlaskForm):
    kind = StringField("Loại đơn", validators=[
        DataRequired(REQUIRED), AnyOf([v for v, _ in KIND_CHOICES], message="Loại đơn không hợp lệ")])
    # Dates are <input type="date"> (ISO yyyy-mm-dd), parsed by the view with BAD_DATE as
    # the error: WTForms' DateField would answer in English.
    start_date = StringField("Từ ngày", validators=[DataRequired(BAD_DATE), Length(max=10, message=BAD_DATE)])
    end_date = StringField("Đến ngày", validators=[DataRequired(BAD_DATE), Length(max=10, message=BAD_DATE)])
    part = StringField("Thời gian", validators=[
        DataRequired(REQUIRED), AnyOf([v for v, _ in PART_CHOICES], message="Thời gian không hợp lệ")])
    note = TextAreaField("Lý do", validators=[DataRequired(REQUIRED),
                                              Length(max=1000, message=TOO_LONG)])


class DecisionForm(FlaskForm):
    decision = StringField("Quyết định", validators=[
        DataRequired(REQUIRED), AnyOf(["approved", "rejected"], message="Quyết định không hợp lệ")])
    reason = TextAreaField("Lý do (bắt buộc khi từ chối)",
                           validators=[Optional(), Length(max=1000, message=TOO_LONG)])


class WithdrawForm(FlaskForm):
    """Nothing to fill in: the button, with its CSRF token."""


class RevokeForm(FlaskForm):
    reason = TextAreaField("Lý do hủy duyệt")  # required and bounded by the service
