"""Views of the violations blueprint: the log, its exports, and repeat offenders."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from attendance import exports
from attendance.reports import (
    EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS, FINDING_KINDS, KIND_LABELS, SOURCE_LABELS,
    STATUS_LABELS, compile_monthly, month_bounds, offenders_of,
)
from web.db import domain_config, get_db
from web.format import Count, Page
from web.i18n import _
from web.reports.common import (
    download, issuer, month_arg, pdf_refused, request_tree, today, unit_arg, unit_not_found,
    unit_picker, yesterday,
)
from web.errors import bad_request
from web.security import roles_required, visible_units
from web.violations import LOG_ROLES, bp
from web.violations.query import (
    BadFilter, UnknownUnit, includes_today, page_args, parse, parse_unit, run,
)

LOG_FORMATS = ("xlsx", "csv", "pdf")
OFFENDER_FORMATS = ("xlsx", "csv", "pdf")


def _texts(labels: dict[str, str]) -> dict[str, str]:
    """Labels as shown (capitalized, in the user's language), translated once per page."""
    return {key: _(label.capitalize()) for key, label in labels.items()}


def _query():
    try:
        return parse(request.args)
    except BadFilter:
        raise bad_request("log_filter") from None
    except UnknownUnit as exc:
        unit_not_found(str(exc))


def _bad_filter(exc: BadFilter):
    """The log page with the form as the user filled it and what is wrong above it."""
    try:
        unit = parse_unit(request.args)
    except UnknownUnit:
        unit = None
    return _log_page(unit, error=exc.shown, form=request.args.to_dict()), 400


def _log_page(unit, **args) -> str:
    """The log page; its filter form (units, kinds, statuses) is the same with or without rows."""
    return render_template("violations/log.html", picker=unit_picker(unit),
                           kinds=[(k, KIND_LABELS[k]) for k in FINDING_KINDS],
                           status_labels=STATUS_LABELS, **args)


@bp.route("")
@roles_required(*LOG_ROLES)
def log():
    try:
        query = parse(request.args)
        number, per_page = page_args(request.args)
    except BadFilter as exc:
        return _bad_filter(exc)
    except UnknownUnit as exc:
        unit_not_found(str(exc))
    found = run(query, offset=(number - 1) * per_page, limit=per_page, tree=request_tree())
    # Past the count, the pager knows only that one more page exists.
    page = Page(found.rows, number, per_page, found.total + (not found.exact))
    if not found.rows and found.exact and number > page.pages:  # past the end: the last page
        return redirect(url_for("violations.log", **{**request.args.to_dict(flat=False),
                                                     "page": page.pages}))
    return _log_page(
        query.unit, query=query, rows=found.rows, page=page, total_text=Count(found.total),
        exact=found.exact, args=query.args(), form=query.args(),
        source_text=_texts(SOURCE_LABELS), status_text=_texts(STATUS_LABELS),
        excuse_kinds=EXCUSE_KIND_LABELS, excuse_parts=EXCUSE_PART_LABELS, formats=LOG_FORMATS,
        partial=includes_today(query), tz=domain_config().tz,
    )


@bp.route("/export/<fmt>")
@roles_required(*LOG_ROLES)
def export(fmt: str):
    if fmt not in LOG_FORMATS:
        abort(404)
    query = _query()
    # A PDF past its limit is refused with no more rows read than tell it (71,000 rows took
    # 13 minutes and 1.7 GB of one worker); the spreadsheets take every row.
    rows = run(query, limit=exports.PDF_MAX_ROWS + 1 if fmt == "pdf" else None).rows
    config = domain_config()
    if fmt == "csv":
        data = exports.violations_csv(rows, config)
    elif fmt == "xlsx":
        data = exports.violations_xlsx(rows, config)
    else:
        # The log is the inspectors' document (or a unit head's, of his own tree): it is never
        # headed by the unit it is filtered to, as if that unit had issued it.
        unit_name, head = issuer(None)
        try:
            data = exports.violations_pdf(rows, config, first=query.first, last=query.last,
                                          unit_name=unit_name, issued_on=today(),
                                          signer_name=head, max_rows=exports.PDF_MAX_ROWS)
        except exports.TooManyRows:
            return pdf_refused("violations.log", **query.args())
    scope = query.unit.code if query.unit else "tat-ca"
    return download(data, fmt, f"nhat-ky-vi-pham-{query.first}-{query.last}-{scope}")


def _offenders():
    config = domain_config()
    first = month_arg()
    unit = unit_arg()
    report = compile_monthly(get_db(), config, first, unit.code if unit else None,
                             unit_ids=visible_units(), through=yesterday())
    return first, unit, offenders_of(report, config)


@bp.route("/offenders")
@roles_required(*LOG_ROLES)
def offenders():
    first, unit, found = _offenders()
    return render_template(
        "violations/offenders.html", first=first, unit=unit, offenders=found,
        picker=unit_picker(unit), thresholds=domain_config().reports, formats=OFFENDER_FORMATS,
        in_progress=first == today().replace(day=1),
        log_to=max(first, min(month_bounds(first)[1], yesterday())),
    )


@bp.route("/offenders/export/<fmt>")
@roles_required(*LOG_ROLES)
def offenders_export(fmt: str):
    if fmt not in OFFENDER_FORMATS:
        abort(404)
    first, unit, found = _offenders()
    if fmt == "csv":
        data = exports.offenders_csv(first, found)
    elif fmt == "xlsx":
        data = exports.offenders_xlsx(first, found)
    else:
        unit_name, head = issuer(None)  # as the log's
        data = exports.offenders_pdf(first, found, domain_config(), unit_name=unit_name,
                                     issued_on=today(), signer_name=head)
    scope = unit.code if unit else "tat-ca"
    return download(data, fmt, f"vi-pham-nhieu-lan-{first:%Y-%m}-{scope}")
