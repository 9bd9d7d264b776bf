"""The admin's audit log page names each action in Vietnamese, the code in its title."""

from __future__ import annotations

from datetime import datetime, timezone

from attendance.audit import record

AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def test_actions_are_labelled_with_the_code_in_the_title(login_as, session_factory):
    with session_factory() as session:
        record(session, actor="head_snv", action="excuse.approved", at=AT,
               target="employee:E-SNV")
        record(session, actor="old", action="legacy.thing", at=AT)  # unknown to this release
        session.commit()
    client = login_as("admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert ('<span class="action" title="excuse.approved">Duyệt đơn nghỉ phép, công tác</span>'
            in html)
    assert '<span class="action" title="auth.login">Đăng nhập</span>' in html  # the sign-in
    assert '<span class="action" title="legacy.thing">legacy.thing</span>' in html
    assert "<code>excuse.approved</code>" not in html
