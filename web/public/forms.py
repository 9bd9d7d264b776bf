"""The citizen's feedback form on a badge's public page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from attendance.feedback import MAX_COMMENT, MAX_CONTACT, RATINGS
from web.auth.forms import TOO_LONG

RATING_REQUIRED = "Vui lòng chọn mức độ hài lòng"


class FeedbackForm(FlaskForm):
    # Radios rendered by the template; a StringField keeps the error messages Vietnamese.
    rating = StringField("Mức độ hài lòng", validators=[
        DataRequired(RATING_REQUIRED), AnyOf([str(r) for r in RATINGS], message=RATING_REQUIRED)])
    comment = TextAreaField("Nội dung góp ý (không bắt buộc)", validators=[
        Optional(), Length(max=MAX_COMMENT, message=TOO_LONG)])
    contact = StringField("Số điện thoại hoặc email để liên hệ lại (không bắt buộc)", validators=[
        Optional(), Length(max=MAX_CONTACT, message=TOO_LONG)])
