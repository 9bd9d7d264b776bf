"""Views of the dashboard blueprint: the page and its live feed."""

from __future__ import annotations

from flask import current_app, jsonify, render_template

from web.dashboard import DASHBOARD_ROLES, bp, charts, data
from web.db import domain_config, get_db, now
from web.i18n import _
from web.reports.common import today
from web.security import current_account, roles_required

REFRESH_SECONDS = 15  # app.config["DASHBOARD_REFRESH_SECONDS"] overrides it
COMPLIANCE_UNITS = 15  # the chart shows the units with the lowest compliance
STATION_STATUS = {"online": "Đang hoạt động", "silent": "Mất tín hiệu",
                  "off_hours": "Ngoài giờ làm việc"}


def render_today():
    """The dashboard page; also the home page of admins, inspectors and unit heads."""
    from attendance.models import Unit

    day = today()
    units, totals = data.unit_rows(day)
    past = data.history(day)
    trend = charts.lateness_trend(
        [(d, 1 - t.punctuality if t.punctuality is not None else None, t.late, t.present)
         for d, t in past.days],
        title=_("Tỷ lệ đi muộn theo ngày"), empty=_("Chưa có dữ liệu."))
    worst = past.units[:COMPLIANCE_UNITS]
    compliance = charts.compliance_by_unit(
        [(u.unit.name, u.badge_compliance) for u in worst],
        title=_("Tỷ lệ đeo thẻ theo đơn vị"), empty=_("Chưa có dữ liệu."))
    account = current_account()
    unit = get_db().get(Unit, account.unit_id) if account.role == "unit_head" and \
        account.unit_id else None
    return render_template(
        "dashboard/today.html", day=day, day_off=data.day_off(day), unit=unit, units=units,
        totals=totals,
        arrivals=data.arrivals(day), stations=data.stations(day),
        station_status=STATION_STATUS, trend=trend, compliance=compliance,
        more_units=len(past.units) - len(worst), history_days=data.HISTORY_DAYS,
        refresh_seconds=current_app.config.get("DASHBOARD_REFRESH_SECONDS", REFRESH_SECONDS),
        now=now(),
    )


@bp.route("")
@roles_required(*DASHBOARD_ROLES)
def index():
    return render_today()


@bp.route("/live.json")
@roles_required(*DASHBOARD_ROLES)
def live():
    """The parts of the page that change during the day, for the page's refresh."""
    day = today()
    units, totals = data.unit_rows(day)
    tz = domain_config().tz
    return jsonify({
        "now": now().astimezone(tz).isoformat(timespec="seconds"),
        "date": day.isoformat(),
        "arrivals": data.arrivals(day),
        "units": units,
        "totals": totals,
        "stations": [dict(s.as_json(), status_label=_(STATION_STATUS[s.status]))
                     for s in data.stations(day)],
    })
