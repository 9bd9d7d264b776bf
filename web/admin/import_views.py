"""Importing units, employees, scans and excuses from CSV/XLSX with a preview (issue 5).

Two steps. Uploading a file keeps it in ``instance/uploads/<random token>.<ext>`` (never a
name the user chose) and runs the importer in a separate session that is rolled back: the
page shows what would be created, updated or left unchanged and every bad row, and nothing
is saved. Confirming (POST with the token) runs the importer on the request's session, which
the request commits once; the importer writes the audit entry itself, under the name the
admin's file had (its base name, carried by the preview's form), never the server's path. The
file is then deleted; unconfirmed uploads older than a day are swept on the next upload.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from attendance import imports
from attendance.audit_details import file_name
from attendance.db import instance_path
from web.admin import bp
from web.admin.forms import IMPORT_KINDS, ConfirmImportForm, ImportForm
from web.db import domain_config, get_db, now
from web.i18n import _, error_text
from web.security import current_account, roles_required

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # app.config["IMPORT_MAX_BYTES"] overrides it
EXTENSIONS = (".csv", ".xlsx")
UPLOAD_NAME = re.compile(r"^[A-Za-z0-9_-]{32,64}\.(csv|xlsx)$")
STALE_SECONDS = 24 * 3600


def _uploads() -> Path:
    folder = instance_path() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    """Forget previews nobody confirmed, so the folder does not grow without end."""
    cutoff = time.time() - STALE_SECONDS
    for path in folder.iterdir():
        if UPLOAD_NAME.match(path.name) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _run(session, kind: str, path: Path, skip_bad_rows: bool,
         filename: str | None = None) -> imports.ImportResult:
    function = {
        "units": imports.import_units, "employees": imports.import_employees,
        "scans": imports.import_scans, "excuses": imports.import_excuses,
    }[kind]
    return function(session, path, skip_bad_rows=skip_bad_rows,
                    actor=current_account().username, now=now(), filename=filename,
                    config=domain_config())


def _preview(kind: str, path: Path) -> imports.ImportResult:
    """The importer's answer with every bad row reported, in a session that is rolled back."""
    factory = current_app.extensions["attendance"]["session_factory"]
    with factory() as session:
        try:
            return _run(session, kind, path, skip_bad_rows=True)
        finally:
            session.rollback()


def _form_page(form: ImportForm, status: int = 200):
    return render_template("admin/import.html", form=form, kinds=IMPORT_KINDS,
                           max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), status


@bp.route("/import", methods=["GET", "POST"])
@roles_required("admin")
def import_upload():
    form = ImportForm()
    if request.method == "GET":
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, 400)
    upload = request.files.get("file")
    suffix = Path(upload.filename).suffix.lower() if upload and upload.filename else ""
    if not upload or not upload.filename:
        form.kind.errors.append("Chưa chọn tệp")
        return _form_page(form, 400)
    if suffix not in EXTENSIONS:
        form.kind.errors.append("Chỉ nhận tệp CSV hoặc XLSX")
        return _form_page(form, 400)
    limit = current_app.config.get("IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES)
    with upload.stream as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        form.kind.errors.append("Tệp quá lớn (tối đa 5 MB)")
        return _form_page(form, 413)
    # The name alone: some browsers send the folder it was picked from too.
    filename = file_name(upload.filename)[:255]
    folder = _uploads()
    _sweep(folder)
    name = f"{secrets.token_urlsafe(32)}{suffix}"
    path = folder / name
    path.write_bytes(data)
    try:
        result = _preview(form.kind.data, path)
    except imports.ImportFileError as exc:
        path.unlink(missing_ok=True)
        form.kind.errors.append(_("Không đọc được tệp: {reason}", reason=error_text(exc)))
        return _form_page(form, 400)
    confirm = ConfirmImportForm(formdata=None, kind=form.kind.data, upload=name,
                                filename=filename)
    return render_template("admin/import_preview.html", result=result, form=confirm,
                           kind_label=dict(IMPORT_KINDS)[form.kind.data], filename=filename)


@bp.route("/import/confirm", methods=["POST"])
@roles_required("admin")
def import_confirm():
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not UPLOAD_NAME.match(form.upload.data or ""):
        abort(400)
    path = _uploads() / form.upload.data
    if not path.is_file():
        flash(_("Tệp đã hết hạn hoặc đã được nhập; hãy tải lên lại."), "error")
        return redirect(url_for("admin.import_upload"), 303)
    # A preview page without the name (or one sent without it) still keeps the folder out.
    filename = file_name(form.filename.data) if form.filename.data else path.name
    try:
        result = _run(get_db(), form.kind.data, path, skip_bad_rows=bool(form.skip_bad_rows.data),
                      filename=filename)
    except imports.ImportFileError as exc:
        path.unlink(missing_ok=True)
        flash(_("Không đọc được tệp: {reason}", reason=error_text(exc)), "error")
        return redirect(url_for("admin.import_upload"), 303)
    if not result.applied:
        # Refused as a whole (bad rows and no "skip"): the request rolls back, the file stays
        # so the admin can confirm again with "bỏ qua dòng lỗi".
        return render_template("admin/import_preview.html", result=result, form=form,
                               kind_label=dict(IMPORT_KINDS)[form.kind.data],
                               filename=filename, refused=True), 422
    path.unlink(missing_ok=True)
    counts = {k: v for k, v in result.counts().items() if k != "errors"}
    flash(_(
        "Đã xử lý {rows} dòng: thêm mới {created}, cập nhật {updated}, không đổi {unchanged}, bỏ qua {skipped}.",
        **counts), "success")
    return redirect(url_for("admin.import_upload"), 303)
