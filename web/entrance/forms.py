"""Forms of the entrance blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from web.auth.forms import REQUIRED, TOO_LONG


class NoBadgeForm(FlaskForm):
    employee = HiddenField("Cán bộ", validators=[DataRequired(REQUIRED), Length(max=40)])
    # Drawn when the page is shown: submitting the same form twice records once.
    event_id = HiddenField("Mã lượt ghi", validators=[
        DataRequired(REQUIRED), Regexp(r"^[\x21-\x7e]{1,80}$", message="Yêu cầu không hợp lệ"),
    ])
    note = StringField("Ghi chú", validators=[Optional(), Length(max=500, message=TOO_LONG)])


class WithdrawForm(FlaskForm):
    reason = StringField("Lý do hủy", validators=[DataRequired(REQUIRED),
                                                  Length(max=500, message=TOO_LONG)])
